//! Documents kept with a payment method, such as the customer's signed ACH debit
//! authorization: what a file is (judged by its content, never its name), how large it may
//! be, and when it was signed.

use crate::error::FieldError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where documents are uploaded (POST) and opened (GET `/{id}`).
pub const DOCUMENTS_PATH: &str = "/api/documents";

/// The largest file Settle keeps: 10 MB.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The form field an upload belongs to.
pub const FIELD: &str = "document";

/// The file types an authorization may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentType {
    Pdf,
    Png,
    Jpeg,
}

impl DocumentType {
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::Png => "image/png",
            DocumentType::Jpeg => "image/jpeg",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentType::Pdf => "PDF",
            DocumentType::Png => "PNG image",
            DocumentType::Jpeg => "JPEG image",
        }
    }

    /// What the first bytes of a file say it is.
    pub fn sniff(bytes: &[u8]) -> Option<DocumentType> {
        if bytes.starts_with(b"%PDF-") {
            Some(DocumentType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(DocumentType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentType::Jpeg)
        } else {
            None
        }
    }
}

/// Checks an uploaded file: not empty, at most [`MAX_BYTES`], and a PDF, PNG or JPEG by its
/// content. A file named `.pdf` that is not one is refused.
pub fn check_upload(file_name: &str, bytes: &[u8]) -> Result<DocumentType, FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "The file is empty. Choose the signed authorization.",
        ));
    }
    check_size(bytes.len())?;
    let kind = DocumentType::sniff(bytes).ok_or_else(|| {
        let claimed = file_name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
        let message = match claimed.as_deref() {
            Some("pdf") => "This file is named .pdf but is not a PDF. Upload the signed authorization as a PDF, PNG or JPEG.",
            Some("png") | Some("jpg") | Some("jpeg") => "This file is named as an image but is not a PNG or JPEG. Upload a PDF, PNG or JPEG.",
            _ => "This file type is not accepted. Upload a PDF, PNG or JPEG.",
        };
        FieldError::new(FIELD, message)
    })?;
    Ok(kind)
}

/// Checks a file's size before (in the browser) and after upload.
pub fn check_size(len: usize) -> Result<(), FieldError> {
    if len > MAX_BYTES {
        return Err(FieldError::new(
            FIELD,
            format!(
                "The file is {} — larger than the 10 MB limit. Scan it at a lower resolution or as a PDF.",
                size_label(len as i64)
            ),
        ));
    }
    Ok(())
}

/// A file name fit to keep and show: its last path part, at most 120 characters, no
/// control characters or quotes.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "document".to_string()
    } else {
        cleaned.trim().to_string()
    }
}

/// `2.4 MB`, `812 KB`, `96 bytes`.
pub fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", (bytes + 512) / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The date an authorization was signed, as typed (`YYYY-MM-DD` from a date input):
/// required, not in the future, not before 2000.
pub fn parse_signed_on(raw: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let field = "signed_on";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(
            field,
            "Enter the date the authorization was signed.",
        ));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "Enter the date as YYYY-MM-DD."))?;
    if date > today {
        return Err(FieldError::new(
            field,
            "The signed date cannot be in the future.",
        ));
    }
    if date < NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date") {
        return Err(FieldError::new(
            field,
            "The signed date is too far in the past. Check it for typos.",
        ));
    }
    Ok(date)
}

/// An uploaded file as the upload answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedDocument {
    pub id: crate::DocumentId,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_by_content() {
        assert_eq!(
            check_upload("a.pdf", b"%PDF-1.4\n...").unwrap(),
            DocumentType::Pdf
        );
        assert_eq!(
            check_upload("scan", b"\x89PNG\r\n\x1a\n....").unwrap(),
            DocumentType::Png
        );
        assert_eq!(
            check_upload("x.bin", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            DocumentType::Jpeg
        );
        let msg = |name: &str, bytes: &[u8]| check_upload(name, bytes).unwrap_err().message;
        assert!(msg("a.pdf", b"").starts_with("The file is empty"));
        assert!(msg("a.pdf", b"hello").starts_with("This file is named .pdf but is not a PDF"));
        assert!(msg("a.docx", b"PK\x03\x04").starts_with("This file type is not accepted"));
        let big = vec![b'%'; MAX_BYTES + 1];
        assert!(msg("a.pdf", &big).contains("larger than the 10 MB limit"));
        assert!(check_size(MAX_BYTES).is_ok());
    }

    #[test]
    fn names_sizes_dates() {
        assert_eq!(clean_file_name("C:\\scans\\auth \"v2\".pdf"), "auth v2.pdf");
        assert_eq!(clean_file_name("/"), "document");
        assert_eq!(size_label(11 * 1024 * 1024), "11.0 MB");
        assert_eq!(size_label(2048), "2 KB");
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(parse_signed_on("2026-11-26", today).unwrap(), today);
        let msg = |raw: &str| parse_signed_on(raw, today).unwrap_err().message;
        assert_eq!(
            msg("2026-11-27"),
            "The signed date cannot be in the future."
        );
        assert_eq!(msg(""), "Enter the date the authorization was signed.");
        assert_eq!(msg("11/02/2026"), "Enter the date as YYYY-MM-DD.");
    }
}

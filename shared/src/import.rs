//! CSV imports (System → Import): what a file holds, what is wrong with it line by line, and
//! what committing it did.

use serde::{Deserialize, Serialize};

/// Where a CSV file is uploaded (raw bytes, `?kind=&name=`).
pub const IMPORTS_PATH: &str = "/api/imports";
/// Where the Payments screen's CSV export is read (with its filter).
pub const PAYMENTS_CSV_PATH: &str = "/exports/payments.csv";

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Companies,
    Contacts,
    Invoices,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [
        ImportKind::Companies,
        ImportKind::Contacts,
        ImportKind::Invoices,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ImportKind::Companies => "companies",
            ImportKind::Contacts => "contacts",
            ImportKind::Invoices => "invoices",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Companies => "Companies",
            ImportKind::Contacts => "AP contacts",
            ImportKind::Invoices => "Invoices",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == raw)
    }

    /// The columns a file must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            ImportKind::Companies => &["company_id", "name"],
            ImportKind::Contacts => &["company_id", "email", "name"],
            ImportKind::Invoices => &["company_id", "number", "issue_date", "due_date", "total"],
        }
    }

    /// The columns a file may have besides.
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            ImportKind::Companies => &["currency", "billing_state"],
            ImportKind::Contacts => &["title", "phone"],
            ImportKind::Invoices => &["po_number", "currency", "status"],
        }
    }

    /// A first line that works, e.g. for the screen's help.
    pub fn example_header(self) -> String {
        self.required()
            .iter()
            .chain(self.optional())
            .copied()
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One thing wrong in a file: its line (1 is the header), column and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// How to commit a file with errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitMode {
    /// Every row or none: a file with any error changes nothing.
    AllOrNothing,
    /// The valid rows; the others are left out.
    ValidOnly,
}

/// What a file would do (preview) or did (committed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Data rows in the file.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows with at least one error.
    pub invalid: usize,
}

/// The preview after an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub id: crate::ImportId,
    pub kind: ImportKind,
    pub file_name: String,
    pub counts: ImportCounts,
    /// The first errors (at most [`ImportPreview::MAX_ERRORS`]), by line.
    pub errors: Vec<RowError>,
}

impl ImportPreview {
    pub const MAX_ERRORS: usize = 500;
}

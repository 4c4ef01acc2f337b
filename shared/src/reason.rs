//! Reason codes: the reasons a short payment and a refund are given with, a list the seller's
//! admins keep (code, label, offered or not). The code is what receipts, the API and the export
//! carry; "other" is always offered and needs a comment.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// The code every list has, always offered: it needs a comment saying why.
pub const OTHER: &str = "other";

/// The longest code and label.
pub const CODE_MAX: usize = 40;
pub const LABEL_MAX: usize = 80;

/// Which list a reason belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "snake_case")
)]
pub enum ReasonKind {
    /// Why an invoice is paid less than its balance.
    ShortPay,
    /// Why money is given back (a refund, a reversal, a void).
    Refund,
}

impl ReasonKind {
    /// The list's heading.
    pub fn label(self) -> &'static str {
        match self {
            ReasonKind::ShortPay => "Short-pay reasons",
            ReasonKind::Refund => "Refund reasons",
        }
    }

    /// Its name in forms and URLs.
    pub fn key(self) -> &'static str {
        match self {
            ReasonKind::ShortPay => "short_pay",
            ReasonKind::Refund => "refund",
        }
    }
}

/// One reason of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCode {
    pub kind: ReasonKind,
    pub code: String,
    pub label: String,
    /// Offered in the forms; an inactive code still names what was given with it.
    pub active: bool,
}

impl ReasonCode {
    /// "Other" asks for a comment.
    pub fn needs_comment(&self) -> bool {
        self.code == OTHER
    }
}

/// Whether `code` has the shape of a code: a lower-case letter, then lower-case letters,
/// digits or underscores, at most [`CODE_MAX`] in all.
pub fn is_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && code.len() <= CODE_MAX
}

/// A code made from a label: "Goods returned (RMA)" → `goods_returned_rma`.
pub fn code_from_label(label: &str) -> String {
    let mut code = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            code.push(c.to_ascii_lowercase());
        } else if !code.is_empty() && !code.ends_with('_') {
            code.push('_');
        }
    }
    let code: String = code.trim_matches('_').chars().take(CODE_MAX).collect();
    code.trim_end_matches('_').to_string()
}

/// A new reason as an admin types it: the label, and the code (made from the label when left
/// empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCodeInput {
    pub label: String,
    #[serde(default)]
    pub code: String,
}

impl ReasonCodeInput {
    /// The checked `(code, label)`; every error names its field.
    pub fn parse(&self) -> Result<(String, String), FieldError> {
        let label = parse_label(&self.label)?;
        let code = match self.code.trim() {
            "" => code_from_label(&label),
            typed => typed.to_string(),
        };
        if !is_code(&code) {
            return Err(FieldError::new(
                "code",
                format!(
                    "A code is a lower-case letter, then lower-case letters, digits or underscores ({CODE_MAX} at most), e.g. pricing_difference."
                ),
            ));
        }
        Ok((code, label))
    }
}

/// A label, checked: its spaces tidied, 1 to [`LABEL_MAX`] characters.
pub fn parse_label(label: &str) -> Result<String, FieldError> {
    let label = crate::format::one_line(label);
    if label.is_empty() {
        return Err(FieldError::new(
            "label",
            "Enter the reason as staff will see it.",
        ));
    }
    if label.chars().count() > LABEL_MAX {
        return Err(FieldError::new(
            "label",
            format!("Keep the label to {LABEL_MAX} characters."),
        ));
    }
    Ok(label)
}

/// A short payment's reason as receipts say it: "Pricing difference: agreed 5 % off", the
/// label alone, or (written before codes) the free text alone.
pub fn short_pay_text(label: Option<&str>, comment: Option<&str>) -> Option<String> {
    match (label, comment) {
        (Some(l), Some(c)) => Some(format!("{l}: {c}")),
        (Some(l), None) => Some(l.to_string()),
        (None, Some(c)) => Some(c.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_made_from_labels_and_checked() {
        assert_eq!(
            code_from_label("Goods returned (RMA)"),
            "goods_returned_rma"
        );
        assert_eq!(code_from_label("  -- 5% off!"), "5_off");
        assert!(!is_code(&code_from_label("  -- 5% off!")));
        assert!(is_code("pricing"));
        assert!(!is_code("Pricing"));
        assert!(!is_code(""));
        assert!(!is_code(&"a".repeat(41)));
        let made = ReasonCodeInput {
            label: "  Freight   not agreed ".into(),
            code: String::new(),
        }
        .parse()
        .unwrap();
        assert_eq!(
            made,
            ("freight_not_agreed".into(), "Freight not agreed".into())
        );
        let err = ReasonCodeInput {
            label: "5% off".into(),
            code: String::new(),
        }
        .parse()
        .unwrap_err();
        assert_eq!(err.field, "code");
        assert_eq!(
            ReasonCodeInput::default().parse().unwrap_err().field,
            "label"
        );
        let long = code_from_label(&"word ".repeat(20));
        assert!(is_code(&long), "{long}");
    }

    #[test]
    fn a_short_payment_says_its_label_and_comment() {
        assert_eq!(
            short_pay_text(Some("Pricing difference"), Some("5 % agreed")).as_deref(),
            Some("Pricing difference: 5 % agreed")
        );
        assert_eq!(
            short_pay_text(None, Some("typed before codes")).as_deref(),
            Some("typed before codes")
        );
        assert_eq!(short_pay_text(None, None), None);
    }
}

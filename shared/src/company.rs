//! Companies: the seller's customers.

use crate::error::FieldError;
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The seller's own identifier for a company ("Company ID"), e.g. `C1007`.
/// Upper-case letters, digits and dashes, 1–20 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CompanyCode(String);

impl CompanyCode {
    pub const MAX_LEN: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(FieldError::new("company_id", "Enter a Company ID."));
        }
        if code.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                "company_id",
                format!("A Company ID has at most {} characters.", Self::MAX_LEN),
            ));
        }
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FieldError::new(
                "company_id",
                "A Company ID has only letters, digits and dashes.",
            ));
        }
        Ok(CompanyCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CompanyCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CompanyCode::parse(&s)
    }
}

impl From<CompanyCode> for String {
    fn from(c: CompanyCode) -> String {
        c.0
    }
}

impl fmt::Display for CompanyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A company search as typed: trimmed, inner whitespace collapsed, at most 100 characters.
/// Empty means "all companies".
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CompanySearch(String);

impl CompanySearch {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = crate::format::one_line(raw);
        if text.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                "q",
                format!("Search for at most {} characters.", Self::MAX_LEN),
            ));
        }
        Ok(CompanySearch(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One row of CRM → Companies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanySummary {
    pub code: CompanyCode,
    pub name: String,
    pub open_balance: Money,
    pub open_invoices: i64,
    pub overdue: Money,
}

/// The header of a company page: who it is and its key figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyDetail {
    pub code: CompanyCode,
    pub name: String,
    pub open_balance: Money,
    pub open_invoices: i64,
    pub overdue: Money,
    pub contacts: Vec<Contact>,
}

/// A person at a company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_codes() {
        assert_eq!(CompanyCode::parse(" c1007 ").unwrap().as_str(), "C1007");
        assert_eq!(CompanyCode::parse("ACME-01").unwrap().as_str(), "ACME-01");
        assert!(CompanyCode::parse("").is_err());
        assert!(CompanyCode::parse("A B").is_err());
        assert!(CompanyCode::parse("Ö1").is_err());
        assert!(CompanyCode::parse(&"A".repeat(21)).is_err());
    }

    #[test]
    fn company_searches() {
        assert_eq!(
            CompanySearch::parse("  acme   supply ").unwrap().as_str(),
            "acme supply"
        );
        assert!(CompanySearch::parse("").unwrap().is_empty());
        assert!(CompanySearch::parse(&"x".repeat(101)).is_err());
    }
}

//! ACH debit authorizations on request: every bank account's authorization (the document staff
//! uploaded, or the record of what the customer agreed to in the portal), those of revoked
//! accounts for two years after, listed for staff and exported as one zip with an index.

use crate::format::parse_day;
use crate::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where staff download the zip (the same query string as the page).
pub const AUTHORIZATIONS_ZIP_PATH: &str = "/exports/ach-authorizations.zip";

/// How long an authorization is kept after it was revoked (the network's rule): two years.
pub const KEPT_AFTER_REVOCATION_DAYS: i64 = 730;

/// The export's columns (the zip's `index.csv`).
pub const INDEX_COLUMNS: [&str; 17] = [
    "method_id",
    "company_code",
    "company_name",
    "account_holder",
    "holder_type",
    "bank_name",
    "routing_number",
    "account_type",
    "account_last4",
    "authorization",
    "signed_by",
    "signed_at",
    "signed_from_address",
    "added_at",
    "revoked_at",
    "file",
    "sha256",
];

/// The request as typed (`?from=&to=&company=`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationsInput {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
}

impl AuthorizationsInput {
    /// The query string that asks for this request again, as typed.
    pub fn query_string(&self) -> String {
        crate::format::query_string(&[
            ("from", &self.from),
            ("to", &self.to),
            ("company", &self.company),
        ])
    }
}

/// The request, checked: the days the authorizations were given in (the seller's days), and
/// one company.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationsFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A Company ID.
    pub company: Option<String>,
}

impl AuthorizationsFilter {
    pub fn parse(input: &AuthorizationsInput) -> Result<Self, FieldError> {
        let from = parse_day("from", input.from.as_deref())?;
        let to = parse_day("to", input.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(FieldError::new(
                    "to",
                    format!("Choose a day on or after {f}."),
                ));
            }
        }
        let company = match input.company.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c)
                if c.len() <= 20 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') =>
            {
                Some(c.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(FieldError::new(
                    "company",
                    "Enter a Company ID such as C1001, or leave it empty for every company.",
                ))
            }
        };
        Ok(AuthorizationsFilter { from, to, company })
    }
}

/// How an authorization was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationSource {
    /// A signed document staff uploaded.
    Document,
    /// Agreed in the portal (or through a pay link): the record Settle kept of it.
    Portal,
}

impl AuthorizationSource {
    pub fn label(self) -> &'static str {
        match self {
            AuthorizationSource::Document => "Signed document",
            AuthorizationSource::Portal => "Agreed online",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            AuthorizationSource::Document => "document",
            AuthorizationSource::Portal => "portal",
        }
    }
}

/// One bank account's authorization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRow {
    pub method_id: i64,
    pub company_code: String,
    pub company_name: String,
    /// `Chase •••• 6789`.
    pub account: String,
    pub holder_name: String,
    pub source: AuthorizationSource,
    /// Who signed: the typed name of an online agreement, the account holder on a document.
    pub signed_by: String,
    /// When: the time of an online agreement, the day written on a document.
    pub signed_at: String,
    /// Where from (online agreements).
    pub address: Option<String>,
    pub added_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub file_name: String,
}

/// The authorizations that match, the first of them, and how many in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationList {
    pub rows: Vec<AuthorizationRow>,
    pub total: u64,
}

/// What an online agreement's record says of who signed, when and from where (the lines
/// `Signed (typed name):`, `At:` and `From address:` of the record Settle keeps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgreementRecord {
    pub signed_by: Option<String>,
    pub at: Option<String>,
    pub address: Option<String>,
}

impl AgreementRecord {
    pub fn read(text: &str) -> AgreementRecord {
        let field = |prefix: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty() && v != "unknown")
        };
        AgreementRecord {
            signed_by: field("Signed (typed name):"),
            at: field("At:"),
            address: field("From address:"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_checked_field_by_field() {
        let input = |from: &str, to: &str, company: &str| AuthorizationsInput {
            from: Some(from.into()),
            to: Some(to.into()),
            company: Some(company.into()),
        };
        let f = AuthorizationsFilter::parse(&input("2026-01-01", "2026-12-31", " c1001 ")).unwrap();
        assert_eq!(f.from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(f.company.as_deref(), Some("C1001"));
        assert_eq!(
            AuthorizationsFilter::parse(&AuthorizationsInput::default()).unwrap(),
            AuthorizationsFilter::default()
        );
        for (from, to, company, field) in [
            ("2026-13-01", "", "", "from"),
            ("", "31/12/2026", "", "to"),
            ("2026-12-02", "2026-12-01", "", "to"),
            ("", "", "C1001; DROP", "company"),
        ] {
            assert_eq!(
                AuthorizationsFilter::parse(&input(from, to, company))
                    .unwrap_err()
                    .field,
                field
            );
        }
        assert_eq!(
            input("2026-01-01", "", "C1 01").query_string(),
            "from=2026-01-01&company=C1+01"
        );
    }

    #[test]
    fn an_online_agreement_says_who_when_and_from_where() {
        let text = "ACH debit authorization v2\n\nI authorize…\n\nAgreed: yes\nSigned (typed name): Dana Reyes\n\
                    User: ap@c1001.example (user id 12)\nCompany: Acme\nAt: 2026-12-01T10:00:00+00:00\nFrom address: 203.0.113.9\n";
        assert_eq!(
            AgreementRecord::read(text),
            AgreementRecord {
                signed_by: Some("Dana Reyes".into()),
                at: Some("2026-12-01T10:00:00+00:00".into()),
                address: Some("203.0.113.9".into()),
            }
        );
        assert_eq!(
            AgreementRecord::read("From address: unknown\n").address,
            None
        );
    }
}

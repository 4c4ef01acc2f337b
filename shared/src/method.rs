//! Saved payment methods as Settle shows and manages them: the gateway tokenizer's request
//! and answer, what adding a method sends to Settle (a token and display fields, never a
//! number), the System → Payment Methods list and its search, and a method's detail.

use crate::bank::{bank_name, AccountType};
use crate::company::CompanyCode;
use crate::error::FieldError;
use crate::page::parse_page;
use crate::payment::MethodOption;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where the browser sends card and account numbers: the sandbox gateway's tokenizer, its
/// own HTTP endpoint as a hosted gateway's would be. Settle's server functions never see
/// the numbers.
pub const SANDBOX_TOKENIZER_PATH: &str = "/sandbox-gateway/v1/tokens";

/// What the browser sends the tokenizer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TokenizeRequest {
    Card {
        number: String,
        exp_month: u32,
        exp_year: i32,
        cvc: String,
        postal_code: String,
        holder_name: String,
    },
    BankAccount {
        routing_number: String,
        account_number: String,
        holder_name: String,
    },
}

/// Prints without the numbers.
impl std::fmt::Debug for TokenizeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenizeRequest::Card { .. } => f.write_str("TokenizeRequest::Card(redacted)"),
            TokenizeRequest::BankAccount { .. } => {
                f.write_str("TokenizeRequest::BankAccount(redacted)")
            }
        }
    }
}

/// The tokenizer's answer: a token and what may be shown of the method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizeResponse {
    pub token: String,
    pub last4: String,
    pub brand: Option<String>,
    pub exp_month: Option<u32>,
    pub exp_year: Option<i32>,
    pub routing_number: Option<String>,
    pub bank_name: Option<String>,
}

/// The tokenizer's refusal, with the field it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizeError {
    pub error: FieldError,
}

/// Adding a card: the tokenizer's token and the name on the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCardInput {
    /// Company ID (staff); ignored in the customer portal, where it is the user's own.
    pub company: String,
    pub token: String,
    pub holder_name: String,
}

/// Adding an ACH bank account: the token, the holder, and the signed debit authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBankAccountInput {
    pub company: String,
    pub token: String,
    pub holder_name: String,
    pub holder_type: String,
    pub account_type: String,
    /// The uploaded authorization document; required.
    pub document_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub signed_on: String,
}

/// The ACH debit authorization a customer agrees to in the portal. A new wording gets a new
/// version; what was agreed to is kept word for word with the method.
pub const ACH_AUTHORIZATION_VERSION: &str = "ACH-DEBIT-2026-11";

/// The account an ACH debit authorization names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorizedAccount<'a> {
    /// The company's name (`companies.name`, as the session and the database both give it).
    pub company: &'a str,
    pub routing_number: &'a str,
    pub account_type: AccountType,
    /// The account number's last 4 digits (`····` while the payer has not typed them).
    pub last4: &'a str,
}

/// The authorization's wording ([`ACH_AUTHORIZATION_VERSION`]): the one function both the
/// portal form (what the customer reads) and the stored authorization document (what is kept)
/// use, so the two are the same text, byte for byte.
pub fn ach_authorization_text(a: AuthorizedAccount<'_>) -> String {
    let bank = bank_name(a.routing_number).unwrap_or("the bank");
    let kind = match a.account_type {
        AccountType::Checking => "checking",
        AccountType::Savings => "savings",
    };
    format!(
        "I authorize the seller to electronically debit the {kind} account •••• {last4} at {bank} \
         (routing number {routing}) of {company} for the payments I make or approve in this portal, \
         and, if necessary, to credit it to correct an erroneous debit. This authorization stays in \
         effect until I deactivate the account in the portal or notify the seller in writing, in \
         time for them to act on it. I confirm I am authorized to allow debits to this account.",
        last4 = a.last4,
        routing = a.routing_number,
        company = a.company,
    )
}

/// Adding an ACH account in the customer portal: the customer authorizes the debit
/// themselves instead of uploading a signed document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalBankAccountInput {
    pub token: String,
    pub holder_name: String,
    pub holder_type: String,
    pub account_type: String,
    /// The authorization version shown ([`ACH_AUTHORIZATION_VERSION`]).
    pub authorization_version: String,
    /// The customer's name, typed as a signature.
    pub signed_name: String,
    pub agreed: bool,
}

impl PortalBankAccountInput {
    /// Checks the in-portal authorization: the current version, a typed name, the box ticked.
    pub fn check_authorization(&self) -> Result<String, FieldError> {
        if self.authorization_version != ACH_AUTHORIZATION_VERSION {
            return Err(FieldError::new(
                "agreed",
                "The authorization wording has changed. Reload the page and read it again.",
            ));
        }
        let name = self
            .signed_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            return Err(FieldError::new(
                "signed_name",
                "Type your full name to sign.",
            ));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new(
                "signed_name",
                "The name is too long (100 characters at most).",
            ));
        }
        if !self.agreed {
            return Err(FieldError::new(
                "agreed",
                "Tick the box to authorize the debits.",
            ));
        }
        Ok(name)
    }
}

/// Active, inactive, or a card past its expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MethodStatus {
    Active,
    Inactive,
    Expired,
}

impl MethodStatus {
    pub fn of(option: &MethodOption, active: bool, today: NaiveDate) -> Self {
        if !active {
            MethodStatus::Inactive
        } else if option.is_expired(today) {
            MethodStatus::Expired
        } else {
            MethodStatus::Active
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MethodStatus::Active => "Active",
            MethodStatus::Inactive => "Inactive",
            MethodStatus::Expired => "Expired",
        }
    }

    /// The badge's colour class.
    pub fn tone(self) -> &'static str {
        match self {
            MethodStatus::Active => "badge-green",
            MethodStatus::Inactive => "badge-neutral",
            MethodStatus::Expired => "badge-amber",
        }
    }
}

/// One saved method in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodSummary {
    pub method: MethodOption,
    pub company_code: CompanyCode,
    pub company_name: String,
    pub active: bool,
    pub status: MethodStatus,
    /// Who added it (a staff member or customer user), if known.
    pub added_by: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// The authorization document kept with a method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub signed_on: Option<NaiveDate>,
    pub uploaded_by: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

/// One entry of a method's audit history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub what: String,
}

/// A saved method with everything kept about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodDetail {
    pub summary: MethodSummary,
    pub routing_number: Option<String>,
    pub holder_type: Option<String>,
    pub document: Option<DocumentInfo>,
    pub history: Vec<HistoryEntry>,
}

/// Columns the methods list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MethodSort {
    Company,
    Type,
    Status,
    Added,
}

impl MethodSort {
    pub const ALL: [MethodSort; 4] = [
        MethodSort::Company,
        MethodSort::Type,
        MethodSort::Status,
        MethodSort::Added,
    ];

    pub fn key(self) -> &'static str {
        match self {
            MethodSort::Company => "company",
            MethodSort::Type => "type",
            MethodSort::Status => "status",
            MethodSort::Added => "added",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        MethodSort::ALL.into_iter().find(|s| s.key() == raw)
    }
}

/// A search of the methods list, as the URL holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodQuery {
    /// Company name or ID, or last 4 digits.
    pub q: String,
    /// The Company ID column filter: an exact Company ID.
    pub company: String,
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    pub page: i64,
}

/// A checked [`MethodQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodSearch {
    pub q: Option<String>,
    pub company: Option<CompanyCode>,
    pub sort: MethodSort,
    pub descending: bool,
    pub page: i64,
}

impl MethodSearch {
    pub fn parse(query: &MethodQuery) -> Result<Self, FieldError> {
        let q = query.q.trim();
        if q.chars().count() > 100 {
            return Err(FieldError::new("q", "The search is too long."));
        }
        let company = match query.company.trim() {
            "" => None,
            c => Some(CompanyCode::parse(c).map_err(|e| FieldError::new("company", e.message))?),
        };
        let sort = MethodSort::parse(&query.sort).unwrap_or(MethodSort::Added);
        let descending = match query.dir.as_str() {
            "asc" => false,
            "desc" => true,
            _ => sort == MethodSort::Added,
        };
        Ok(MethodSearch {
            q: (!q.is_empty()).then(|| q.to_string()),
            company,
            sort,
            descending,
            page: parse_page(Some(&query.page.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, company: &str, sort: &str, dir: &str) -> MethodQuery {
        MethodQuery {
            q: q.into(),
            company: company.into(),
            sort: sort.into(),
            dir: dir.into(),
            page: 0,
        }
    }

    #[test]
    fn searches() {
        let s = MethodSearch::parse(&query(" 4242 ", "", "", "")).unwrap();
        assert_eq!(s.q.as_deref(), Some("4242"));
        assert_eq!((s.sort, s.descending, s.page), (MethodSort::Added, true, 1));
        let s = MethodSearch::parse(&query("", "c1001", "company", "")).unwrap();
        assert_eq!(s.company.unwrap().as_str(), "C1001");
        assert!(!s.descending);
        let e = MethodSearch::parse(&query("", "no such id!", "", "")).unwrap_err();
        assert_eq!(e.field, "company");
    }

    #[test]
    fn tokenize_requests_do_not_print_numbers() {
        let r = TokenizeRequest::Card {
            number: "4242424242424242".into(),
            exp_month: 4,
            exp_year: 2029,
            cvc: "123".into(),
            postal_code: "94107".into(),
            holder_name: "A".into(),
        };
        assert!(!format!("{r:?}").contains("4242"));
        assert!(!format!("{r:?}").contains("123"));
    }
}

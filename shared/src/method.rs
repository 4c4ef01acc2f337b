//! Saved payment methods as Settle shows and manages them: the gateway tokenizer's request
//! and answer, what adding a method sends to Settle (a token and display fields, never a
//! number), the System → Payment Methods list and its search, and a method's detail.

use crate::bank::{bank_name, AccountType};
use crate::card::CardBrand;
use crate::company::CompanyCode;
use crate::error::FieldError;
use crate::page::parse_page;
use crate::MethodId;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Card or ACH bank account: how a method is stored (`payment_methods.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum MethodKind {
    Card,
    Ach,
}

impl MethodKind {
    pub fn label(self) -> &'static str {
        match self {
            MethodKind::Card => "Card",
            MethodKind::Ach => "ACH",
        }
    }
}

/// What only one kind of method has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Instrument {
    Card {
        brand: CardBrand,
        exp_month: u32,
        exp_year: i32,
        /// Credit, debit, prepaid or unknown, as the gateway reported it.
        #[serde(default)]
        funding: crate::card::CardFunding,
    },
    Ach {
        /// The bank, when its routing number is one Settle knows.
        bank_name: Option<String>,
        account_type: AccountType,
    },
}

/// A saved payment method as a payer chooses it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodOption {
    pub id: MethodId,
    pub holder_name: String,
    pub last4: String,
    pub is_default: bool,
    pub instrument: Instrument,
    /// Shown by its label alone (a pay link's holder sees the company's default this way: no
    /// holder name, no expiry).
    #[serde(default)]
    pub label_only: bool,
}

impl MethodOption {
    /// The method as someone who may pay with it but not see it sees it: its label alone.
    pub fn label_only(self) -> Self {
        MethodOption {
            holder_name: String::new(),
            label_only: true,
            ..self
        }
    }

    pub fn kind(&self) -> MethodKind {
        match self.instrument {
            Instrument::Card { .. } => MethodKind::Card,
            Instrument::Ach { .. } => MethodKind::Ach,
        }
    }

    /// `Visa •••• 4242` or `First Sandbox Bank checking •••• 6789`.
    pub fn label(&self) -> String {
        match &self.instrument {
            Instrument::Card { brand, .. } => format!("{} •••• {}", brand.label(), self.last4),
            Instrument::Ach {
                bank_name,
                account_type,
            } => format!(
                "{} {} •••• {}",
                bank_name.as_deref().unwrap_or("Bank account"),
                account_type.as_str(),
                self.last4
            ),
        }
    }

    /// `Expires 04/2028` for cards, `ACH debit` for bank accounts.
    pub fn detail(&self) -> String {
        match &self.instrument {
            Instrument::Card {
                exp_month,
                exp_year,
                ..
            } => format!("Expires {exp_month:02}/{exp_year}"),
            Instrument::Ach { .. } => "ACH debit".to_string(),
        }
    }

    /// `04/2028` for a card.
    pub fn expiry(&self) -> Option<String> {
        match &self.instrument {
            Instrument::Card {
                exp_month,
                exp_year,
                ..
            } => Some(format!("{exp_month:02}/{exp_year}")),
            Instrument::Ach { .. } => None,
        }
    }

    /// A card past its expiry month cannot be charged.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        match &self.instrument {
            Instrument::Card {
                exp_month,
                exp_year,
                ..
            } => (*exp_year, *exp_month) < (today.year(), today.month()),
            Instrument::Ach { .. } => false,
        }
    }
}

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
        /// `checking` or `savings`, for gateways that keep it with the numbers (Stripe).
        #[serde(default)]
        account_type: Option<String>,
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

/// The name on a card or bank account, as typed: not empty, at most 100 characters.
pub fn check_holder_name(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(
            "holder_name",
            "Enter the name on the account.",
        ));
    }
    if v.chars().count() > 100 {
        return Err(FieldError::new(
            "holder_name",
            "The name is too long (100 characters at most).",
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            "holder_name",
            "The name has characters that are not allowed.",
        ));
    }
    Ok(v.to_string())
}

fn check_token(raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 200 || !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            "token",
            "The card or account details were not taken by the payment gateway. Enter them again.",
        ));
    }
    Ok(t.to_string())
}

/// How the add-card form takes a card number: Settle's sandbox tokenizer, or Stripe's own
/// card field (Stripe.js) confirming a SetupIntent made for the company, whose id the form
/// then sends as the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardEntry {
    Sandbox,
    Stripe {
        publishable_key: String,
        client_secret: String,
    },
}

/// Where the browser loads Stripe.js from, as Stripe requires (never a copy).
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";

/// Adding a card, as the form sends it: the tokenizer's token and the name on the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCardInput {
    /// Company ID (staff); a customer adds for their own company.
    pub company: String,
    pub token: String,
    pub holder_name: String,
}

/// A card to save: a token the gateway issued and a checked holder name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCard {
    pub token: String,
    pub holder_name: String,
}

impl NewCard {
    pub fn parse(input: &NewCardInput) -> Result<Self, FieldError> {
        Ok(NewCard {
            token: check_token(&input.token)?,
            holder_name: check_holder_name(&input.holder_name)?,
        })
    }
}

/// The customer's permission to debit the account, as the form sends it: staff upload the
/// signed document; a customer authorizes in the portal by typing their name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizationInput {
    Uploaded {
        /// The uploaded authorization document; required.
        document_id: Option<crate::DocumentId>,
        /// `YYYY-MM-DD`.
        signed_on: String,
    },
    InPortal {
        /// The wording's version shown ([`ACH_AUTHORIZATION_VERSION`]).
        version: String,
        /// The customer's name, typed as a signature.
        signed_name: String,
        agreed: bool,
    },
}

/// Adding an ACH bank account, as the form sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBankAccountInput {
    /// Company ID (staff); a customer adds for their own company.
    pub company: String,
    pub token: String,
    pub holder_name: String,
    pub holder_type: String,
    pub account_type: String,
    pub authorization: AuthorizationInput,
}

/// A checked debit authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// A signed document staff uploaded, and the day it was signed.
    Uploaded {
        document: crate::DocumentId,
        signed_on: NaiveDate,
    },
    /// Agreed in the portal to the current wording, signed with the typed name.
    InPortal { signed_name: String },
}

/// A bank account to save: a token the gateway issued, and everything checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBankAccount {
    pub token: String,
    pub holder_name: String,
    pub holder_type: crate::bank::HolderType,
    pub account_type: AccountType,
    pub authorization: Authorization,
}

impl NewBankAccount {
    pub fn parse(input: &NewBankAccountInput, today: NaiveDate) -> Result<Self, FieldError> {
        let token = check_token(&input.token)?;
        let holder_name = check_holder_name(&input.holder_name)?;
        let holder_type = crate::bank::HolderType::parse(&input.holder_type)?;
        let account_type = AccountType::parse(&input.account_type)?;
        let authorization = match &input.authorization {
            AuthorizationInput::Uploaded {
                document_id,
                signed_on,
            } => {
                let Some(document) = *document_id else {
                    return Err(FieldError::new(
                        crate::document::FIELD,
                        "Upload the customer's signed debit authorization. ACH cannot be added without it.",
                    ));
                };
                Authorization::Uploaded {
                    document,
                    signed_on: crate::document::parse_signed_on(signed_on, today)?,
                }
            }
            AuthorizationInput::InPortal {
                version,
                signed_name,
                agreed,
            } => Authorization::InPortal {
                signed_name: check_agreement(version, signed_name, *agreed)?,
            },
        };
        Ok(NewBankAccount {
            token,
            holder_name,
            holder_type,
            account_type,
            authorization,
        })
    }
}

/// The ACH debit authorization a customer agrees to in the portal. A new wording gets a new
/// version; what was agreed to is kept word for word with the method.
pub const ACH_AUTHORIZATION_VERSION: &str = "ACH-DEBIT-2026-11";

/// Where a customer agrees to ACH debits themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgreedOn {
    /// In the customer portal, signed in.
    Portal,
    /// On a pay link's page, without an account.
    PayPage,
}

/// The account an ACH debit authorization names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorizedAccount<'a> {
    /// Where it is agreed to: the wording says "in this portal" or "on this payment page".
    pub on: AgreedOn,
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
    let (place, until) = match a.on {
        AgreedOn::Portal => (
            "in this portal",
            "until I deactivate the account in the portal or notify the seller in writing",
        ),
        AgreedOn::PayPage => (
            "on this payment page",
            "until I notify the seller in writing",
        ),
    };
    format!(
        "I authorize the seller to electronically debit the {kind} account •••• {last4} at {bank} \
         (routing number {routing}) of {company} for the payments I make or approve {place}, \
         and, if necessary, to credit it to correct an erroneous debit. This authorization stays in \
         effect {until}, in time for them to act on it. I confirm I am authorized to allow debits \
         to this account.",
        last4 = a.last4,
        routing = a.routing_number,
        company = a.company,
    )
}

/// Checks an in-portal authorization: the current wording's version, a typed name, the box
/// ticked. Returns the name as signed.
pub fn check_agreement(
    version: &str,
    signed_name: &str,
    agreed: bool,
) -> Result<String, FieldError> {
    if version != ACH_AUTHORIZATION_VERSION {
        return Err(FieldError::new(
            "agreed",
            "The authorization wording has changed. Reload the page and read it again.",
        ));
    }
    let name = crate::format::one_line(signed_name);
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
    if !agreed {
        return Err(FieldError::new(
            "agreed",
            "Tick the box to authorize the debits.",
        ));
    }
    Ok(name)
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
    pub id: crate::DocumentId,
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
    fn expired_cards() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let card = |m: u32, y: i32| MethodOption {
            id: MethodId(1),
            holder_name: "A".into(),
            last4: "4242".into(),
            is_default: false,
            instrument: Instrument::Card {
                brand: CardBrand::Visa,
                exp_month: m,
                exp_year: y,
                funding: crate::card::CardFunding::Credit,
            },
            label_only: false,
        };
        assert!(!card(11, 2026).is_expired(today));
        assert!(card(10, 2026).is_expired(today));
        assert!(!card(1, 2027).is_expired(today));
        assert_eq!(card(4, 2028).label(), "Visa •••• 4242");
        assert_eq!(card(4, 2028).detail(), "Expires 04/2028");
        let ach = MethodOption {
            instrument: Instrument::Ach {
                bank_name: Some("First Sandbox Bank".into()),
                account_type: AccountType::Checking,
            },
            ..card(1, 2030)
        };
        assert_eq!(ach.label(), "First Sandbox Bank checking •••• 4242");
        assert!(!ach.is_expired(today));
    }

    #[test]
    fn the_authorization_names_the_company_and_where_it_is_agreed() {
        let account = |on| AuthorizedAccount {
            on,
            company: "Acme Supply Co.",
            routing_number: "110000000",
            account_type: AccountType::Checking,
            last4: "6789",
        };
        let portal = ach_authorization_text(account(AgreedOn::Portal));
        assert!(portal
            .contains("of Acme Supply Co. for the payments I make or approve in this portal,"));
        assert!(portal.contains(
            "until I deactivate the account in the portal or notify the seller in writing, in time"
        ));
        let page = ach_authorization_text(account(AgreedOn::PayPage));
        assert!(page.contains(
            "of Acme Supply Co. for the payments I make or approve on this payment page,"
        ));
        assert!(page.contains("effect until I notify the seller in writing, in time"));
        assert!(!page.contains("portal"));
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

//! Records the seller's ERP sends (through the API or a CSV file): companies, AP contacts,
//! invoices and payments booked in the ERP, keyed by the ERP's own identifiers. Each record
//! arrives as text and is checked here into its valid form, with every problem named by the
//! field it belongs to — the same rules for the API and for an import.

use crate::auth::Email;
use crate::company::CompanyCode;
use crate::FieldError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Records in one batch request, at most.
pub const MAX_BATCH: usize = 1000;

/// A company, keyed by its Company ID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompanyRecord {
    /// The Company ID (letters, digits and dashes, at most 20; stored upper-case).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "C2001", max_length = 20, pattern = r"^\s*[A-Za-z0-9-]+\s*$")
    )]
    pub id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Acme Supply Co.", max_length = 200, pattern = r"\S")
    )]
    pub name: String,
    /// `USD` (the only currency so far); omitted means `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "USD", pattern = "^[Uu][Ss][Dd]$")
    )]
    pub currency: Option<String>,
    /// Where the company is billed: a US state's two letters (card surcharges follow its law);
    /// omitted leaves it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "IL", pattern = r"^\s*[A-Za-z]{2}\s*$")
    )]
    pub billing_state: Option<String>,
}

/// An AP contact of a company, keyed by (company, email).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactRecord {
    #[cfg_attr(feature = "openapi", schema(example = "C2001"))]
    pub company_id: String,
    /// An email address (`name@example.com`; stored lower-case).
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "ap@acme.example",
            max_length = 254,
            pattern = r"^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$"
        )
    )]
    pub email: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Dana Reyes", max_length = 200, pattern = r"\S")
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub phone: Option<String>,
}

/// What an invoice is in the ERP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Payable: its balance is its total less what was applied to it.
    #[default]
    Open,
    /// Void in the ERP: no balance. Refused while payments are applied to it.
    Cancelled,
    /// A credit memo: kept for reference, never payable; a credit applied to an invoice
    /// arrives as an ERP payment of kind `credit`.
    CreditMemo,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Cancelled => "cancelled",
            InvoiceStatus::CreditMemo => "credit_memo",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "" | "open" => Some(InvoiceStatus::Open),
            "cancelled" | "canceled" => Some(InvoiceStatus::Cancelled),
            "credit_memo" => Some(InvoiceStatus::CreditMemo),
            _ => None,
        }
    }
}

/// An invoice, keyed by (company, number). Its balance is Settle's to keep: the ERP sends the
/// total, and the balance is that total less every payment applied to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvoiceRecord {
    #[cfg_attr(feature = "openapi", schema(example = "C2001"))]
    pub company_id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "INV-10001", max_length = 50, pattern = r"\S")
    )]
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "PO-778", max_length = 50))]
    pub po_number: Option<String>,
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-01", format = Date))]
    pub issue_date: String,
    /// `YYYY-MM-DD`, not before the issue date.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-01", format = Date))]
    pub due_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "USD", pattern = "^[Uu][Ss][Dd]$")
    )]
    pub currency: Option<String>,
    /// A decimal string with at most 2 decimals, above 0.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "1250.00", pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
    )]
    pub total: String,
    #[serde(default)]
    pub status: InvoiceStatus,
}

/// How the ERP received a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExternalKind {
    Check,
    Wire,
    Ach,
    Card,
    Cash,
    /// A credit memo applied to invoices.
    Credit,
    Other,
}

impl ExternalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalKind::Check => "check",
            ExternalKind::Wire => "wire",
            ExternalKind::Ach => "ach",
            ExternalKind::Card => "card",
            ExternalKind::Cash => "cash",
            ExternalKind::Credit => "credit",
            ExternalKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExternalKind::Check => "Check",
            ExternalKind::Wire => "Wire",
            ExternalKind::Ach => "ACH",
            ExternalKind::Card => "Card",
            ExternalKind::Cash => "Cash",
            ExternalKind::Credit => "Credit",
            ExternalKind::Other => "Other",
        }
    }
}

/// One invoice an ERP payment applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExternalAllocation {
    #[cfg_attr(feature = "openapi", schema(example = "INV-10001"))]
    pub invoice: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "250.00", pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
    )]
    pub amount: String,
}

/// A payment booked in the ERP (a check received, a credit applied), keyed by the ERP's id.
/// It reduces the invoices' balances once, however often it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExternalPaymentRecord {
    /// The ERP's id of the payment.
    #[cfg_attr(feature = "openapi", schema(example = "CHK-4471", max_length = 100))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(example = "C2001"))]
    pub company_id: String,
    pub kind: ExternalKind,
    /// `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-20", format = Date))]
    pub received_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "Check 4471", max_length = 200))]
    pub reference: Option<String>,
    /// What each invoice gets; at least one, each invoice once.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 500))]
    pub allocations: Vec<ExternalAllocation>,
}

/// A checked company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    pub code: CompanyCode,
    pub name: String,
    /// Two upper-case letters, when sent.
    pub billing_state: Option<String>,
}

/// A checked contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub company: CompanyCode,
    pub email: Email,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
}

/// A checked invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    pub company: CompanyCode,
    pub number: String,
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Decimal,
    pub status: InvoiceStatus,
}

/// A checked ERP payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalPayment {
    pub external_id: String,
    pub company: CompanyCode,
    pub kind: ExternalKind,
    pub received_on: NaiveDate,
    pub reference: Option<String>,
    pub amount: Decimal,
    /// (invoice number, amount), each invoice once.
    pub allocations: Vec<(String, Decimal)>,
}

/// Collects the problems of one record.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

fn company_code(raw: &str) -> Result<CompanyCode, FieldError> {
    CompanyCode::parse(raw).map_err(|e| FieldError::new("company_id", e.message))
}

/// Required text of at most `max` characters, trimmed.
fn text(field: &str, raw: &str, what: &str, max: usize) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        Err(FieldError::new(field, format!("Enter the {what}.")))
    } else if t.chars().count() > max {
        Err(FieldError::new(
            field,
            format!("The {what} has at most {max} characters."),
        ))
    } else if t.chars().any(char::is_control) {
        Err(FieldError::new(
            field,
            format!("The {what} contains a control character."),
        ))
    } else if crate::card::holds_card_number(t) {
        Err(FieldError::new(
            field,
            format!("The {what} holds a card number. Card numbers go only to the payment gateway, never to Settle: remove it."),
        ))
    } else {
        Ok(t.to_string())
    }
}

/// Optional text: blank means none.
fn optional_text(
    field: &str,
    raw: Option<&str>,
    what: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => text(field, t, what, max).map(Some),
    }
}

fn currency(raw: Option<&str>) -> Result<(), FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(()),
        Some(c) if c.eq_ignore_ascii_case("USD") => Ok(()),
        Some(c) => Err(FieldError::new(
            "currency",
            format!("Only USD is supported, not {c:?}."),
        )),
    }
}

/// A `YYYY-MM-DD` date.
pub fn date(field: &str, raw: &str, what: &str) -> Result<NaiveDate, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, format!("Enter the {what}.")));
    }
    let shaped = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) if shaped && (1900..=2200).contains(&chrono::Datelike::year(&d)) => Ok(d),
        Ok(_) if shaped => Err(FieldError::new(
            field,
            format!("The {what} {t:?} is out of range."),
        )),
        _ => Err(FieldError::new(
            field,
            format!("The {what} {t:?} is not a date in the form YYYY-MM-DD (e.g. 2026-11-30)."),
        )),
    }
}

/// A positive amount with at most 2 decimals and at most 12 digits before the point.
pub fn amount(field: &str, raw: &str, what: &str) -> Result<Decimal, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, format!("Enter the {what}.")));
    }
    let plain = t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    let d = match Decimal::from_str(t) {
        Ok(d) if plain => d,
        _ => {
            return Err(FieldError::new(
                field,
                format!("The {what} {t:?} is not an amount like 1250.00 (digits and a decimal point, no currency sign or thousands separator)."),
            ))
        }
    };
    if d.scale() > 2 && d.normalize().scale() > 2 {
        return Err(FieldError::new(
            field,
            format!("The {what} {t:?} has more than 2 decimals."),
        ));
    }
    if d <= Decimal::ZERO {
        return Err(FieldError::new(
            field,
            format!("The {what} must be more than 0."),
        ));
    }
    if d >= Decimal::from(1_000_000_000_000i64) {
        return Err(FieldError::new(
            field,
            format!("The {what} {t:?} is too large."),
        ));
    }
    Ok(d.round_dp(2))
}

impl CompanyRecord {
    pub fn check(&self) -> Result<Company, Vec<FieldError>> {
        let mut p = Problems::default();
        let code =
            p.take(CompanyCode::parse(&self.id).map_err(|e| FieldError::new("id", e.message)));
        let name = p.take(text("name", &self.name, "company name", 200));
        p.take(currency(self.currency.as_deref()));
        let state = self
            .billing_state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_uppercase);
        let state = p.take(match state {
            Some(s) if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) => {
                Err(FieldError::new(
                    "billing_state",
                    "Enter the billing state as its two letters, e.g. IL.",
                ))
            }
            s => Ok(s),
        });
        p.finish(|| Company {
            code: code.expect("checked"),
            name: name.expect("checked"),
            billing_state: state.expect("checked"),
        })
    }
}

impl ContactRecord {
    pub fn check(&self) -> Result<Contact, Vec<FieldError>> {
        let mut p = Problems::default();
        let company = p.take(company_code(&self.company_id));
        let email = p.take(Email::parse(&self.email).map_err(|e| {
            FieldError::new(
                "email",
                if self.email.trim().is_empty() {
                    "Enter the contact's email address.".to_string()
                } else {
                    e.message
                },
            )
        }));
        let name = p.take(text("name", &self.name, "contact name", 200));
        let title = p.take(optional_text("title", self.title.as_deref(), "title", 100));
        let phone = p.take(optional_text(
            "phone",
            self.phone.as_deref(),
            "phone number",
            40,
        ));
        p.finish(|| Contact {
            company: company.expect("checked"),
            email: email.expect("checked"),
            name: name.expect("checked"),
            title: title.expect("checked"),
            phone: phone.expect("checked"),
        })
    }
}

impl InvoiceRecord {
    pub fn check(&self) -> Result<Invoice, Vec<FieldError>> {
        let mut p = Problems::default();
        let company = p.take(company_code(&self.company_id));
        let number = p.take(text("number", &self.number, "invoice number", 50));
        let po_number = p.take(optional_text(
            "po_number",
            self.po_number.as_deref(),
            "PO number",
            50,
        ));
        let issue = p.take(date("issue_date", &self.issue_date, "issue date"));
        let due = p.take(date("due_date", &self.due_date, "due date"));
        if let (Some(i), Some(d)) = (issue, due) {
            if d < i {
                p.add("due_date", "The due date is before the issue date.");
            }
        }
        p.take(currency(self.currency.as_deref()));
        let total = p.take(amount("total", &self.total, "total"));
        p.finish(|| Invoice {
            company: company.expect("checked"),
            number: number.expect("checked"),
            po_number: po_number.expect("checked"),
            issue_date: issue.expect("checked"),
            due_date: due.expect("checked"),
            total: total.expect("checked"),
            status: self.status,
        })
    }
}

impl ExternalPaymentRecord {
    pub fn check(&self) -> Result<ExternalPayment, Vec<FieldError>> {
        let mut p = Problems::default();
        let id = p.take(text("id", &self.id, "payment id", 100));
        let company = p.take(company_code(&self.company_id));
        let received = p.take(date("received_on", &self.received_on, "received date"));
        let reference = p.take(optional_text(
            "reference",
            self.reference.as_deref(),
            "reference",
            200,
        ));
        if self.allocations.is_empty() {
            p.add("allocations", "Apply the payment to at least one invoice.");
        }
        if self.allocations.len() > crate::payment::PaymentRequest::MAX_LINES {
            p.add(
                "allocations",
                format!(
                    "A payment applies to at most {} invoices.",
                    crate::payment::PaymentRequest::MAX_LINES
                ),
            );
        }
        let mut lines = Vec::with_capacity(self.allocations.len());
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.allocations.iter().enumerate() {
            let number = p.take(
                text("invoice", &a.invoice, "invoice number", 50)
                    .map_err(|e| FieldError::new(format!("allocations/{i}/invoice"), e.message)),
            );
            let amt = p.take(
                amount("amount", &a.amount, "amount")
                    .map_err(|e| FieldError::new(format!("allocations/{i}/amount"), e.message)),
            );
            if let Some(n) = &number {
                if !seen.insert(n.clone()) {
                    p.add(
                        &format!("allocations/{i}/invoice"),
                        format!("Invoice {n} is listed twice."),
                    );
                }
            }
            if let (Some(n), Some(a)) = (number, amt) {
                lines.push((n, a));
            }
        }
        let total: Decimal = lines.iter().map(|(_, a)| *a).sum();
        if total > crate::money::Money::MAX {
            p.add(
                "allocations",
                "The allocations add up to more than 999999999999.99; send them as more than one payment.",
            );
        }
        p.finish(|| ExternalPayment {
            external_id: id.expect("checked"),
            company: company.expect("checked"),
            kind: self.kind,
            received_on: received.expect("checked"),
            reference: reference.expect("checked"),
            amount: total,
            allocations: lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice() -> InvoiceRecord {
        InvoiceRecord {
            company_id: "c2001".into(),
            number: "INV-1".into(),
            po_number: Some(" ".into()),
            issue_date: "2026-11-01".into(),
            due_date: "2026-12-01".into(),
            currency: None,
            total: "1250.5".into(),
            status: InvoiceStatus::Open,
        }
    }

    #[test]
    fn a_good_invoice_is_checked_into_its_valid_form() {
        let v = invoice().check().unwrap();
        assert_eq!(v.company.as_str(), "C2001");
        assert_eq!(v.po_number, None);
        assert_eq!(v.total, Decimal::new(125050, 2));
    }

    #[test]
    fn every_problem_of_an_invoice_is_named_by_its_field() {
        let mut r = invoice();
        r.total = "12.345".into();
        r.issue_date = "01/11/2026".into();
        r.currency = Some("EUR".into());
        let errs = r.check().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["issue_date", "currency", "total"]);
        assert!(errs[2].message.contains("more than 2 decimals"), "{errs:?}");
        assert!(errs[0].message.contains("YYYY-MM-DD"), "{errs:?}");
    }

    #[test]
    fn amounts_are_plain_positive_decimals() {
        assert!(amount("a", "1,250.00", "total").is_err());
        assert!(amount("a", "$5", "total").is_err());
        assert!(amount("a", "0", "total").is_err());
        assert!(amount("a", "-1", "total").is_err());
        assert!(amount("a", "1e3", "total").is_err());
        assert_eq!(amount("a", "2.500", "total").unwrap(), Decimal::new(250, 2));
        assert!(amount("a", "1000000000000", "total").is_err());
    }

    #[test]
    fn a_card_number_in_any_text_is_refused_at_its_field() {
        let mut r = invoice();
        r.po_number = Some("4242 4242 4242 4242".into());
        let errs = r.check().unwrap_err();
        assert_eq!(errs[0].field, "po_number");
        assert!(
            errs[0].message.contains("card number"),
            "{}",
            errs[0].message
        );
        let mut r = invoice();
        r.po_number = Some("PO 2026-000123".into());
        assert!(r.check().is_ok());
    }

    #[test]
    fn due_before_issue_is_refused() {
        let mut r = invoice();
        r.due_date = "2026-10-01".into();
        assert_eq!(r.check().unwrap_err()[0].field, "due_date");
    }

    #[test]
    fn an_erp_payment_sums_its_allocations_and_names_bad_lines_by_path() {
        let r = ExternalPaymentRecord {
            id: "CHK-1".into(),
            company_id: "C2001".into(),
            kind: ExternalKind::Check,
            received_on: "2026-11-20".into(),
            reference: None,
            allocations: vec![
                ExternalAllocation {
                    invoice: "INV-1".into(),
                    amount: "10.10".into(),
                },
                ExternalAllocation {
                    invoice: "INV-2".into(),
                    amount: "5".into(),
                },
            ],
        };
        assert_eq!(r.check().unwrap().amount, Decimal::new(1510, 2));
        let mut bad = r.clone();
        bad.allocations[1].invoice = "INV-1".into();
        bad.allocations[0].amount = "x".into();
        let errs = bad.check().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["allocations/0/amount", "allocations/1/invoice"]);
        // Lines each within the limit whose sum is past what a payment holds.
        let mut big = r.clone();
        big.allocations[0].amount = "999999999999.99".into();
        let errs = big.check().unwrap_err();
        assert_eq!(errs[0].field, "allocations");
    }
}

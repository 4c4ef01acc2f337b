//! Payments: what a clerk or a customer asks to pay, the rules it must keep, and what comes
//! back (a receipt or a decline).

use crate::company::CompanyCode;
use crate::error::FieldError;
pub use crate::key::IdempotencyKey;
pub use crate::money::{check_amount, parse_amount};
use crate::money::{Currency, Money};
use crate::{InvoiceId, MethodId, PaymentId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the customer gave permission for a payment taken on their behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum ConsentChannel {
    Phone,
    Email,
    Other,
    /// The customer paid in the customer portal themselves.
    Portal,
    /// The customer paid through a pay link a clerk emailed them (their own consent).
    #[cfg_attr(feature = "sqlx", sqlx(rename = "pay_link"))]
    PayLink,
}

impl ConsentChannel {
    /// `phone`, `email`, `other`, `portal`: as forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentChannel::Phone => "phone",
            ConsentChannel::Email => "email",
            ConsentChannel::Other => "other",
            ConsentChannel::Portal => "portal",
            ConsentChannel::PayLink => "pay_link",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConsentChannel::Phone => "Phone",
            ConsentChannel::Email => "Email",
            ConsentChannel::Other => "Other",
            ConsentChannel::Portal => "Customer portal",
            ConsentChannel::PayLink => "Pay link",
        }
    }
}

/// The customer's authorization of a payment taken on their behalf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: ConsentChannel,
    /// E.g. "Call with Maria Alvarez, 10:42" or an email subject.
    pub reference: String,
}

impl Consent {
    pub const MAX_REFERENCE: usize = 200;

    /// A customer paying in the portal authorizes the payment themselves.
    pub fn portal(user_email: &str) -> Self {
        Consent {
            channel: ConsentChannel::Portal,
            reference: format!("Paid in the customer portal by {user_email}"),
        }
    }

    /// A customer paying through an emailed pay link authorizes the payment themselves.
    pub fn pay_link(payer_email: &str, sent_by: &str) -> Self {
        let reference = format!("{payer_email}, paid through a link sent by {sent_by}");
        Consent {
            channel: ConsentChannel::PayLink,
            reference: reference.chars().take(Self::MAX_REFERENCE).collect(),
        }
    }

    /// Staff must say how the customer authorized the payment, and give a reference.
    pub fn parse_staff(channel: &str, reference: &str) -> Result<Self, FieldError> {
        let channel = match channel.trim() {
            "phone" => ConsentChannel::Phone,
            "email" => ConsentChannel::Email,
            "other" => ConsentChannel::Other,
            "" => {
                return Err(FieldError::new(
                    "consent_channel",
                    "Choose how the customer authorized this payment.",
                ))
            }
            _ => {
                return Err(FieldError::new(
                    "consent_channel",
                    "Choose phone, email or other.",
                ))
            }
        };
        let reference = crate::format::one_line(reference);
        if reference.is_empty() {
            return Err(FieldError::new(
                "consent_reference",
                "Enter a reference for the authorization, e.g. who you spoke to and when.",
            ));
        }
        if reference.chars().count() > Self::MAX_REFERENCE {
            return Err(FieldError::new(
                "consent_reference",
                format!("Keep the reference to {} characters.", Self::MAX_REFERENCE),
            ));
        }
        Ok(Consent { channel, reference })
    }
}

/// One invoice of a payment and what it gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub invoice_id: InvoiceId,
    pub amount: Money,
    /// Why less than the balance is paid (required for a short payment): one of the seller's
    /// short-pay reason codes.
    pub short_pay_code: Option<String>,
    /// Its comment (required with "other"); before codes, the reason's free text.
    pub short_pay_reason: Option<String>,
}

impl PaymentLine {
    /// A short payment's reason "Other" needs its comment.
    pub fn check_comment(&self) -> Result<(), FieldError> {
        if self.short_pay_code.as_deref() == Some(crate::reason::OTHER)
            && self.short_pay_reason.is_none()
        {
            return Err(FieldError::new(
                reason_note_field(self.invoice_id),
                "Say why in the comment: the reason is \"Other\".",
            ));
        }
        Ok(())
    }
}

/// The form field of what a payment puts on account beyond its invoices.
pub const ON_ACCOUNT_FIELD: &str = "on_account";

/// The form field of a line's amount: `amount_<invoice id>`.
pub fn amount_field(invoice_id: InvoiceId) -> String {
    format!("amount_{invoice_id}")
}

/// The form field of a line's short-pay reason: `reason_<invoice id>`.
pub fn reason_field(invoice_id: InvoiceId) -> String {
    format!("reason_{invoice_id}")
}

/// The form field of a line's short-pay comment: `reason_note_<invoice id>`.
pub fn reason_note_field(invoice_id: InvoiceId) -> String {
    format!("reason_note_{invoice_id}")
}

/// A line as the form sends it: the amount already checked in the browser (and checked again
/// as it is read: [`Money`] refuses more decimals than its currency has), the reason as typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineInput {
    pub invoice_id: InvoiceId,
    pub amount: Money,
    /// The short-pay reason's code; empty with a comment alone (as before codes), the comment
    /// is given as "other".
    #[serde(default)]
    pub short_pay_code: String,
    /// The short-pay comment.
    #[serde(default)]
    pub short_pay_reason: String,
}

/// A payment as the dialog sends it, before any checking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentInput {
    /// The Company ID staff pay for; a customer or a pay link pays for its own (naming it,
    /// or leaving this empty).
    pub company: String,
    pub method_id: MethodId,
    pub lines: Vec<LineInput>,
    pub consent_channel: String,
    pub consent_reference: String,
    /// Made when the dialog opens; the same key is the same payment.
    pub idempotency_key: String,
    /// Why staff pay outside the company's payment policy (empty: within it).
    #[serde(default)]
    pub policy_override: String,
    /// What to pay beyond the lines, kept as the company's credit on account (none or zero:
    /// nothing), where the company's policy allows it.
    #[serde(default)]
    pub on_account: Option<Money>,
    /// The card surcharge the payer was shown (none: none shown); a payment whose surcharge
    /// is not this is refused, so no one pays a fee they did not see.
    #[serde(default)]
    pub surcharge: Option<Money>,
}

/// A checked payment request. Exists only when every rule that does not need the database
/// holds; the balances are checked again under lock when it is paid. Made only by
/// [`PaymentRequest::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    pub method_id: MethodId,
    pub lines: Vec<PaymentLine>,
    pub consent: Consent,
    pub idempotency_key: IdempotencyKey,
    /// Why staff pay outside the company's payment policy, where the seller allows it.
    pub policy_override: Option<String>,
    /// What it puts on account beyond its lines (above zero when there).
    pub on_account: Option<Money>,
    /// The card surcharge the payer was shown.
    pub surcharge_seen: Money,
    /// The exact sum of the lines and what goes on account, at most [`Money::MAX`] (summed
    /// once, when parsed).
    total: Money,
}

impl PaymentRequest {
    pub const MAX_LINES: usize = 500;
    pub const MAX_REASON: usize = 200;

    /// Checks what can be checked without the database. `consent` is parsed by the caller
    /// (staff give one; the customer portal makes its own).
    pub fn parse(
        input: &PaymentInput,
        consent: Consent,
        currency: Currency,
    ) -> Result<Self, FieldError> {
        let idempotency_key = IdempotencyKey::parse(&input.idempotency_key)?;
        if input.method_id.0 <= 0 {
            return Err(FieldError::new("method", "Choose a payment method."));
        }
        let on_account = match input.on_account {
            Some(m) if !m.is_zero() => Some(check_amount(ON_ACCOUNT_FIELD, m, currency)?),
            _ => None,
        };
        if input.lines.is_empty() && on_account.is_none() {
            return Err(FieldError::new(
                "invoices",
                "Select at least one invoice to pay, or enter an amount to pay on account.",
            ));
        }
        if input.lines.len() > Self::MAX_LINES {
            return Err(FieldError::new(
                "invoices",
                format!("Pay at most {} invoices at once.", Self::MAX_LINES),
            ));
        }
        let mut lines: Vec<PaymentLine> = Vec::with_capacity(input.lines.len());
        for l in &input.lines {
            if lines.iter().any(|x| x.invoice_id == l.invoice_id) {
                return Err(FieldError::new(
                    "invoices",
                    "An invoice is in the payment twice.",
                ));
            }
            let amount = check_amount(&amount_field(l.invoice_id), l.amount, currency)?;
            let reason = crate::format::one_line(&l.short_pay_reason);
            if reason.chars().count() > Self::MAX_REASON {
                return Err(FieldError::new(
                    reason_note_field(l.invoice_id),
                    format!("Keep the comment to {} characters.", Self::MAX_REASON),
                ));
            }
            let code = match l.short_pay_code.trim() {
                "" if reason.is_empty() => None,
                "" => Some(crate::reason::OTHER.to_string()),
                code if crate::reason::is_code(code) => Some(code.to_string()),
                _ => {
                    return Err(FieldError::new(
                        reason_field(l.invoice_id),
                        "Choose one of the listed reasons.",
                    ))
                }
            };
            let line = PaymentLine {
                invoice_id: l.invoice_id,
                amount,
                short_pay_code: code,
                short_pay_reason: (!reason.is_empty()).then_some(reason),
            };
            line.check_comment()?;
            lines.push(line);
        }
        let total = Money::sum(
            currency,
            lines.iter().map(|l| &l.amount).chain(on_account.as_ref()),
        )
        .filter(Money::within_limit)
        .ok_or_else(|| {
            FieldError::new(
                "invoices",
                format!(
                    "One payment is at most {}. Pay these invoices in more than one payment.",
                    Money::new(Money::MAX, currency).display()
                ),
            )
        })?;
        let policy_override = crate::format::one_line(&input.policy_override);
        if policy_override.chars().count() > Self::MAX_REASON {
            return Err(FieldError::new(
                "policy_override",
                format!("Keep the reason to {} characters.", Self::MAX_REASON),
            ));
        }
        Ok(PaymentRequest {
            method_id: input.method_id,
            lines,
            consent,
            idempotency_key,
            policy_override: (!policy_override.is_empty()).then_some(policy_override),
            on_account,
            surcharge_seen: input
                .surcharge
                .filter(|m| m.currency() == currency && m.amount() >= rust_decimal::Decimal::ZERO)
                .unwrap_or(Money::zero(currency)),
            total,
        })
    }

    /// The payment's amount: the exact sum of its lines and what it puts on account.
    pub fn total(&self) -> Money {
        self.total
    }
}

/// Checks a line against its invoice's current balance: not above it, and a short payment
/// has a reason.
pub fn check_line_against_balance(line: &PaymentLine, balance: Money) -> Result<(), FieldError> {
    if line.amount.amount() > balance.amount() {
        return Err(FieldError::new(
            amount_field(line.invoice_id),
            format!(
                "The balance is {}; enter at most that. (The balance may have just changed.)",
                balance.display()
            ),
        ));
    }
    if line.amount.amount() < balance.amount() && line.short_pay_code.is_none() {
        return Err(FieldError::new(
            reason_field(line.invoice_id),
            "Choose a reason for paying less than the balance.",
        ));
    }
    line.check_comment()
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum PaymentStatus {
    /// Recorded, the gateway not yet answered (or the answer not yet recorded).
    Processing,
    /// ACH accepted by the bank network, not yet settled.
    Pending,
    Approved,
    Declined,
    Settled,
    /// ACH returned by the customer's bank after it was pending.
    Returned,
    /// Never reached the gateway (e.g. abandoned before it was sent).
    Failed,
    /// An ACH debit cancelled before it settled (taken out before it reached the bank, or
    /// reversed by a credit of the same amount): it applies nothing.
    Voided,
}

impl PaymentStatus {
    pub fn label(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "Processing",
            PaymentStatus::Pending => "Pending",
            PaymentStatus::Approved => "Approved",
            PaymentStatus::Declined => "Declined",
            PaymentStatus::Settled => "Settled",
            PaymentStatus::Returned => "Returned",
            PaymentStatus::Failed => "Failed",
            PaymentStatus::Voided => "Voided",
        }
    }

    /// Why nothing can be refunded from a payment in this state, if so.
    pub fn not_refundable(self) -> Option<&'static str> {
        match self {
            PaymentStatus::Approved | PaymentStatus::Settled => None,
            PaymentStatus::Processing => Some(
                "The gateway has not answered for this payment yet. It can be refunded once its outcome is known.",
            ),
            PaymentStatus::Pending => Some(
                "This ACH debit has not settled yet: it can be refunded once it has settled.",
            ),
            PaymentStatus::Declined | PaymentStatus::Failed => {
                Some("No money was taken for this payment: there is nothing to give back.")
            }
            PaymentStatus::Returned => {
                Some("The bank returned this debit: the money is already back with the payer.")
            }
            PaymentStatus::Voided => {
                Some("This debit was voided before it settled: nothing is left to give back.")
            }
        }
    }

    /// Whether the payment's amount is taken off the invoices' balances.
    pub fn reduces_balance(self) -> bool {
        matches!(
            self,
            PaymentStatus::Processing
                | PaymentStatus::Pending
                | PaymentStatus::Approved
                | PaymentStatus::Settled
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub invoice_number: String,
    pub applied: Money,
    pub new_balance: Money,
    /// What is left to give back on this line (applied less the refunds that hold), when the
    /// payment can be refunded or reversed now.
    #[serde(default)]
    pub refundable: Option<Money>,
    /// Why less than the balance was paid: "Pricing difference: 5 % agreed".
    #[serde(default)]
    pub short_pay: Option<String>,
    /// Its share of the payment's card surcharge (never part of the balance).
    #[serde(default)]
    pub fee: Option<Money>,
}

/// A payment's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub payment_id: PaymentId,
    pub number: String,
    pub status: PaymentStatus,
    pub company_code: CompanyCode,
    pub company_name: String,
    pub amount: Money,
    pub method: String,
    pub lines: Vec<ReceiptLine>,
    pub at: DateTime<Utc>,
    /// Who took it: the staff member, or the customer user.
    pub taken_by: String,
    pub on_behalf: bool,
    pub consent: Option<Consent>,
    pub failure_message: Option<String>,
    /// Still `processing` after the gateway did not answer in time: Settle is asking it again.
    #[serde(default)]
    pub checking_with_gateway: bool,
    /// The latest dispute the gateway reported on it, as one line ("Disputed $25.00
    /// (fraudulent): needs response, evidence due Dec 13, 2026").
    #[serde(default)]
    pub dispute: Option<String>,
    /// Recorded by the ERP (no money moved through Settle): reversed, never refunded.
    #[serde(default)]
    pub recorded_in_erp: bool,
    /// Its refunds and reversals, oldest first.
    #[serde(default)]
    pub refunds: Vec<crate::refund::RefundView>,
    /// What it put on account beyond its invoices, and what of that is still unapplied.
    #[serde(default)]
    pub on_account: Option<OnAccount>,
    /// Its card surcharge: the rate and the fee, on a line of its own.
    #[serde(default)]
    pub surcharge: Option<SurchargeLine>,
}

/// A payment's card surcharge as the receipt shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurchargeLine {
    pub percent: rust_decimal::Decimal,
    pub amount: Money,
}

impl SurchargeLine {
    /// "Card surcharge 3 % on a credit card".
    pub fn label(&self) -> String {
        format!(
            "Card surcharge {} % on a credit card",
            crate::surcharge::percent(self.percent)
        )
    }
}

/// A payment's credit on account, as its receipt shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnAccount {
    /// The credit's number (CR-1001).
    pub credit_number: String,
    pub amount: Money,
    /// Not yet applied to an invoice nor refunded.
    pub unapplied: Money,
    /// What a refund may still give back of it now.
    #[serde(default)]
    pub refundable: Option<Money>,
}

impl Receipt {
    /// What its refunds gave back or are giving back (pending and succeeded).
    pub fn refunded(&self) -> Money {
        let cur = self.amount.currency();
        Money::sum(
            cur,
            self.refunds
                .iter()
                .filter(|r| {
                    matches!(
                        r.status,
                        crate::refund::RefundStatus::Pending
                            | crate::refund::RefundStatus::Succeeded
                    )
                })
                .map(|r| &r.amount),
        )
        .unwrap_or_else(|| Money::zero(cur))
    }

    /// Whether anything is left to give back now.
    pub fn refundable(&self) -> bool {
        self.lines
            .iter()
            .filter_map(|l| l.refundable)
            .chain(self.on_account.as_ref().and_then(|c| c.refundable))
            .any(|m| m.is_positive())
    }
}

/// A payment the gateway has not answered for in time, as staff see it while Settle keeps
/// asking (System → Awaiting gateway).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitingGateway {
    pub payment_id: PaymentId,
    pub number: String,
    pub company_code: CompanyCode,
    pub company_name: String,
    pub amount: Money,
    pub method: String,
    pub started_at: DateTime<Utc>,
    /// Seconds since it started, when it was read.
    pub age_seconds: i64,
    /// Checks that could not reach the gateway so far.
    pub checks: i32,
    pub last_error: Option<String>,
    pub next_check_at: Option<DateTime<Utc>>,
}

/// "45 s", "12 min", "3 h 5 min", "2 d 4 h": how long something has waited.
pub fn age_label(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The outcome of asking to pay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
// One answer per payment, never kept in bulk: the receipt is not boxed.
#[allow(clippy::large_enum_variant)]
pub enum PaymentOutcome {
    /// Approved (card) or accepted as pending (ACH): balances are reduced.
    Paid(Receipt),
    /// The gateway declined: nothing changed; choose another method.
    Declined {
        payment_number: String,
        code: String,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn usd(s: &str) -> Money {
        Money::usd(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn amounts_as_typed() {
        assert_eq!(
            parse_amount("a", "125", Currency::USD).unwrap(),
            usd("125.00")
        );
        assert_eq!(
            parse_amount("a", " $1,250.5 ", Currency::USD).unwrap(),
            usd("1250.50")
        );
        let msg = |raw: &str| parse_amount("a", raw, Currency::USD).unwrap_err().message;
        assert_eq!(msg(""), "Enter an amount.");
        assert_eq!(msg("0"), "Enter an amount above zero.");
        assert_eq!(msg("0.00"), "Enter an amount above zero.");
        assert_eq!(msg("-5"), "Enter an amount above zero.");
        assert_eq!(msg("0.001"), "Use at most 2 decimal places.");
        assert_eq!(msg("abc"), "Enter an amount as a number, like 125.00.");
        assert_eq!(msg("1e5"), "Enter an amount as a number, like 125.00.");
        assert_eq!(msg("1000000000000"), "Enter at most $999,999,999,999.99.");
        assert_eq!(
            msg("40000000000000000000000000000"),
            "Enter at most $999,999,999,999.99."
        );
        assert!(parse_amount("a", "999999999999.99", Currency::USD).is_ok());
        assert!(
            parse_amount("a", "10.100", Currency::USD).is_ok(),
            "trailing zeros are fine"
        );
    }

    fn input(lines: Vec<(i64, &str, &str)>) -> PaymentInput {
        PaymentInput {
            company: "C1001".into(),
            method_id: MethodId(7),
            lines: lines
                .into_iter()
                .map(|(id, a, r)| LineInput {
                    invoice_id: InvoiceId(id),
                    amount: usd(a),
                    short_pay_code: String::new(),
                    short_pay_reason: r.into(),
                })
                .collect(),
            consent_channel: "phone".into(),
            consent_reference: "Call".into(),
            idempotency_key: "6F9619FF-8B86-D011-B42D-00C04FC964FF".into(),
            policy_override: String::new(),
            on_account: None,
            surcharge: None,
        }
    }

    fn consent() -> Consent {
        Consent::parse_staff("phone", "Call with Maria").unwrap()
    }

    #[test]
    fn requests_keep_the_rules() {
        let r = PaymentRequest::parse(
            &input(vec![(1, "10.10", ""), (2, "5", "")]),
            consent(),
            Currency::USD,
        )
        .unwrap();
        assert_eq!(r.total(), usd("15.10"));
        assert_eq!(
            r.idempotency_key.as_str(),
            "6f9619ff-8b86-d011-b42d-00c04fc964ff"
        );
        let e = PaymentRequest::parse(&input(vec![]), consent(), Currency::USD).unwrap_err();
        assert_eq!(e.field, "invoices");
        let e = PaymentRequest::parse(
            &input(vec![(1, "1", ""), (1, "2", "")]),
            consent(),
            Currency::USD,
        )
        .unwrap_err();
        assert_eq!(e.field, "invoices");
        let e = PaymentRequest::parse(
            &input(vec![(1, "1", ""), (9, "-1", "")]),
            consent(),
            Currency::USD,
        )
        .unwrap_err();
        assert_eq!(e.field, "amount_9");
        let mut bad_key = input(vec![(1, "1", "")]);
        bad_key.idempotency_key = "not-a-key".into();
        assert_eq!(
            PaymentRequest::parse(&bad_key, consent(), Currency::USD)
                .unwrap_err()
                .field,
            "idempotency_key"
        );
    }

    #[test]
    fn amounts_past_what_is_booked_are_refused_at_their_field_never_a_panic() {
        // Each line too large: refused at its own amount.
        let e = PaymentRequest::parse(
            &input(vec![
                (1, "40000000000000000000000000000", ""),
                (2, "40000000000000000000000000000", ""),
            ]),
            consent(),
            Currency::USD,
        )
        .unwrap_err();
        assert_eq!(e.field, "amount_1");
        assert_eq!(e.message, "Enter at most $999,999,999,999.99.");
        // Each line within the limit, the sum past it: refused at the invoices.
        let e = PaymentRequest::parse(
            &input(vec![(1, "999999999999.99", ""), (2, "0.01", "")]),
            consent(),
            Currency::USD,
        )
        .unwrap_err();
        assert_eq!(e.field, "invoices");
        let r = PaymentRequest::parse(
            &input(vec![(1, "999999999999.98", ""), (2, "0.01", "")]),
            consent(),
            Currency::USD,
        )
        .unwrap();
        assert_eq!(r.total(), Money::usd(Money::MAX));
    }

    #[test]
    fn consent_is_required_from_staff() {
        assert_eq!(
            Consent::parse_staff("", "x").unwrap_err().field,
            "consent_channel"
        );
        assert_eq!(
            Consent::parse_staff("fax", "x").unwrap_err().field,
            "consent_channel"
        );
        assert_eq!(
            Consent::parse_staff("email", "  ").unwrap_err().field,
            "consent_reference"
        );
        assert_eq!(
            Consent::parse_staff("email", &"x".repeat(201))
                .unwrap_err()
                .field,
            "consent_reference"
        );
        let c = Consent::parse_staff("email", " Re:  invoice  question ").unwrap();
        assert_eq!(c.reference, "Re: invoice question");
    }

    #[test]
    fn lines_against_balances() {
        let line = |a: &str, r: Option<&str>| PaymentLine {
            invoice_id: InvoiceId(3),
            amount: usd(a),
            short_pay_code: r.map(str::to_string),
            short_pay_reason: None,
        };
        assert!(check_line_against_balance(&line("10.00", None), usd("10.00")).is_ok());
        assert_eq!(
            check_line_against_balance(&line("10.01", None), usd("10.00"))
                .unwrap_err()
                .field,
            "amount_3"
        );
        assert_eq!(
            check_line_against_balance(&line("9.99", None), usd("10.00"))
                .unwrap_err()
                .field,
            "reason_3"
        );
        assert!(check_line_against_balance(&line("9.99", Some("pricing")), usd("10.00")).is_ok());
    }

    #[test]
    fn a_short_payment_names_a_code_and_other_needs_a_comment() {
        let parse = |code: &str, reason: &str| {
            let mut inp = input(vec![(4, "1.00", reason)]);
            inp.lines[0].short_pay_code = code.into();
            PaymentRequest::parse(&inp, consent(), Currency::USD)
        };
        let r = parse("pricing", " agreed  5 % off ").unwrap();
        assert_eq!(r.lines[0].short_pay_code.as_deref(), Some("pricing"));
        assert_eq!(
            r.lines[0].short_pay_reason.as_deref(),
            Some("agreed 5 % off")
        );
        // A comment alone (as written before codes) is given as "other".
        let r = parse("", "Disputed freight").unwrap();
        assert_eq!(r.lines[0].short_pay_code.as_deref(), Some("other"));
        assert_eq!(parse("other", " ").unwrap_err().field, "reason_note_4");
        assert_eq!(parse("Pricing!", "").unwrap_err().field, "reason_4");
        assert_eq!(
            parse("pricing", &"x".repeat(201)).unwrap_err().field,
            "reason_note_4"
        );
        let r = parse("", "").unwrap();
        assert_eq!(r.lines[0].short_pay_code, None);
    }

    proptest! {
        #[test]
        fn a_payment_is_the_exact_sum_of_its_lines(cents in proptest::collection::vec(1i64..100_000_000, 1..40)) {
            let lines: Vec<(i64, String)> = cents.iter().enumerate().map(|(i, c)| (i as i64 + 1, Decimal::new(*c, 2).to_string())).collect();
            let inp = input(lines.iter().map(|(i, a)| (*i, a.as_str(), "")).collect());
            let r = PaymentRequest::parse(&inp, consent(), Currency::USD).unwrap();
            prop_assert_eq!(r.total().amount(), Decimal::new(cents.iter().sum::<i64>(), 2));
            prop_assert_eq!(r.lines.len(), cents.len());
        }

        #[test]
        fn typed_amounts_never_gain_or_lose_a_cent(cents in 1i64..1_000_000_000_000) {
            let typed = Decimal::new(cents, 2).to_string();
            prop_assert_eq!(parse_amount("a", &typed, Currency::USD).unwrap().amount(), Decimal::new(cents, 2));
        }
    }
}

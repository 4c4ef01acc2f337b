//! Money given back: a refund of a payment (through the gateway) or the reversal of a record
//! that moved no money through Settle, each split over the payment's invoice lines, with a
//! reason and a note.

use crate::key::IdempotencyKey;
use crate::money::{parse_amount, Currency, Money};
use crate::{FieldError, PaymentId, RefundId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Refund or reversal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum RefundKind {
    /// Money back to the payer through the gateway.
    Refund,
    /// A record (from the ERP) taken back: no money moves.
    Reversal,
    /// What the card network took for a dispute: no one asked for it, the gateway reported it.
    Dispute,
}

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "snake_case")
)]
pub enum RefundStatus {
    /// Above the approval limit: waits for an admin other than the requester.
    AwaitingApproval,
    /// An admin refused it: nothing was given back.
    Refused,
    /// Sent to the gateway, its end not known yet; the invoices are reopened meanwhile.
    Pending,
    Succeeded,
    /// The gateway could not make it: the money stays with the seller, the invoices are
    /// closed again.
    Failed,
    /// The gateway cancelled it: as failed.
    Cancelled,
}

impl RefundStatus {
    pub fn label(self) -> &'static str {
        match self {
            RefundStatus::AwaitingApproval => "Awaiting approval",
            RefundStatus::Refused => "Refused",
            RefundStatus::Pending => "Pending",
            RefundStatus::Succeeded => "Refunded",
            RefundStatus::Failed => "Failed",
            RefundStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether it counts against what is left to refund on its lines.
    pub fn holds(self) -> bool {
        matches!(
            self,
            RefundStatus::AwaitingApproval | RefundStatus::Pending | RefundStatus::Succeeded
        )
    }
}

/// A reason's label in `reasons`, or the code itself for one not in it.
pub fn label_in(reasons: &[(&str, &str)], code: &str) -> String {
    reasons
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| code.replace('_', " "))
}

/// The longest note.
pub const NOTE_MAX: usize = 500;

/// A reason and its note, checked: a reason `known` takes, a note of at most [`NOTE_MAX`]
/// characters, and one where the reason is "Other".
pub fn reason_and_note(
    known: impl Fn(&str) -> bool,
    reason: &str,
    note: &str,
) -> Result<(String, Option<String>), FieldError> {
    let reason = reason.trim();
    if !known(reason) {
        return Err(FieldError::new("reason", "Choose a reason."));
    }
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(FieldError::new(
            "note",
            format!("Keep the note to {NOTE_MAX} characters."),
        ));
    }
    if reason == crate::reason::OTHER && note.is_empty() {
        return Err(FieldError::new("note", "Say why: the reason is \"Other\"."));
    }
    Ok((
        reason.to_string(),
        (!note.is_empty()).then(|| note.to_string()),
    ))
}

/// What may be done now about an ACH debit that has not settled, as its rail allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoidChoice {
    /// It has not reached the bank: it is taken out, and no money moves.
    Cancel,
    /// It has reached the bank: a credit of the same amount reverses it, for an erroneous
    /// entry only (the network's rules), until this day.
    Reverse { until: chrono::NaiveDate },
    /// Neither: why, and what can be done instead.
    No(String),
}

/// The reasons the network's rules allow a debit to be reversed for: an erroneous entry.
pub const REVERSAL_REASONS: [(&str, &str); 4] = [
    ("duplicate", "Duplicate payment"),
    ("wrong_account", "Debited the wrong account"),
    ("wrong_amount", "Debited the wrong amount"),
    ("wrong_date", "Debited earlier than the customer asked"),
];

/// The form that voids a debit: take it out (`reverse` false) or reverse it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidInput {
    pub payment_id: PaymentId,
    pub reverse: bool,
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

impl VoidInput {
    /// The reason and the note: for a reversal one of [`REVERSAL_REASONS`] (the network's
    /// rules); else a refund reason code, which the server checks against the seller's list.
    pub fn check(&self) -> Result<(String, Option<String>), FieldError> {
        if self.reverse {
            reason_and_note(
                |r| REVERSAL_REASONS.iter().any(|(c, _)| *c == r),
                &self.reason,
                &self.note,
            )
        } else {
            reason_and_note(crate::reason::is_code, &self.reason, &self.note)
        }
    }
}

/// The form field of a line's refund amount.
pub fn line_field(invoice_number: &str) -> String {
    format!("refund-{invoice_number}")
}

/// The form field of what a refund gives back of the payment's unapplied credit.
pub const ON_ACCOUNT_LINE: &str = "refund-on-account";

/// One line of the refund form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLineInput {
    pub invoice: String,
    pub amount: String,
}

/// The refund (or reversal) form, as typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundInput {
    pub payment_id: PaymentId,
    pub lines: Vec<RefundLineInput>,
    pub reason: String,
    #[serde(default)]
    pub note: String,
    pub idempotency_key: String,
    /// What to give back of the payment's unapplied credit on account, as typed.
    #[serde(default)]
    pub on_account: String,
}

/// How much of one invoice line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub invoice_number: String,
    pub amount: Money,
}

/// A checked refund request: lines with an amount above nothing, a known reason, a note where
/// "Other" needs one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub payment_id: PaymentId,
    pub lines: Vec<RefundLine>,
    pub reason: String,
    pub note: Option<String>,
    pub key: IdempotencyKey,
    /// What it gives back of the payment's unapplied credit.
    pub on_account: Option<Money>,
}

impl RefundRequest {
    /// Checks the form; every error names its field. Lines left empty are not refunded.
    pub fn parse(input: &RefundInput, currency: Currency) -> Result<Self, FieldError> {
        let key = IdempotencyKey::parse(&input.idempotency_key).map_err(|_| {
            FieldError::new(
                "idempotency_key",
                "This refund form is out of date. Close it and open it again.",
            )
        })?;
        // Left empty or 0: nothing back on this line.
        let nothing = |typed: &str| {
            let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
            digits.chars().all(|c| c == '0') && !typed.contains('-')
        };
        let on_account = if nothing(&input.on_account) {
            None
        } else {
            Some(parse_amount(ON_ACCOUNT_LINE, &input.on_account, currency)?)
        };
        let mut lines = Vec::new();
        for l in &input.lines {
            let field = line_field(&l.invoice);
            if nothing(&l.amount) {
                continue;
            }
            let amount = parse_amount(&field, &l.amount, currency)?;
            if lines
                .iter()
                .any(|x: &RefundLine| x.invoice_number == l.invoice)
            {
                return Err(FieldError::new(field, "This invoice is in the form twice."));
            }
            lines.push(RefundLine {
                invoice_number: l.invoice.clone(),
                amount,
            });
        }
        if lines.is_empty() && on_account.is_none() {
            return Err(FieldError::new(
                "lines",
                "Enter an amount to give back on at least one invoice.",
            ));
        }
        let (reason, note) = reason_and_note(crate::reason::is_code, &input.reason, &input.note)?;
        Ok(RefundRequest {
            payment_id: input.payment_id,
            lines,
            reason,
            note,
            key,
            on_account,
        })
    }

    /// The lines and what is given back of the credit on account.
    pub fn total(&self) -> Money {
        let currency = self
            .lines
            .first()
            .map(|l| l.amount)
            .or(self.on_account)
            .map_or(Currency::USD, |m| m.currency());
        Money::sum(
            currency,
            self.lines
                .iter()
                .map(|l| &l.amount)
                .chain(self.on_account.as_ref()),
        )
        .unwrap_or_else(|| Money::zero(currency))
    }
}

/// A refund or reversal as staff and the payer see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub id: RefundId,
    pub number: String,
    pub kind: RefundKind,
    pub status: RefundStatus,
    pub amount: Money,
    pub lines: Vec<RefundLine>,
    pub reason: String,
    /// The reason as staff read it (the label the seller gives its code).
    pub reason_label: String,
    pub note: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// Who approved or refused it, and when.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub refusal_reason: Option<String>,
    pub failure_message: Option<String>,
    /// The payment it gives back from.
    pub payment_id: PaymentId,
    pub payment_number: String,
    pub company_code: String,
    pub company_name: String,
}

impl RefundView {
    /// "Refund R-1001" or "Reversal R-1002".
    pub fn title(&self) -> String {
        match self.kind {
            RefundKind::Refund => format!("Refund {}", self.number),
            RefundKind::Reversal => format!("Reversal {}", self.number),
            RefundKind::Dispute => format!("Dispute {}", self.number),
        }
    }
}

/// The path of a dispute's evidence pack (one zip), for staff.
pub const EVIDENCE_PATH: &str = "/ops/system/disputes/{id}/evidence.zip";

/// A dispute's evidence pack URL.
pub fn evidence_href(dispute: &str) -> String {
    EVIDENCE_PATH.replace("{id}", dispute)
}

/// A dispute the gateway reported, as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeView {
    pub id: String,
    pub payment_id: PaymentId,
    pub payment_number: String,
    pub company_code: String,
    pub company_name: String,
    pub amount: Money,
    /// The network's reason (`fraudulent`, `product_not_received`…).
    pub reason: String,
    /// The gateway's status (`needs_response`, `under_review`, `won`, `lost`…).
    pub status: String,
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// What it holds reopened on the invoices now.
    pub reopened: Money,
    /// Whole days left to send evidence when it was read (negative once past), while evidence
    /// is wanted.
    pub days_left: Option<i64>,
}

impl DisputeView {
    /// Days left to send evidence, a part day counted as a day (1: due within a day; 0: past
    /// due by less than a day; negative: days past due), while evidence is wanted.
    pub fn days_left_at(&self, now: DateTime<Utc>) -> Option<i64> {
        let wanted = matches!(
            self.status.as_str(),
            "needs_response" | "warning_needs_response"
        );
        self.evidence_due_by
            .filter(|_| wanted && self.closed_at.is_none())
            .map(|due| ((due - now).num_minutes() + 24 * 60 - 1).div_euclid(24 * 60))
    }

    /// "needs response" as people read it.
    pub fn status_label(&self) -> String {
        self.status.replace('_', " ")
    }
}

/// What the signed-in staff member may give back, for the refund dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAllowance {
    /// Admins, and clerks with the permission.
    pub may_refund: bool,
    /// Above this a second person (an admin) approves.
    pub approval_above: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(lines: &[(&str, &str)], reason: &str, note: &str) -> RefundInput {
        RefundInput {
            payment_id: PaymentId(1),
            lines: lines
                .iter()
                .map(|(i, a)| RefundLineInput {
                    invoice: i.to_string(),
                    amount: a.to_string(),
                })
                .collect(),
            reason: reason.into(),
            note: note.into(),
            idempotency_key: "0b5e1c7e-9f7a-4c1e-9a43-5d2b1f0c1a11".into(),
            on_account: String::new(),
        }
    }

    #[test]
    fn empty_lines_are_skipped_and_the_rest_add_up() {
        let r = RefundRequest::parse(
            &input(
                &[
                    ("INV-1", "10.50"),
                    ("INV-2", ""),
                    ("INV-3", "$1,000"),
                    ("INV-4", "0.00"),
                ],
                "duplicate",
                "",
            ),
            Currency::USD,
        )
        .unwrap();
        assert_eq!(r.lines.len(), 2);
        assert_eq!(r.total().display(), "$1,010.50");
        assert_eq!(r.note, None);
    }

    #[test]
    fn each_mistake_names_its_field() {
        let err = |i: RefundInput| RefundRequest::parse(&i, Currency::USD).unwrap_err();
        assert_eq!(err(input(&[("INV-1", "")], "duplicate", "")).field, "lines");
        assert_eq!(
            err(input(&[("INV-1", "1.234")], "duplicate", "")).field,
            "refund-INV-1"
        );
        assert_eq!(
            err(input(&[("INV-1", "-5")], "duplicate", "")).field,
            "refund-INV-1"
        );
        assert_eq!(err(input(&[("INV-1", "5")], "", "")).field, "reason");
        assert_eq!(err(input(&[("INV-1", "5")], "other", " ")).field, "note");
        assert_eq!(
            err(input(&[("INV-1", "5")], "duplicate", &"x".repeat(501))).field,
            "note"
        );
        let mut stale = input(&[("INV-1", "5")], "duplicate", "");
        stale.idempotency_key = "nope".into();
        assert_eq!(err(stale).field, "idempotency_key");
    }

    #[test]
    fn days_left_count_a_part_day_as_a_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut d = DisputeView {
            id: "dp_1".into(),
            payment_id: PaymentId(1),
            payment_number: "P-1".into(),
            company_code: "C1".into(),
            company_name: "C".into(),
            amount: Money::usd(1.into()),
            reason: "fraudulent".into(),
            status: "needs_response".into(),
            evidence_due_by: Some(now + chrono::Duration::days(7) - chrono::Duration::seconds(1)),
            opened_at: now,
            closed_at: None,
            reopened: Money::usd(1.into()),
            days_left: None,
        };
        assert_eq!(d.days_left_at(now), Some(7));
        d.evidence_due_by = Some(now + chrono::Duration::hours(2));
        assert_eq!(d.days_left_at(now), Some(1));
        d.evidence_due_by = Some(now - chrono::Duration::hours(2));
        assert_eq!(d.days_left_at(now), Some(0));
        d.evidence_due_by = Some(now - chrono::Duration::hours(30));
        assert_eq!(d.days_left_at(now), Some(-1));
        d.status = "under_review".into();
        assert_eq!(d.days_left_at(now), None);
    }

    #[test]
    fn other_with_a_note_is_taken() {
        let r = RefundRequest::parse(
            &input(&[("INV-1", "5")], "other", " goodwill "),
            Currency::USD,
        )
        .unwrap();
        assert_eq!(r.note.as_deref(), Some("goodwill"));
        assert_eq!(
            label_in(&REVERSAL_REASONS, "wrong_amount"),
            "Debited the wrong amount"
        );
        assert_eq!(label_in(&REVERSAL_REASONS, "gone_code"), "gone code");
    }
}

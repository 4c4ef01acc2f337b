//! Payments across all companies (staff's Payments screen and its CSV export): the filter as
//! typed in the URL, and the columns both show.

use crate::money::Money;
use crate::payment::PaymentStatus;
use crate::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How a payment was made, as the filter offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodFilter {
    Card,
    Ach,
    /// Recorded in the ERP (a check, a wire, a credit).
    Erp,
}

impl MethodFilter {
    pub const ALL: [MethodFilter; 3] = [MethodFilter::Card, MethodFilter::Ach, MethodFilter::Erp];

    pub fn key(self) -> &'static str {
        match self {
            MethodFilter::Card => "card",
            MethodFilter::Ach => "ach",
            MethodFilter::Erp => "erp",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MethodFilter::Card => "Card",
            MethodFilter::Ach => "ACH",
            MethodFilter::Erp => "Recorded in the ERP",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == raw)
    }
}

/// Money given back, as the filter offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackFilter {
    /// A refund pending or made.
    Refunded,
    /// An ERP record reversed.
    Reversed,
    /// A refund waiting for an admin's approval.
    AwaitingApproval,
    /// A dispute reported by the gateway.
    Disputed,
}

impl BackFilter {
    pub const ALL: [BackFilter; 4] = [
        BackFilter::Refunded,
        BackFilter::Reversed,
        BackFilter::AwaitingApproval,
        BackFilter::Disputed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            BackFilter::Refunded => "refunded",
            BackFilter::Reversed => "reversed",
            BackFilter::AwaitingApproval => "awaiting_approval",
            BackFilter::Disputed => "disputed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BackFilter::Refunded => "Refunded",
            BackFilter::Reversed => "Reversed",
            BackFilter::AwaitingApproval => "Refund awaiting approval",
            BackFilter::Disputed => "Disputed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == raw)
    }
}

/// The status filter's keys.
pub fn status_key(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Processing => "processing",
        PaymentStatus::Pending => "pending",
        PaymentStatus::Approved => "approved",
        PaymentStatus::Declined => "declined",
        PaymentStatus::Settled => "settled",
        PaymentStatus::Returned => "returned",
        PaymentStatus::Failed => "failed",
        PaymentStatus::Voided => "voided",
    }
}

pub const STATUSES: [PaymentStatus; 8] = [
    PaymentStatus::Approved,
    PaymentStatus::Pending,
    PaymentStatus::Settled,
    PaymentStatus::Declined,
    PaymentStatus::Returned,
    PaymentStatus::Processing,
    PaymentStatus::Failed,
    PaymentStatus::Voided,
];

/// The filter as it travels in the URL (every field optional text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFilterInput {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub method: String,
    /// Refunded, reversed, awaiting approval or disputed.
    #[serde(default)]
    pub back: String,
    #[serde(default)]
    pub page: String,
}

/// The filter, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// Made on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Made on or before this day (UTC).
    pub to: Option<NaiveDate>,
    pub status: Option<PaymentStatus>,
    pub method: Option<MethodFilter>,
    pub back: Option<BackFilter>,
    pub page: i64,
}

fn day(field: &str, raw: &str, what: &str) -> Result<Option<NaiveDate>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    crate::erp::date(field, t, what).map(Some)
}

impl PaymentFilter {
    pub fn parse(input: &PaymentFilterInput) -> Result<Self, FieldError> {
        let from = day("from", &input.from, "first day")?;
        let to = day("to", &input.to, "last day")?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(FieldError::new(
                    "to",
                    "The last day is before the first day.",
                ));
            }
        }
        let status = match input.status.trim() {
            "" => None,
            s => Some(
                STATUSES
                    .into_iter()
                    .find(|st| status_key(*st) == s)
                    .ok_or_else(|| FieldError::new("status", "Choose a status from the list."))?,
            ),
        };
        let method = match input.method.trim() {
            "" => None,
            m => Some(
                MethodFilter::parse(m)
                    .ok_or_else(|| FieldError::new("method", "Choose a method from the list."))?,
            ),
        };
        let back = match input.back.trim() {
            "" => None,
            b => Some(BackFilter::parse(b).ok_or_else(|| {
                FieldError::new(
                    "back",
                    "Choose refunded, reversed or disputed from the list.",
                )
            })?),
        };
        let page = input
            .page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, 100_000);
        Ok(PaymentFilter {
            from,
            to,
            status,
            method,
            back,
            page,
        })
    }
}

/// One payment in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub status: PaymentStatus,
    pub company_code: String,
    pub company_name: String,
    pub method: String,
    /// Invoice numbers with what each got, e.g. "INV-1 (120.00)".
    pub invoices: Vec<(String, Money)>,
    /// Each invoice paid short with its reason code and comment: "INV-1 pricing (5 % agreed)";
    /// a reason from before codes is its text alone.
    pub short_pays: Vec<String>,
    pub amount: Money,
    /// Its card surcharge (part of the amount, none of any invoice's).
    #[serde(default)]
    pub surcharge: Option<Money>,
    /// What it put on account (part of the amount, the company's credit).
    #[serde(default)]
    pub on_account: Option<Money>,
    /// Who took it: a staff member, a customer user, or the ERP.
    pub taken_by: String,
    /// Staff taking it on the company's behalf.
    pub on_behalf: bool,
    pub consent: String,
    /// What its refunds and reversals gave back or are giving back (pending, succeeded).
    pub refunded: Money,
    /// Each refund or reversal: "R-1001 refund 25.00 succeeded (duplicate)".
    pub refunds: Vec<String>,
    /// The latest dispute: "25.00 needs_response (fraudulent)".
    pub dispute: Option<String>,
}

/// The columns of the list and of its CSV export.
pub const COLUMNS: [&str; 17] = [
    "Payment",
    "Date (UTC)",
    "Status",
    "Company ID",
    "Company",
    "Method",
    "Invoices",
    "Short-pay reasons",
    "Amount",
    "Card surcharge",
    "On account",
    "Currency",
    "Taken by",
    "Authorization",
    "Refunded",
    "Refunds",
    "Dispute",
];

impl PaymentRow {
    /// "INV-1 (120.00); INV-2 (5.00)".
    pub fn invoices_text(&self) -> String {
        self.invoices
            .iter()
            .map(|(n, a)| format!("{n} ({})", a.amount()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// "Casey Clerk (on behalf)".
    pub fn taken_by_text(&self) -> String {
        if self.on_behalf {
            format!("{} (on behalf)", self.taken_by)
        } else {
            self.taken_by.clone()
        }
    }

    /// The row's cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> [String; 17] {
        [
            self.number.clone(),
            self.created_at.format("%Y-%m-%d %H:%M").to_string(),
            self.status.label().to_string(),
            self.company_code.clone(),
            self.company_name.clone(),
            self.method.clone(),
            self.invoices_text(),
            self.short_pays.join("; "),
            format!("{:.2}", self.amount.amount()),
            self.surcharge
                .map(|m| format!("{:.2}", m.amount()))
                .unwrap_or_default(),
            self.on_account
                .map(|m| format!("{:.2}", m.amount()))
                .unwrap_or_default(),
            self.amount.currency().code().to_string(),
            self.taken_by_text(),
            self.consent.clone(),
            format!("{:.2}", self.refunded.amount()),
            self.refunds.join("; "),
            self.dispute.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_checked_field_by_field() {
        let mut i = PaymentFilterInput {
            from: "2026-11-01".into(),
            to: "2026-10-01".into(),
            ..Default::default()
        };
        assert_eq!(PaymentFilter::parse(&i).unwrap_err().field, "to");
        i.to = "2026-11-30".into();
        i.status = "settled".into();
        i.method = "ach".into();
        let f = PaymentFilter::parse(&i).unwrap();
        assert_eq!(
            (f.status, f.method, f.page),
            (Some(PaymentStatus::Settled), Some(MethodFilter::Ach), 1)
        );
        i.status = "bogus".into();
        assert_eq!(PaymentFilter::parse(&i).unwrap_err().field, "status");
        i.status.clear();
        i.back = "refunded".into();
        assert_eq!(
            PaymentFilter::parse(&i).unwrap().back,
            Some(BackFilter::Refunded)
        );
        i.back = "all".into();
        assert_eq!(PaymentFilter::parse(&i).unwrap_err().field, "back");
        i.back.clear();
        i.from = "11/01/2026".into();
        assert_eq!(PaymentFilter::parse(&i).unwrap_err().field, "from");
    }
}

//! Invoices and their aging.

use crate::money::Money;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An invoice with a balance still to pay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenInvoice {
    pub id: crate::InvoiceId,
    pub number: String,
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Whole days past the due date as of `today` (0 when not yet due).
    pub days_overdue: i64,
    pub total: Money,
    pub balance: Money,
}

impl OpenInvoice {
    pub fn aging(&self) -> AgingBucket {
        AgingBucket::from_days_overdue(self.days_overdue)
    }
}

/// Days past due on `today` for an invoice due on `due` (never negative).
pub fn days_overdue(due: NaiveDate, today: NaiveDate) -> i64 {
    (today - due).num_days().max(0)
}

/// The aging buckets AR reports use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgingBucket {
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Over90,
}

impl AgingBucket {
    pub const ALL: [AgingBucket; 5] = [
        AgingBucket::Current,
        AgingBucket::Days1To30,
        AgingBucket::Days31To60,
        AgingBucket::Days61To90,
        AgingBucket::Over90,
    ];

    pub fn from_days_overdue(days: i64) -> Self {
        match days {
            i64::MIN..=0 => AgingBucket::Current,
            1..=30 => AgingBucket::Days1To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            _ => AgingBucket::Over90,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AgingBucket::Current => "Current",
            AgingBucket::Days1To30 => "1–30 days",
            AgingBucket::Days31To60 => "31–60 days",
            AgingBucket::Days61To90 => "61–90 days",
            AgingBucket::Over90 => "90+ days",
        }
    }

    /// CSS class suffix used to colour the bucket.
    pub fn css(self) -> &'static str {
        match self {
            AgingBucket::Current => "current",
            AgingBucket::Days1To30 => "d30",
            AgingBucket::Days31To60 => "d60",
            AgingBucket::Days61To90 => "d90",
            AgingBucket::Over90 => "d90plus",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_days() {
        assert_eq!(AgingBucket::from_days_overdue(0), AgingBucket::Current);
        assert_eq!(AgingBucket::from_days_overdue(1), AgingBucket::Days1To30);
        assert_eq!(AgingBucket::from_days_overdue(30), AgingBucket::Days1To30);
        assert_eq!(AgingBucket::from_days_overdue(31), AgingBucket::Days31To60);
        assert_eq!(AgingBucket::from_days_overdue(60), AgingBucket::Days31To60);
        assert_eq!(AgingBucket::from_days_overdue(61), AgingBucket::Days61To90);
        assert_eq!(AgingBucket::from_days_overdue(90), AgingBucket::Days61To90);
        assert_eq!(AgingBucket::from_days_overdue(91), AgingBucket::Over90);
    }

    #[test]
    fn days_overdue_never_negative() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(days_overdue(d(2026, 11, 30), d(2026, 11, 25)), 0);
        assert_eq!(days_overdue(d(2026, 11, 25), d(2026, 11, 25)), 0);
        assert_eq!(days_overdue(d(2026, 10, 26), d(2026, 11, 25)), 30);
        assert_eq!(days_overdue(d(2025, 11, 25), d(2026, 11, 25)), 365);
    }
}

/// One invoice of a company with what has been paid on it (the portal's invoice page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDetail {
    pub invoice: OpenInvoice,
    /// Payments applied to it, newest first.
    pub payments: Vec<InvoicePayment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoicePayment {
    pub payment_id: crate::PaymentId,
    pub number: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub applied: Money,
    pub status: crate::payment::PaymentStatus,
}

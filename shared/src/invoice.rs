//! Invoices and their aging.

use crate::error::FieldError;
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

    /// The bucket in a URL (`aging=31-60`).
    pub fn key(self) -> &'static str {
        match self {
            AgingBucket::Current => "current",
            AgingBucket::Days1To30 => "1-30",
            AgingBucket::Days31To60 => "31-60",
            AgingBucket::Days61To90 => "61-90",
            AgingBucket::Over90 => "over-90",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        AgingBucket::ALL.into_iter().find(|b| b.key() == raw)
    }

    /// The due dates of the bucket's invoices on `today`, both ends included.
    pub fn due_range(self, today: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let ago = |days: i64| Some(today - chrono::Duration::days(days));
        match self {
            AgingBucket::Current => (Some(today), None),
            AgingBucket::Days1To30 => (ago(30), ago(1)),
            AgingBucket::Days31To60 => (ago(60), ago(31)),
            AgingBucket::Days61To90 => (ago(90), ago(61)),
            AgingBucket::Over90 => (None, ago(91)),
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

/// Columns the open-invoice list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceSort {
    Number,
    Due,
    DaysOverdue,
    Balance,
}

impl InvoiceSort {
    pub const ALL: [InvoiceSort; 4] = [
        InvoiceSort::Number,
        InvoiceSort::Due,
        InvoiceSort::DaysOverdue,
        InvoiceSort::Balance,
    ];

    pub fn key(self) -> &'static str {
        match self {
            InvoiceSort::Number => "number",
            InvoiceSort::Due => "due",
            InvoiceSort::DaysOverdue => "overdue",
            InvoiceSort::Balance => "balance",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        InvoiceSort::ALL.into_iter().find(|s| s.key() == raw)
    }

    /// The direction a first click sorts in: the most overdue and the largest first.
    pub fn descending_first(self) -> bool {
        matches!(self, InvoiceSort::DaysOverdue | InvoiceSort::Balance)
    }
}

/// The open-invoice list as the URL holds it (`?q=&aging=&sort=&dir=&page=`); anything
/// missing is the default list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceQuery {
    /// Part of an invoice or PO number.
    pub q: String,
    /// An [`AgingBucket::key`], or empty for all.
    pub aging: String,
    pub sort: String,
    /// `asc` or `desc`.
    pub dir: String,
    pub page: i64,
}

/// A checked [`InvoiceQuery`]. Oldest due date first unless told otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceSearch {
    pub q: Option<String>,
    pub aging: Option<AgingBucket>,
    pub sort: InvoiceSort,
    pub descending: bool,
    pub page: i64,
}

impl InvoiceSearch {
    pub const MAX_SEARCH: usize = 60;

    pub fn parse(query: &InvoiceQuery) -> Result<Self, FieldError> {
        let q = query.q.trim();
        if q.chars().count() > Self::MAX_SEARCH {
            return Err(FieldError::new(
                "q",
                format!(
                    "Search with at most {} characters of an invoice or PO number.",
                    Self::MAX_SEARCH
                ),
            ));
        }
        let aging = match query.aging.trim() {
            "" => None,
            a => Some(AgingBucket::parse(a).ok_or_else(|| {
                FieldError::new("aging", "Choose an aging bucket from the list.")
            })?),
        };
        let sort = InvoiceSort::parse(&query.sort).unwrap_or(InvoiceSort::Due);
        let descending = match query.dir.as_str() {
            "asc" => false,
            "desc" => true,
            _ => sort.descending_first(),
        };
        Ok(InvoiceSearch {
            q: (!q.is_empty()).then(|| q.to_string()),
            aging,
            sort,
            descending,
            page: query.page.max(1),
        })
    }

    /// Whether it narrows the list (a search or an aging bucket), rather than only ordering it.
    pub fn filters(&self) -> bool {
        self.q.is_some() || self.aging.is_some()
    }
}

/// One page of a company's open invoices with what every matching invoice adds up to (the
/// server's count and balance, across all pages).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoicePage {
    pub page: crate::page::Page<OpenInvoice>,
    pub balance: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, aging: &str, sort: &str, dir: &str) -> InvoiceQuery {
        InvoiceQuery {
            q: q.into(),
            aging: aging.into(),
            sort: sort.into(),
            dir: dir.into(),
            page: 0,
        }
    }

    #[test]
    fn invoice_searches() {
        let s = InvoiceSearch::parse(&InvoiceQuery::default()).unwrap();
        assert_eq!(
            (s.q, s.aging, s.sort, s.descending, s.page),
            (None, None, InvoiceSort::Due, false, 1)
        );
        let s = InvoiceSearch::parse(&query(" PO-7 ", "31-60", "balance", "")).unwrap();
        assert_eq!(s.q.as_deref(), Some("PO-7"));
        assert_eq!(s.aging, Some(AgingBucket::Days31To60));
        assert!(s.descending && s.filters());
        let s = InvoiceSearch::parse(&query("", "", "overdue", "asc")).unwrap();
        assert_eq!((s.sort, s.descending), (InvoiceSort::DaysOverdue, false));
        assert_eq!(
            InvoiceSearch::parse(&query("", "older", "", ""))
                .unwrap_err()
                .field,
            "aging"
        );
        assert_eq!(
            InvoiceSearch::parse(&query(&"9".repeat(61), "", "", ""))
                .unwrap_err()
                .field,
            "q"
        );
    }

    #[test]
    fn bucket_due_ranges_meet_the_days_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        for days in -40..200 {
            let due = today - chrono::Duration::days(days);
            let bucket = AgingBucket::from_days_overdue(days_overdue(due, today));
            for b in AgingBucket::ALL {
                let (from, to) = b.due_range(today);
                let inside = from.is_none_or(|f| due >= f) && to.is_none_or(|t| due <= t);
                assert_eq!(inside, b == bucket, "{days} days, {b:?}");
            }
        }
    }

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

//! The staff home: the book's figures (open, past due, aging, cash collected per week by rail,
//! days sales outstanding, the customers most past due) from a snapshot the server keeps, and
//! the payments that failed or came back lately, read live. The snapshot carries its charts,
//! drawn by the server ([`crate::chart`]).

use crate::aging::{AgingRow, Bucket, Figures};
use crate::money::Money;
use crate::payment::PaymentStatus;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How many weeks of cash the dashboard shows, and how many months of DSO.
pub const WEEKS: usize = 12;
pub const MONTHS: usize = 6;
/// How many customers the "most past due" list holds.
pub const TOP_OVERDUE: usize = 10;

/// The way money came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rail {
    Card,
    Ach,
    /// Recorded in the ERP (checks, wires, anything taken outside Settle).
    Erp,
}

impl Rail {
    pub const ALL: [Rail; 3] = [Rail::Card, Rail::Ach, Rail::Erp];

    pub fn label(self) -> &'static str {
        match self {
            Rail::Card => "Card",
            Rail::Ach => "ACH",
            Rail::Erp => "Recorded in the ERP",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Rail::Card => "card",
            Rail::Ach => "ach",
            Rail::Erp => "erp",
        }
    }

    /// Its colour in the charts (a CSS class).
    pub fn class(self) -> &'static str {
        match self {
            Rail::Card => "s-accent",
            Rail::Ach => "s-green",
            Rail::Erp => "s-amber",
        }
    }
}

/// Cash collected in one week (Monday to Sunday in the seller's days), by rail: card payments
/// approved, ACH debits settled, payments the ERP recorded on the day it received them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekCash {
    /// The Monday the week starts on.
    pub week: NaiveDate,
    /// Card, ACH, ERP (in [`Rail::ALL`]'s order).
    pub rails: [Money; 3],
}

impl WeekCash {
    pub fn total(&self) -> Money {
        sum(&self.rails)
    }
}

/// Days sales outstanding of a month: the receivables at its end (today for this month)
/// divided by what was invoiced in it, times its days (so far, for this month).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DsoMonth {
    /// The month's first day.
    pub month: NaiveDate,
    /// The receivables on its last day (today, for this month).
    pub receivables: Money,
    /// What was invoiced in it (invoices issued, credit memos and cancelled ones left out).
    pub invoiced: Money,
    /// Its days (up to today, for this month).
    pub days: u32,
}

impl DsoMonth {
    /// The formula, as the dashboard states it.
    pub const FORMULA: &'static str =
        "DSO = receivables at the month's end ÷ invoiced in the month × days in the month (this month: today's receivables, invoiced so far, days so far).";

    /// `Nov 2026`.
    pub fn label(&self) -> String {
        self.month.format("%b %Y").to_string()
    }

    /// The month's DSO in days, one decimal; `None` when nothing was invoiced in it.
    pub fn dso(&self) -> Option<Decimal> {
        if !self.invoiced.is_positive() {
            return None;
        }
        let days = Decimal::from(self.days);
        Some((self.receivables.amount() / self.invoiced.amount() * days).round_dp(1))
    }
}

/// The book's figures as of a moment: what the dashboard draws, kept as one snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The seller's day the figures are of.
    pub as_of: NaiveDate,
    pub computed_at: DateTime<Utc>,
    /// When it was made, on the seller's clock (`09:41`).
    pub computed_time: String,
    pub time_zone: String,
    /// The aging of the whole book on the day (open, buckets, credit, disputed).
    pub totals: Figures,
    /// How many companies owe anything.
    pub companies: u64,
    /// The customers most past due, most first (only those past due).
    pub top_overdue: Vec<AgingRow>,
    /// The last [`WEEKS`] weeks, oldest first; the last is this week so far.
    pub weeks: Vec<WeekCash>,
    /// The last [`MONTHS`] months, oldest first; the last is this month so far.
    pub dso: Vec<DsoMonth>,
    /// The charts of these figures, drawn.
    pub charts: Charts,
}

/// A snapshot's charts as SVG markup, drawn by the server when it makes the snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Charts {
    /// The aging's buckets.
    pub aging: String,
    /// Cash per week, stacked by rail.
    pub cash: String,
    /// DSO per month.
    pub dso: String,
}

impl Charts {
    pub fn draw(totals: &Figures, weeks: &[WeekCash], months: &[DsoMonth]) -> Charts {
        use crate::chart::{bar_chart, compact_usd, line_chart, value, Series};
        let buckets: Vec<String> = Bucket::ALL.iter().map(|b| b.label().to_string()).collect();
        let aging = bar_chart(
            &buckets,
            &[Series {
                class: Rail::Card.class(),
                values: totals.buckets.iter().map(|m| value(*m)).collect(),
            }],
            compact_usd,
            1,
        );
        let rails: Vec<Series> = Rail::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| Series {
                class: r.class(),
                values: weeks.iter().map(|w| value(w.rails[i])).collect(),
            })
            .collect();
        let week_labels: Vec<String> = weeks
            .iter()
            .map(|w| w.week.format("%b %-d").to_string())
            .collect();
        let cash = bar_chart(&week_labels, &rails, compact_usd, 2);
        let month_labels: Vec<String> = months.iter().map(DsoMonth::label).collect();
        let dso = line_chart(
            &month_labels,
            &months
                .iter()
                .map(|m| m.dso().and_then(|d| d.to_f64()))
                .collect::<Vec<_>>(),
            |v| format!("{v:.0}"),
            |v| format!("{v:.1}"),
        );
        Charts { aging, cash, dso }
    }
}

/// A payment to look at: one that failed, was declined or came back (returned) lately.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    pub number: String,
    pub company_code: String,
    pub company_name: String,
    pub amount: Money,
    /// Declined, failed or returned.
    pub status: PaymentStatus,
    pub method: Option<String>,
    /// Why, in the gateway's or the bank's words.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// When, on the seller's clock (`Dec 7, 09:41`).
    pub when: String,
}

/// The staff home.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub snapshot: Snapshot,
    /// Payments that failed, were declined or returned since the start of the seller's
    /// yesterday, newest first.
    pub attention: Vec<Attention>,
}

fn sum(m: &[Money]) -> Money {
    m.iter().fold(Money::usd(Decimal::ZERO), |a, b| {
        a.checked_add(*b).unwrap_or(a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dso_is_receivables_over_invoiced_times_days() {
        let m = |r: i64, i: i64, days| DsoMonth {
            month: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            receivables: Money::usd(Decimal::from(r)),
            invoiced: Money::usd(Decimal::from(i)),
            days,
        };
        assert_eq!(m(50_000, 100_000, 30).dso(), Some(Decimal::from(15)));
        assert_eq!(m(10_000, 30_000, 30).dso(), Some(Decimal::from(10)));
        assert_eq!(m(1, 3, 31).dso(), Some(Decimal::new(103, 1)));
        assert_eq!(m(10_000, 0, 30).dso(), None);
    }
}

//! The staff home: the book's figures (open, past due, aging, cash collected per week by rail,
//! days sales outstanding, the customers most past due) from a snapshot the server keeps, and
//! the payments that failed or came back lately, read live. The chart geometry the page draws
//! its SVG with is here too, so it is tested apart from any view.

use crate::aging::{AgingRow, Figures};
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

/// A value axis from zero to a round top, in round steps (1, 2 or 5 × a power of ten), with
/// at most `max_steps` steps; never zero high (an empty chart still has an axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub top: f64,
    pub step: f64,
}

impl Axis {
    pub fn new(max: f64, max_steps: u32) -> Axis {
        let max_steps = max_steps.max(1) as f64;
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let rough = max / max_steps;
        let power = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|s| (max / s).ceil() <= max_steps)
            .unwrap_or(10.0 * power);
        Axis {
            top: (max / step).ceil() * step,
            step,
        }
    }

    /// The ticks from zero to the top.
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.top / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// How far up (0 to `height`) a value sits.
    pub fn scale(&self, value: f64, height: f64) -> f64 {
        (value.max(0.0) / self.top * height).min(height)
    }
}

/// A money amount as a number for a chart.
pub fn chart_value(m: Money) -> f64 {
    m.amount().to_f64().unwrap_or(0.0)
}

/// An axis label: `$0`, `$500`, `$2.5K`, `$1.2M`.
pub fn compact_usd(v: f64) -> String {
    let (n, unit) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "K")
    } else {
        (v, "")
    };
    let text = format!("{n:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("${text}{unit}")
}

/// Stacked bars: for each category, each series' segment as (bottom, height) in `0..=height`,
/// the segments one on another in series order.
pub fn stack(values: &[Vec<f64>], axis: Axis, height: f64) -> Vec<Vec<(f64, f64)>> {
    values
        .iter()
        .map(|series| {
            let mut below = 0.0;
            series
                .iter()
                .map(|v| {
                    let bottom = axis.scale(below, height);
                    below += v.max(0.0);
                    (bottom, axis.scale(below, height) - bottom)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_is_round_and_holds_the_largest_value() {
        for (max, top, step) in [
            (0.0, 1.0, 0.2),
            (1.0, 1.0, 0.2),
            (7.0, 8.0, 2.0),
            (10.0, 10.0, 2.0),
            (12_345.0, 15_000.0, 5_000.0),
            (980_000.0, 1_000_000.0, 200_000.0),
            (1_000_001.0, 1_500_000.0, 500_000.0),
            (61.3, 80.0, 20.0),
        ] {
            let a = Axis::new(max, 5);
            assert_eq!((a.top, a.step), (top, step), "max {max}");
            assert!(a.top >= max);
            assert!(a.ticks().len() <= 6);
            assert_eq!(a.ticks().first(), Some(&0.0));
            assert_eq!(a.ticks().last(), Some(&a.top));
        }
        assert_eq!(Axis::new(f64::NAN, 5).top, 1.0);
    }

    #[test]
    fn stacked_segments_sit_on_each_other_and_reach_the_total() {
        let axis = Axis::new(100.0, 5);
        let bars = stack(&[vec![10.0, 30.0, 0.0], vec![100.0, 0.0, 0.0]], axis, 200.0);
        assert_eq!(bars[0], vec![(0.0, 20.0), (20.0, 60.0), (80.0, 0.0)]);
        assert_eq!(bars[1][0], (0.0, 200.0));
        assert_eq!(axis.scale(250.0, 200.0), 200.0);
        assert_eq!(axis.scale(-5.0, 200.0), 0.0);
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(compact_usd(0.0), "$0");
        assert_eq!(compact_usd(500.0), "$500");
        assert_eq!(compact_usd(2_500.0), "$2.5K");
        assert_eq!(compact_usd(20_000.0), "$20K");
        assert_eq!(compact_usd(1_200_000.0), "$1.2M");
    }

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

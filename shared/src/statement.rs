//! Customer statements: a company's account for a month (the seller's days) — what it owes and
//! how old, its open invoices, the payments and credits of the month — as a PDF staff download
//! from the company's page and customers from the portal, and emailed each month on the day an
//! admin sets to every company with a balance.

use crate::FieldError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Where staff download a company's statement (`{code}`: its Company ID; `?month=YYYY-MM`).
pub const STAFF_STATEMENT_PATH: &str = "/ops/crm/companies/{code}/statement.pdf";
/// Where a customer downloads their company's.
pub const PORTAL_STATEMENT_PATH: &str = "/portal/statement.pdf";

/// The staff download address of company `code`'s statement for `month` (this month's when
/// `None`).
pub fn staff_path(code: &str, month: Option<&str>) -> String {
    let path = STAFF_STATEMENT_PATH.replace("{code}", code);
    match month {
        Some(m) => format!("{path}?month={m}"),
        None => path,
    }
}

/// A statement's month: its first day and its last (today's for the month under way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The month `raw` (`YYYY-MM`; this month when empty) as of `today`: not a month to come.
    pub fn parse(raw: Option<&str>, today: NaiveDate) -> Result<Period, FieldError> {
        let first = match raw.map(str::trim).filter(|r| !r.is_empty()) {
            None => today.with_day(1).expect("day 1"),
            Some(r) => NaiveDate::parse_from_str(&format!("{r}-01"), "%Y-%m-%d")
                .ok()
                .filter(|_| r.len() == 7)
                .ok_or_else(|| {
                    FieldError::new("month", "Enter the month as YYYY-MM, e.g. 2026-11.")
                })?,
        };
        if first > today {
            return Err(FieldError::new(
                "month",
                "Choose this month or one before it.",
            ));
        }
        if first.year() < 2000 {
            return Err(FieldError::new("month", "Choose a month from 2000 on."));
        }
        let last = month_end(first);
        Ok(Period {
            from: first,
            to: last.min(today),
        })
    }

    /// `2026-11`.
    pub fn month(&self) -> String {
        self.from.format("%Y-%m").to_string()
    }

    /// `November 2026`.
    pub fn label(&self) -> String {
        self.from.format("%B %Y").to_string()
    }

    /// The month before this one, whole.
    pub fn previous(&self) -> Period {
        let to = self.from.pred_opt().expect("a day before");
        Period {
            from: to.with_day(1).expect("day 1"),
            to,
        }
    }
}

/// The last day of `first`'s month.
pub fn month_end(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.expect("a month after")
        .pred_opt()
        .expect("a day before")
}

/// The schedule an admin sets: statements emailed each month on `day` (1–28), for the month
/// before, to every company with a balance; off when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSchedule {
    pub day: Option<u32>,
    /// Printed on every statement under "How to pay": where checks go, bank details for a wire.
    pub remittance: String,
    /// The last month emailed (`YYYY-MM`) and how many statements went out for it.
    pub last_month: Option<String>,
    #[serde(default)]
    pub last_count: i64,
}

/// The most a remittance text holds.
pub const REMITTANCE_MAX: usize = 600;

impl StatementSchedule {
    /// The form as typed: the day (empty: off) and the remittance text.
    pub fn parse(day: &str, remittance: &str) -> Result<StatementSchedule, FieldError> {
        let day = match day.trim() {
            "" => None,
            d => Some(
                d.parse::<u32>()
                    .ok()
                    .filter(|d| (1..=28).contains(d))
                    .ok_or_else(|| {
                        FieldError::new(
                            "day",
                            "Choose a day from 1 to 28, or leave it empty to send none.",
                        )
                    })?,
            ),
        };
        let remittance = remittance.trim().replace("\r\n", "\n");
        if remittance.chars().count() > REMITTANCE_MAX {
            return Err(FieldError::new(
                "remittance",
                format!("Keep it to {REMITTANCE_MAX} characters."),
            ));
        }
        if remittance.chars().any(|c| c.is_control() && c != '\n') {
            return Err(FieldError::new(
                "remittance",
                "Use plain text: letters, digits, punctuation and line breaks.",
            ));
        }
        Ok(StatementSchedule {
            day,
            remittance,
            last_month: None,
            last_count: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_is_whole_before_today_and_to_today_within_it() {
        let today = day("2026-12-07");
        assert_eq!(
            Period::parse(None, today).unwrap(),
            Period {
                from: day("2026-12-01"),
                to: today
            }
        );
        let nov = Period::parse(Some("2026-11"), today).unwrap();
        assert_eq!((nov.from, nov.to), (day("2026-11-01"), day("2026-11-30")));
        assert_eq!(nov.label(), "November 2026");
        assert_eq!(nov.previous().month(), "2026-10");
        assert_eq!(month_end(day("2028-02-01")), day("2028-02-29"));
        assert_eq!(
            Period::parse(Some("2026-12"), today).unwrap().previous(),
            nov
        );
        for bad in ["2027-01", "2026-13", "11/2026", "2026-1", "1999-12"] {
            assert_eq!(
                Period::parse(Some(bad), today).unwrap_err().field,
                "month",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_schedule_is_a_day_from_1_to_28_and_plain_text() {
        let s = StatementSchedule::parse(" 5 ", "Mail checks to:\r\nPO Box 1").unwrap();
        assert_eq!(s.day, Some(5));
        assert_eq!(s.remittance, "Mail checks to:\nPO Box 1");
        assert_eq!(StatementSchedule::parse("", "").unwrap().day, None);
        for d in ["0", "29", "x", "-1"] {
            assert_eq!(StatementSchedule::parse(d, "").unwrap_err().field, "day");
        }
        assert_eq!(
            StatementSchedule::parse("1", "a\u{7}b").unwrap_err().field,
            "remittance"
        );
        assert_eq!(
            StatementSchedule::parse("1", &"x".repeat(601))
                .unwrap_err()
                .field,
            "remittance"
        );
    }
}

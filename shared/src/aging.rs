//! The aging of receivables as of a day: each company's open balance by how long past due,
//! with its unapplied credit and what is in dispute. The staff report, its CSV and XLSX
//! exports and `GET /api/v1/reports/aging` all read these types.

use crate::money::Money;
use crate::FieldError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where staff download the report (the same query string as the page).
pub const AGING_CSV_PATH: &str = "/exports/aging.csv";
pub const AGING_XLSX_PATH: &str = "/exports/aging.xlsx";

/// How long past its due date an open balance is on the report's day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Not yet due, or due that day.
    Current,
    Days1To30,
    Days31To60,
    Days61To90,
    Days91To120,
    Over120,
}

impl Bucket {
    pub const ALL: [Bucket; 6] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Days91To120,
        Bucket::Over120,
    ];

    /// The bucket of an invoice due on `due`, seen on `as_of`.
    pub fn of(as_of: NaiveDate, due: NaiveDate) -> Bucket {
        match (as_of - due).num_days() {
            ..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            91..=120 => Bucket::Days91To120,
            _ => Bucket::Over120,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::Current => "Current",
            Bucket::Days1To30 => "1–30",
            Bucket::Days31To60 => "31–60",
            Bucket::Days61To90 => "61–90",
            Bucket::Days91To120 => "91–120",
            Bucket::Over120 => "120+",
        }
    }

    /// The API's and the URL's name.
    pub fn key(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "days_1_30",
            Bucket::Days31To60 => "days_31_60",
            Bucket::Days61To90 => "days_61_90",
            Bucket::Days91To120 => "days_91_120",
            Bucket::Over120 => "over_120",
        }
    }

    pub fn index(self) -> usize {
        Bucket::ALL.iter().position(|b| *b == self).unwrap_or(0)
    }
}

/// A company's (or the book's) figures as of the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// The open balance in each bucket, in [`Bucket::ALL`]'s order.
    pub buckets: [Money; 6],
    /// The open balance: the buckets' sum.
    pub open: Money,
    pub unapplied_credit: Money,
    pub disputed: Money,
}

impl Figures {
    pub fn zero() -> Self {
        let z = Money::usd(Default::default());
        Figures {
            buckets: [z; 6],
            open: z,
            unapplied_credit: z,
            disputed: z,
        }
    }

    /// Past due: every bucket but Current.
    pub fn overdue(&self) -> Money {
        self.buckets[1..]
            .iter()
            .fold(Money::usd(Default::default()), |a, b| {
                a.checked_add(*b).unwrap_or(a)
            })
    }

    /// Adds `other`'s figures to these.
    pub fn add(&mut self, other: &Figures) {
        let plus = |a: Money, b: Money| a.checked_add(b).unwrap_or(a);
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a = plus(*a, b);
        }
        self.open = plus(self.open, other.open);
        self.unapplied_credit = plus(self.unapplied_credit, other.unapplied_credit);
        self.disputed = plus(self.disputed, other.disputed);
    }
}

/// One company's line of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgingRow {
    /// The company's code (`C1001`).
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

/// How the report's rows are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AgingSort {
    /// The company's name, A to Z.
    Name,
    /// The open balance, largest first.
    #[default]
    Open,
    /// Past due (every bucket but Current), largest first.
    Overdue,
    /// The oldest bucket first: 120+, then 91–120, and so on, largest first.
    Oldest,
}

impl AgingSort {
    pub const ALL: [AgingSort; 4] = [
        AgingSort::Open,
        AgingSort::Overdue,
        AgingSort::Oldest,
        AgingSort::Name,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AgingSort::Name => "name",
            AgingSort::Open => "open",
            AgingSort::Overdue => "overdue",
            AgingSort::Oldest => "oldest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AgingSort::Name => "Company name",
            AgingSort::Open => "Open balance",
            AgingSort::Overdue => "Past due",
            AgingSort::Oldest => "Oldest first",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == raw)
    }
}

/// The report's request as typed in the URL (`?as_of=2026-11-30&q=acme&sort=overdue`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgingInput {
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    /// Only companies with something past due.
    #[serde(default)]
    pub overdue: Option<String>,
}

impl AgingInput {
    /// The query string that asks for this request again, as typed (for the exports and the
    /// drill-down's way back).
    pub fn query_string(&self) -> String {
        crate::format::query_string(&[
            ("as_of", &self.as_of),
            ("q", &self.q),
            ("sort", &self.sort),
            ("overdue", &self.overdue),
        ])
    }
}

/// The report's request, checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgingQuery {
    /// The day (the seller's today when `None`).
    pub as_of: Option<NaiveDate>,
    /// Part of the company's name or code.
    pub q: Option<String>,
    pub sort: AgingSort,
    pub overdue_only: bool,
}

/// The earliest day a report goes back to.
pub fn earliest_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

impl AgingQuery {
    /// Checks the request; `today` is the seller's (no report of a day to come).
    pub fn parse(input: &AgingInput, today: NaiveDate) -> Result<Self, FieldError> {
        let as_of = match crate::format::parse_day("as_of", input.as_of.as_deref())? {
            None => None,
            Some(day) => {
                if day > today {
                    return Err(FieldError::new(
                        "as_of",
                        format!("The aging can be as of today ({today}) or an earlier day."),
                    ));
                }
                if day < earliest_day() {
                    return Err(FieldError::new(
                        "as_of",
                        format!("The aging goes back to {} at the earliest.", earliest_day()),
                    ));
                }
                Some(day)
            }
        };
        let q = input
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string);
        if input.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(FieldError::new("q", "Search for at most 100 characters."));
        }
        if q.as_ref().is_some_and(|q| q.chars().any(char::is_control)) {
            return Err(FieldError::new(
                "q",
                "Search for letters, digits and punctuation only.",
            ));
        }
        let sort = match input.sort.as_deref() {
            None | Some("") => AgingSort::default(),
            Some(raw) => AgingSort::parse(raw)
                .ok_or_else(|| FieldError::new("sort", "Sort by name, open, overdue or oldest."))?,
        };
        let overdue_only = matches!(input.overdue.as_deref(), Some("1" | "true" | "on"));
        Ok(AgingQuery {
            as_of,
            q,
            sort,
            overdue_only,
        })
    }
}

/// The report: the day, the seller's time zone that made it, the rows shown and the totals of
/// every company that matched (not only those shown).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgingReport {
    pub as_of: NaiveDate,
    pub time_zone: String,
    pub rows: Vec<AgingRow>,
    /// How many companies matched (the rows shown are the first of them).
    pub companies: u64,
    pub totals: Figures,
}

/// One open invoice of a company as of the day (the report's drill-down).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgingLine {
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Days past due on the day (0 or less: not yet due).
    pub days_past_due: i64,
    pub bucket: Bucket,
    pub balance: Money,
}

/// A company's drill-down: its figures and its open invoices, oldest due first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyAging {
    pub as_of: NaiveDate,
    pub code: String,
    pub name: String,
    pub figures: Figures,
    pub lines: Vec<AgingLine>,
}

/// The export's columns, in order.
pub const COLUMNS: [&str; 12] = [
    "Company",
    "Name",
    "Current",
    "1–30",
    "31–60",
    "61–90",
    "91–120",
    "120+",
    "Open balance",
    "Past due",
    "Unapplied credit",
    "Disputed",
];

impl AgingRow {
    /// The row's amounts in the export's column order (after code and name).
    pub fn amounts(&self) -> [Money; 10] {
        let f = &self.figures;
        [
            f.buckets[0],
            f.buckets[1],
            f.buckets[2],
            f.buckets[3],
            f.buckets[4],
            f.buckets[5],
            f.open,
            f.overdue(),
            f.unapplied_credit,
            f.disputed,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn buckets_start_the_day_after_the_due_date_and_end_on_their_last_day() {
        let as_of = day("2026-12-31");
        let cases = [
            ("2027-01-15", Bucket::Current),
            ("2026-12-31", Bucket::Current),
            ("2026-12-30", Bucket::Days1To30),
            ("2026-12-01", Bucket::Days1To30),
            ("2026-11-30", Bucket::Days31To60),
            ("2026-11-01", Bucket::Days31To60),
            ("2026-10-31", Bucket::Days61To90),
            ("2026-10-02", Bucket::Days61To90),
            ("2026-10-01", Bucket::Days91To120),
            ("2026-09-02", Bucket::Days91To120),
            ("2026-09-01", Bucket::Over120),
            ("2020-01-01", Bucket::Over120),
        ];
        for (due, bucket) in cases {
            assert_eq!(Bucket::of(as_of, day(due)), bucket, "due {due}");
        }
    }

    #[test]
    fn the_request_is_checked_field_by_field() {
        let today = day("2026-12-07");
        let input = |as_of: &str, sort: &str| AgingInput {
            as_of: Some(as_of.into()),
            q: Some("  acme ".into()),
            sort: Some(sort.into()),
            overdue: Some("1".into()),
        };
        let q = AgingQuery::parse(&input("2026-11-30", "oldest"), today).unwrap();
        assert_eq!(q.as_of, Some(day("2026-11-30")));
        assert_eq!(q.q.as_deref(), Some("acme"));
        assert_eq!(q.sort, AgingSort::Oldest);
        assert!(q.overdue_only);
        assert_eq!(
            input("2026-11-30", "oldest").query_string(),
            "as_of=2026-11-30&q=++acme+&sort=oldest&overdue=1"
        );
        assert_eq!(
            AgingQuery::parse(&AgingInput::default(), today).unwrap(),
            AgingQuery::default()
        );
        let nul = AgingInput {
            q: Some("ac\u{0}me".into()),
            ..Default::default()
        };
        assert_eq!(AgingQuery::parse(&nul, today).unwrap_err().field, "q");
        for (as_of, sort, field) in [
            ("30/11/2026", "open", "as_of"),
            ("2026-12-08", "open", "as_of"),
            ("1999-12-31", "open", "as_of"),
            ("2026-11-30", "size", "sort"),
        ] {
            assert_eq!(
                AgingQuery::parse(&input(as_of, sort), today)
                    .unwrap_err()
                    .field,
                field
            );
        }
    }
}

//! Deposits: per day (the seller's) and rail, what the day's money movements should bring to
//! the bank — payments, refunds, returns, disputes, the gateway's fees, the net — as Settle
//! recorded them beside the gateway's own books, with every difference shown; and a day's
//! lines one by one, matched by the gateway's ids.

use crate::format::parse_day;
use crate::money::Money;
use crate::FieldError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most days one report covers.
pub const MAX_DAYS: i64 = 92;
/// Days shown when none are asked for: the last week, today included.
pub const DEFAULT_DAYS: i64 = 7;

/// Where money moves: cards, or ACH debits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rail {
    Card,
    Ach,
}

impl Rail {
    pub const ALL: [Rail; 2] = [Rail::Card, Rail::Ach];

    pub fn key(self) -> &'static str {
        match self {
            Rail::Card => "card",
            Rail::Ach => "ach",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rail::Card => "Card",
            Rail::Ach => "ACH",
        }
    }

    pub fn parse(raw: &str) -> Option<Rail> {
        Rail::ALL.into_iter().find(|r| r.key() == raw)
    }
}

/// What moved the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// A card payment approved, an ACH debit settled.
    Payment,
    Refund,
    /// A settled ACH debit the bank sent back.
    Return,
    /// A dispute opened: the network took the amount.
    Dispute,
    /// A dispute won: the amount came back.
    DisputeWon,
}

impl Movement {
    pub const ALL: [Movement; 5] = [
        Movement::Payment,
        Movement::Refund,
        Movement::Return,
        Movement::Dispute,
        Movement::DisputeWon,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Movement::Payment => "payment",
            Movement::Refund => "refund",
            Movement::Return => "return",
            Movement::Dispute => "dispute",
            Movement::DisputeWon => "dispute_won",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Movement::Payment => "Payment",
            Movement::Refund => "Refund",
            Movement::Return => "Return",
            Movement::Dispute => "Dispute",
            Movement::DisputeWon => "Dispute won",
        }
    }

    pub fn parse(raw: &str) -> Option<Movement> {
        Movement::ALL.into_iter().find(|m| m.key() == raw)
    }
}

/// One side's figures for a day and rail, signed as they move the balance (refunds, returns
/// and disputes negative; fees positive, taken off the net).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub payments: Decimal,
    pub refunds: Decimal,
    pub returns: Decimal,
    /// Disputes opened, less those won.
    pub disputes: Decimal,
    pub fees: Decimal,
    /// How many movements.
    pub count: i64,
}

impl Figures {
    /// Adds one movement (or a sum of them).
    pub fn add(&mut self, kind: Movement, amount: Decimal, fee: Decimal, count: i64) {
        match kind {
            Movement::Payment => self.payments += amount,
            Movement::Refund => self.refunds += amount,
            Movement::Return => self.returns += amount,
            Movement::Dispute | Movement::DisputeWon => self.disputes += amount,
        }
        self.fees += fee;
        self.count += count;
    }

    /// What reaches the bank.
    pub fn net(&self) -> Decimal {
        self.payments + self.refunds + self.returns + self.disputes - self.fees
    }

    pub fn plus(&self, other: &Figures) -> Figures {
        Figures {
            payments: self.payments + other.payments,
            refunds: self.refunds + other.refunds,
            returns: self.returns + other.returns,
            disputes: self.disputes + other.disputes,
            fees: self.fees + other.fees,
            count: self.count + other.count,
        }
    }

    /// The columns as the report shows them, with their names.
    pub fn columns(&self) -> [(&'static str, Decimal); 6] {
        [
            ("Payments", self.payments),
            ("Refunds", self.refunds),
            ("Returns", self.returns),
            ("Disputes", self.disputes),
            ("Fees", -self.fees),
            ("Net", self.net()),
        ]
    }
}

/// Whose books the gateway's side comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Books {
    /// The sandbox gateway's balance transactions.
    Sandbox,
    /// Stripe's balance transactions, read from its API for the days shown.
    Stripe,
    /// ACH debits go to the seller's bank in NACHA files: each file's control totals are
    /// compared with its entries instead.
    NachaFiles,
    /// Not compared, and why.
    NotCompared(String),
}

impl Books {
    /// Whether a gateway's own movements are set beside Settle's, line by line.
    pub fn compares_movements(&self) -> bool {
        matches!(self, Books::Sandbox | Books::Stripe)
    }

    /// What the page says of a rail's comparison.
    pub fn describe(&self) -> String {
        match self {
            Books::Sandbox => "compared with the sandbox gateway's balance transactions (its fees: 2.9 % + $0.30 a card charge, 0.8 % up to $5.00 an ACH debit, $15.00 a dispute).".into(),
            Books::Stripe => "compared with Stripe's balance transactions (by reporting category: charge, charge failure, refund, dispute, dispute reversal), with the fees Stripe took.".into(),
            Books::NachaFiles => "debits go to the bank in NACHA files; each file's control totals are compared with its entries below.".into(),
            Books::NotCompared(why) => why.clone(),
        }
    }
}

/// One day and rail: Settle's figures beside the gateway's (none where its books are not
/// read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepositLine {
    pub day: NaiveDate,
    pub rail: Rail,
    pub settle: Figures,
    pub gateway: Option<Figures>,
}

impl DepositLine {
    /// The gross figures that differ between the sides (the fees are the gateway's alone:
    /// Settle's net takes the gateway's fees off).
    pub fn differs(&self) -> bool {
        self.gateway.is_some_and(|g| {
            let s = &self.settle;
            (s.payments, s.refunds, s.returns, s.disputes)
                != (g.payments, g.refunds, g.returns, g.disputes)
        })
    }

    /// Settle's figures with the gateway's fees: what Settle expects at the bank.
    pub fn expected(&self) -> Figures {
        Figures {
            fees: self.gateway.map_or(Decimal::ZERO, |g| g.fees),
            ..self.settle
        }
    }
}

/// An ACH file sent to the seller's bank, its control record's totals beside its entries'.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileTotals {
    pub id: i64,
    pub name: String,
    pub day: NaiveDate,
    pub entries: i64,
    /// The control record's total debits and credits.
    pub file_debits: Decimal,
    pub file_credits: Decimal,
    /// Settle's entries in the file.
    pub entry_debits: Decimal,
    pub entry_credits: Decimal,
}

impl FileTotals {
    pub fn differs(&self) -> bool {
        self.file_debits != self.entry_debits || self.file_credits != self.entry_credits
    }
}

/// The report: a line per day and rail with anything on it, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepositsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub card_books: Books,
    pub ach_books: Books,
    pub lines: Vec<DepositLine>,
    /// NACHA files written in the period (the NACHA rail).
    pub files: Vec<FileTotals>,
}

impl DepositsReport {
    /// Settle's and the gateway's totals over the period.
    pub fn totals(&self) -> (Figures, Figures) {
        self.lines
            .iter()
            .fold((Figures::default(), Figures::default()), |(s, g), l| {
                (
                    s.plus(&l.expected()),
                    g.plus(&l.gateway.unwrap_or_default()),
                )
            })
    }

    /// How many lines and files differ.
    pub fn differences(&self) -> usize {
        self.lines.iter().filter(|l| l.differs()).count()
            + self.files.iter().filter(|f| f.differs()).count()
    }
}

/// The request as typed (`?from=&to=`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DepositsInput {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

impl DepositsInput {
    pub fn query_string(&self) -> String {
        crate::format::query_string(&[("from", &self.from), ("to", &self.to)])
    }
}

/// The days asked for, checked: both ends included, at most [`MAX_DAYS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DepositsQuery {
    /// The days asked for; the week to `today` when none.
    pub fn parse(input: &DepositsInput, today: NaiveDate) -> Result<Self, FieldError> {
        let to = parse_day("to", input.to.as_deref())?.unwrap_or(today);
        let from = parse_day("from", input.from.as_deref())?
            .unwrap_or(to - chrono::Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(FieldError::new(
                "to",
                format!("Choose a day on or after {from}."),
            ));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(FieldError::new(
                "from",
                format!("Choose at most {MAX_DAYS} days at a time."),
            ));
        }
        Ok(DepositsQuery { from, to })
    }
}

/// One movement of a day's line, Settle's record beside the gateway's (matched by the
/// gateway's id of the charge, refund or dispute).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepositItem {
    pub kind: Movement,
    /// The gateway's id of what moved the money.
    pub reference: Option<String>,
    pub payment: Option<String>,
    pub company_code: Option<String>,
    pub company_name: Option<String>,
    /// Settle's record: when, how much.
    pub settle_at: Option<DateTime<Utc>>,
    pub settle: Option<Decimal>,
    /// The gateway's.
    pub gateway_at: Option<DateTime<Utc>>,
    pub gateway: Option<Decimal>,
    pub fee: Decimal,
}

impl DepositItem {
    pub fn differs(&self) -> bool {
        self.settle != self.gateway
    }
}

/// A day's line, movement by movement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepositDay {
    pub day: NaiveDate,
    pub rail: Rail,
    pub time_zone: String,
    pub books: Books,
    pub items: Vec<DepositItem>,
}

/// Money as the report shows it (`-$5.10`).
pub fn usd(amount: Decimal) -> String {
    Money::usd(amount).display()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_line_nets_what_reaches_the_bank_and_differs_only_on_gross_figures() {
        let mut settle = Figures::default();
        settle.add(Movement::Payment, dec("100.00"), Decimal::ZERO, 1);
        settle.add(Movement::Refund, dec("-20.00"), Decimal::ZERO, 1);
        settle.add(Movement::Dispute, dec("-30.00"), Decimal::ZERO, 1);
        settle.add(Movement::DisputeWon, dec("30.00"), Decimal::ZERO, 1);
        let mut gateway = settle;
        gateway.fees = dec("18.20");
        let line = DepositLine {
            day: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            rail: Rail::Card,
            settle,
            gateway: Some(gateway),
        };
        assert!(!line.differs());
        assert_eq!(line.expected().net(), dec("61.80"));
        assert_eq!(gateway.net(), dec("61.80"));
        assert_eq!(settle.count, 4);
        let mut off = line.clone();
        off.gateway.as_mut().unwrap().returns = dec("-5.00");
        assert!(off.differs());
        let unread = DepositLine {
            gateway: None,
            ..line
        };
        assert!(!unread.differs());
        assert_eq!(unread.expected().fees, Decimal::ZERO);
    }

    #[test]
    fn the_days_are_checked_and_default_to_the_last_week() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let q = DepositsQuery::parse(&DepositsInput::default(), today).unwrap();
        assert_eq!((q.from, q.to), (today - chrono::Duration::days(6), today));
        let input = |from: &str, to: &str| DepositsInput {
            from: Some(from.into()),
            to: Some(to.into()),
        };
        let one = DepositsQuery::parse(&input("2026-12-01", "2026-12-01"), today).unwrap();
        assert_eq!(one.from, one.to);
        for (from, to, field) in [
            ("2026-12-32", "", "from"),
            ("", "12/01/2026", "to"),
            ("2026-12-02", "2026-12-01", "to"),
            ("2026-01-01", "2026-12-01", "from"),
        ] {
            assert_eq!(
                DepositsQuery::parse(&input(from, to), today)
                    .unwrap_err()
                    .field,
                field
            );
        }
        assert_eq!(input("2026-12-01", "").query_string(), "from=2026-12-01");
        assert_eq!(Rail::parse("ach"), Some(Rail::Ach));
        assert_eq!(Movement::parse("dispute_won"), Some(Movement::DisputeWon));
        assert_eq!(usd(dec("-5.1")), "-$5.10");
    }
}

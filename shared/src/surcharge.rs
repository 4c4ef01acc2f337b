//! Card surcharges: a percentage of the invoices paid, added to a payment by a credit card
//! only, capped at the lower of the seller's setting and 3 % (the card networks' rule), and
//! never where the company's billing state forbids it. The fee is its own money: spread over
//! the paid invoices to the cent by the rule in [`spread`], never part of a balance.

use crate::card::CardFunding;
use crate::error::FieldError;
use crate::method::{Instrument, MethodOption};
use crate::money::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The card networks' cap on a surcharge, in percent.
pub const NETWORK_CAP: Decimal = Decimal::from_parts(3, 0, 0, false, 0);

/// A state's law on card surcharges, as the seller keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRule {
    pub state: String,
    pub name: String,
    /// `None`: surcharges are refused there; `Some`: capped at this percent.
    pub cap_percent: Option<Decimal>,
    pub source: String,
    pub checked_on: chrono::NaiveDate,
}

impl StateRule {
    /// "Refused" or "At most 2 %".
    pub fn rule_label(&self) -> String {
        match self.cap_percent {
            None => "Refused".into(),
            Some(cap) => format!("At most {} %", percent(cap)),
        }
    }
}

/// The seller's surcharge setting and the state table, as System → Payment policy shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurchargeSettings {
    /// `None`: off.
    pub percent: Option<Decimal>,
    pub rules: Vec<StateRule>,
}

/// What a company's credit-card payments carry: the rate in force for it, or why none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompanySurcharge {
    /// The seller adds none.
    #[default]
    Off,
    /// The company's billing state forbids it ("Connecticut does not allow card surcharges").
    Forbidden(String),
    /// This percent of the invoices paid, on a credit card.
    Rate(Decimal),
}

impl CompanySurcharge {
    /// The rate from the seller's setting and the company's state rule (`None`: no rule there;
    /// `Some(None)`: refused; `Some(Some(cap))`: capped): the lowest of the setting, the state's
    /// cap and the networks' 3 %.
    pub fn decide(setting: Option<Decimal>, state: Option<(&str, Option<Decimal>)>) -> Self {
        let Some(setting) = setting.filter(|p| *p > Decimal::ZERO) else {
            return CompanySurcharge::Off;
        };
        let rate = setting.min(NETWORK_CAP);
        match state {
            Some((name, None)) => {
                CompanySurcharge::Forbidden(format!("{name} does not allow card surcharges"))
            }
            Some((_, Some(cap))) => CompanySurcharge::Rate(rate.min(cap)),
            None => CompanySurcharge::Rate(rate),
        }
    }

    /// The rate a payment with `method` carries, if any: credit cards only.
    pub fn rate_for(&self, method: &MethodOption) -> Option<Decimal> {
        match (self, &method.instrument) {
            (
                CompanySurcharge::Rate(rate),
                Instrument::Card {
                    funding: CardFunding::Credit,
                    ..
                },
            ) => Some(*rate),
            _ => None,
        }
    }
}

/// A percent as people write it: `3`, `2.5`.
pub fn percent(p: Decimal) -> String {
    p.normalize().to_string()
}

/// The fee on `amount` at `rate` percent, rounded half up to the cent. A percentage of what is
/// paid, not a gross-up: the seller receives the invoices in full and the fee beside them.
pub fn fee(amount: Money, rate: Decimal) -> Money {
    let raw = amount.amount() * rate / Decimal::ONE_HUNDRED;
    Money::new(
        raw.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        amount.currency(),
    )
}

/// Spreads `fee` over lines of these amounts, to the cent, so the shares add up to the fee
/// exactly. The rule: each line gets its proportional share rounded down to the cent; the
/// cents left over go one each to the lines with the largest part cut off, the earlier line
/// first on a tie. A line of nothing gets nothing.
pub fn spread(fee: Money, lines: &[Money]) -> Vec<Money> {
    let cur = fee.currency();
    let total: i64 = lines.iter().filter_map(|l| l.in_minor_units()).sum();
    let cents = fee.in_minor_units().unwrap_or(0);
    if total <= 0 || cents <= 0 {
        return lines.iter().map(|_| Money::zero(cur)).collect();
    }
    let (total, cents) = (i128::from(total), i128::from(cents));
    // (share, what was cut off, position)
    let mut shares: Vec<(i128, i128, usize)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let part = cents * i128::from(l.in_minor_units().unwrap_or(0).max(0));
            (part / total, part % total, i)
        })
        .collect();
    let left = cents - shares.iter().map(|s| s.0).sum::<i128>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| shares[*b].1.cmp(&shares[*a].1).then(a.cmp(b)));
    for &i in order.iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[i].0 += 1;
    }
    shares
        .into_iter()
        .map(|(c, _, _)| Money::from_minor_units(i64::try_from(c).unwrap_or(0), cur))
        .collect()
}

/// The fee's line as the payer reads it before paying and on the receipt: "Card surcharge 3 %
/// on a credit card: $12.00".
pub fn line(rate: Decimal, fee: Money) -> String {
    format!(
        "Card surcharge {} % on a credit card: {}",
        percent(rate),
        fee.display()
    )
}

/// The admin's surcharge setting as typed: empty is off; otherwise above 0 and at most 3.
pub fn parse_setting(typed: &str) -> Result<Option<Decimal>, FieldError> {
    let t = typed.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        return Ok(None);
    }
    let p: Decimal = t.parse().map_err(|_| {
        FieldError::new(
            "surcharge_percent",
            "Enter a percentage such as 2.5, or leave it empty.",
        )
    })?;
    if p <= Decimal::ZERO {
        return Err(FieldError::new(
            "surcharge_percent",
            "Enter a percentage above 0, or leave it empty to add no surcharge.",
        ));
    }
    if p > NETWORK_CAP {
        return Err(FieldError::new(
            "surcharge_percent",
            "The card networks cap a surcharge at 3 %.",
        ));
    }
    if p.scale() > 2 {
        return Err(FieldError::new(
            "surcharge_percent",
            "Use at most 2 decimal places.",
        ));
    }
    Ok(Some(p.normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn usd(s: &str) -> Money {
        Money::usd(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn the_rate_is_the_lowest_of_the_setting_the_state_and_three_percent() {
        let p = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(CompanySurcharge::decide(None, None), CompanySurcharge::Off);
        assert_eq!(
            CompanySurcharge::decide(Some(p("3")), Some(("Colorado", Some(p("2"))))),
            CompanySurcharge::Rate(p("2"))
        );
        assert_eq!(
            CompanySurcharge::decide(Some(p("1.5")), Some(("Colorado", Some(p("2"))))),
            CompanySurcharge::Rate(p("1.5"))
        );
        assert_eq!(
            CompanySurcharge::decide(Some(p("4")), None),
            CompanySurcharge::Rate(p("3"))
        );
        assert!(matches!(
            CompanySurcharge::decide(Some(p("3")), Some(("Connecticut", None))),
            CompanySurcharge::Forbidden(m) if m == "Connecticut does not allow card surcharges"
        ));
    }

    #[test]
    fn a_fee_is_a_percentage_of_what_is_paid_rounded_half_up() {
        assert_eq!(fee(usd("400"), Decimal::from(3)), usd("12.00"));
        assert_eq!(fee(usd("0.50"), Decimal::from(3)), usd("0.02"));
        assert_eq!(fee(usd("0.16"), Decimal::from(3)), usd("0.00"));
        assert_eq!(
            line(Decimal::from(3), usd("12")),
            "Card surcharge 3 % on a credit card: $12.00"
        );
    }

    #[test]
    fn a_surcharge_put_on_only_the_first_invoice_cannot_happen() {
        // Three equal invoices share the fee equally; the leftover cent goes to the first.
        let shares = spread(usd("1.00"), &[usd("100"), usd("100"), usd("100")]);
        assert_eq!(shares, [usd("0.34"), usd("0.33"), usd("0.33")]);
        let shares = spread(usd("12.00"), &[usd("100"), usd("300")]);
        assert_eq!(shares, [usd("3.00"), usd("9.00")]);
    }

    #[test]
    fn the_admins_setting_is_checked() {
        assert_eq!(parse_setting("").unwrap(), None);
        assert_eq!(
            parse_setting("2.5 %").unwrap(),
            Some(Decimal::from_str("2.5").unwrap())
        );
        assert_eq!(
            parse_setting("3.5").unwrap_err().message,
            "The card networks cap a surcharge at 3 %."
        );
        assert!(parse_setting("0").is_err());
        assert!(parse_setting("abc").is_err());
        assert!(parse_setting("1.234").is_err());
    }

    proptest! {
        /// For any invoices, amounts and rate: the fee lines sum exactly to the fee charged,
        /// no share is more than a cent off its proportion, and the charge is the invoices
        /// plus the fee (no invoice's balance ever holds a cent of it: the shares are apart
        /// from the lines).
        #[test]
        fn the_fee_lines_sum_exactly_to_the_fee_charged(
            cents in proptest::collection::vec(1i64..5_000_000, 1..40),
            rate_bp in 1u32..=300,
        ) {
            let lines: Vec<Money> = cents.iter().map(|c| Money::from_minor_units(*c, Currency::USD)).collect();
            let paid = Money::sum(Currency::USD, lines.iter()).unwrap();
            let rate = Decimal::new(i64::from(rate_bp), 2);
            let charged_fee = fee(paid, rate);
            let shares = spread(charged_fee, &lines);
            prop_assert_eq!(shares.len(), lines.len());
            let sum: i64 = shares.iter().map(|s| s.in_minor_units().unwrap()).sum();
            prop_assert_eq!(sum, charged_fee.in_minor_units().unwrap());
            let total: i64 = cents.iter().sum();
            for (share, line) in shares.iter().zip(&cents) {
                let exact = charged_fee.in_minor_units().unwrap() as f64 * *line as f64 / total as f64;
                let got = share.in_minor_units().unwrap() as f64;
                prop_assert!(got >= exact.floor() && got <= exact.floor() + 1.0, "{} vs {}", got, exact);
            }
            let charged = Money::sum(Currency::USD, [paid, charged_fee].iter()).unwrap();
            prop_assert_eq!(charged.amount() - charged_fee.amount(), paid.amount());
        }
    }
}

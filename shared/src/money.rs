//! Money: a decimal amount with its currency, never a float.

use crate::error::FieldError;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Currencies Settle can book. Each knows its minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "text"))]
pub enum Currency {
    #[default]
    USD,
}

impl Currency {
    /// Digits after the decimal point in the currency's minor unit.
    pub fn minor_units(self) -> u32 {
        match self {
            Currency::USD => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::USD => "$",
        }
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "USD" => Ok(Currency::USD),
            other => Err(UnknownCurrency(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}")]
pub struct UnknownCurrency(pub String);

/// An amount in a currency, always rounded (half-even) to the currency's minor unit. Read
/// from the wire only through [`Money::exact`]: an amount with more decimals than its
/// currency has is refused, never rounded silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyParts")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// [`Money`] as it travels, before its rule is checked.
#[derive(Deserialize)]
struct MoneyParts {
    amount: Decimal,
    currency: Currency,
}

impl TryFrom<MoneyParts> for Money {
    type Error = MoreDecimalsThanTheCurrency;

    fn try_from(p: MoneyParts) -> Result<Self, Self::Error> {
        Money::exact(p.amount, p.currency)
    }
}

/// An amount with more decimals than its currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{amount} has more decimals than {currency} has ({places})")]
pub struct MoreDecimalsThanTheCurrency {
    pub amount: Decimal,
    pub currency: &'static str,
    pub places: u32,
}

impl Money {
    /// The largest amount Settle books (what a `NUMERIC(14,2)` column holds): any one amount
    /// typed, sent or summed into a payment is at most this.
    pub const MAX: Decimal = Decimal::from_parts(276_447_231, 23_283, 0, false, 2);

    /// Builds money, rounding half-even to the currency's minor unit.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        let mut amount = amount.round_dp_with_strategy(
            currency.minor_units(),
            RoundingStrategy::MidpointNearestEven,
        );
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// Money for an amount that already fits the currency's minor unit, as it is read from a
    /// form or the wire: `12.345` USD is refused rather than rounded.
    pub fn exact(amount: Decimal, currency: Currency) -> Result<Self, MoreDecimalsThanTheCurrency> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(MoreDecimalsThanTheCurrency {
                amount,
                currency: currency.code(),
                places: currency.minor_units(),
            });
        }
        Ok(Money::new(amount, currency))
    }

    /// Money from a count of the currency's minor units (cents for USD), as bank files and
    /// gateways carry amounts.
    pub fn from_minor_units(units: i64, currency: Currency) -> Self {
        Money::new(Decimal::new(units, currency.minor_units()), currency)
    }

    /// The amount as a count of the currency's minor units (1234 for $12.34), when it fits.
    pub fn in_minor_units(&self) -> Option<i64> {
        // Held at the currency's scale (see `new`): the mantissa is that count.
        i64::try_from(self.amount.mantissa()).ok()
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// An amount in US dollars (tests and examples; the seller's currency is configuration).
    pub fn usd(amount: Decimal) -> Self {
        Money::new(amount, Currency::USD)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }

    /// Whether the amount is within what Settle books (at most [`Money::MAX`] either way).
    pub fn within_limit(&self) -> bool {
        self.amount.abs() <= Self::MAX
    }

    /// Sum of two amounts in the same currency; `None` when the currencies differ or the sum
    /// is beyond what a decimal holds (it never panics).
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_add(other.amount))
            .flatten()
            .map(|a| Money::new(a, self.currency))
    }

    /// Difference of two amounts in the same currency; `None` when the currencies differ or
    /// the difference is beyond what a decimal holds.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_sub(other.amount))
            .flatten()
            .map(|a| Money::new(a, self.currency))
    }

    /// Adds up amounts of one currency; `None` when one is in another currency or the sum
    /// overflows. An empty list sums to zero in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        items: impl IntoIterator<Item = &'a Money>,
    ) -> Option<Money> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(*m))
    }

    /// `$12,340.00`, `-$5.10`.
    pub fn display(&self) -> String {
        let negative = self.amount.is_sign_negative() && !self.amount.is_zero();
        let abs = self.amount.abs();
        let text = format!("{abs:.prec$}", prec = self.currency.minor_units() as usize);
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w.to_string(), Some(f.to_string())),
            None => (text, None),
        };
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(self.currency.symbol());
        out.push_str(&crate::format::group_thousands(&whole));
        if let Some(frac) = frac {
            out.push('.');
            out.push_str(&frac);
        }
        out
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// Parses an amount typed by a person for `field`: a positive number with at most the
/// currency's decimals ("1,250.50" and "$1250.5" are fine).
pub fn parse_amount(field: &str, raw: &str, currency: Currency) -> Result<Money, FieldError> {
    let cleaned: String = raw
        .trim()
        .trim_start_matches(currency.symbol())
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return Err(FieldError::new(field, "Enter an amount."));
    }
    // Plain decimal notation only: "1e5" or "0x10" are typos, not amounts.
    let unsigned = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    let plain = !unsigned.is_empty()
        && unsigned.chars().all(|c| c.is_ascii_digit() || c == '.')
        && unsigned.chars().filter(|c| *c == '.').count() <= 1
        && unsigned.chars().any(|c| c.is_ascii_digit());
    let value = plain
        .then(|| Decimal::from_str(&cleaned).ok())
        .flatten()
        .ok_or_else(|| FieldError::new(field, "Enter an amount as a number, like 125.00."))?;
    if value <= Decimal::ZERO {
        return Err(FieldError::new(field, "Enter an amount above zero."));
    }
    if value.normalize().scale() > currency.minor_units() {
        return Err(FieldError::new(
            field,
            format!("Use at most {} decimal places.", currency.minor_units()),
        ));
    }
    check_amount(field, Money::new(value, currency), currency)
}

/// The refusal of an amount past [`Money::MAX`].
fn too_large(field: &str, currency: Currency) -> FieldError {
    FieldError::new(
        field,
        format!(
            "Enter at most {}.",
            Money::new(Money::MAX, currency).display()
        ),
    )
}

/// An amount already read as [`Money`]: in the payment's currency, and above zero.
pub fn check_amount(field: &str, amount: Money, currency: Currency) -> Result<Money, FieldError> {
    if amount.currency() != currency {
        return Err(FieldError::new(
            field,
            format!("Enter the amount in {}.", currency.code()),
        ));
    }
    if !amount.is_positive() {
        return Err(FieldError::new(field, "Enter an amount above zero."));
    }
    if !amount.within_limit() {
        return Err(too_large(field, currency));
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_both_ways() {
        let m = Money::from_minor_units(123_456, Currency::USD);
        assert_eq!(m, Money::usd(Decimal::new(123_456, 2)));
        assert_eq!(m.in_minor_units(), Some(123_456));
        assert_eq!(Money::usd(Decimal::new(5, 0)).in_minor_units(), Some(500));
        assert_eq!(Money::zero(Currency::USD).in_minor_units(), Some(0));
    }

    #[test]
    fn read_from_the_wire_only_when_exact() {
        let m: Money = serde_json::from_str(r#"{"amount":"12.30","currency":"USD"}"#).unwrap();
        assert_eq!(m, Money::usd(Decimal::new(1230, 2)));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"12.345","currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":12.3,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"EUR"}"#).is_err());
    }
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_even_to_cents() {
        assert_eq!(Money::usd(d("1.005")).amount(), d("1.00"));
        assert_eq!(Money::usd(d("1.015")).amount(), d("1.02"));
        assert_eq!(Money::usd(d("1.0250")).amount(), d("1.02"));
        assert_eq!(Money::usd(d("-1.005")).amount(), d("-1.00"));
        assert_eq!(Money::usd(d("7")).amount().to_string(), "7.00");
    }

    #[test]
    fn displays_with_symbol_and_grouping() {
        assert_eq!(Money::usd(d("12340")).display(), "$12,340.00");
        assert_eq!(Money::usd(d("0.5")).display(), "$0.50");
        assert_eq!(Money::usd(d("-1234567.891")).display(), "-$1,234,567.89");
        assert_eq!(Money::usd(d("999.999")).display(), "$1,000.00");
        assert_eq!(Money::usd(d("-0.001")).display(), "$0.00");
    }

    #[test]
    fn sums_in_one_currency() {
        let items = [Money::usd(d("1.10")), Money::usd(d("2.20"))];
        assert_eq!(
            Money::sum(Currency::USD, &items).unwrap().amount(),
            d("3.30")
        );
        assert_eq!(Money::sum(Currency::USD, &[]).unwrap().amount(), d("0.00"));
    }

    #[test]
    fn the_largest_amount_fits_numeric_14_2() {
        assert_eq!(Money::MAX.to_string(), "999999999999.99");
        assert!(Money::usd(Money::MAX).within_limit());
        assert!(!Money::usd(d("1000000000000.00")).within_limit());
        assert!(!Money::usd(d("-1000000000000.00")).within_limit());
    }

    #[test]
    fn arithmetic_past_a_decimal_is_none_never_a_panic() {
        let huge = Money::usd(d("40000000000000000000000000000"));
        assert_eq!(huge.checked_add(huge), None);
        assert_eq!(Money::usd(-huge.amount()).checked_sub(huge), None);
        assert_eq!(Money::sum(Currency::USD, &[huge, huge]), None);
        assert_eq!(
            Money::usd(d("1.10")).checked_add(Money::usd(d("2.20"))),
            Some(Money::usd(d("3.30")))
        );
    }

    proptest! {
        #[test]
        fn always_two_decimals(units in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
            let m = Money::usd(Decimal::new(units, scale));
            prop_assert_eq!(m.amount().scale(), 2);
        }

        #[test]
        fn rounding_error_at_most_half_a_cent(units in -1_000_000_000i64..1_000_000_000, scale in 0u32..6) {
            let raw = Decimal::new(units, scale);
            let m = Money::usd(raw);
            prop_assert!((m.amount() - raw).abs() <= d("0.005"));
        }

        #[test]
        fn sum_is_exact_for_cent_amounts(cents in proptest::collection::vec(0i64..10_000_000, 0..50)) {
            let items: Vec<Money> = cents.iter().map(|c| Money::usd(Decimal::new(*c, 2))).collect();
            let total = Money::sum(Currency::USD, &items).unwrap();
            prop_assert_eq!(total.amount(), Decimal::new(cents.iter().sum::<i64>(), 2));
        }
    }
}

//! Card and bank-account numbers as typed: checks that run in the browser and again at the
//! tokenizer. Nothing here stores a number.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// Card brands Settle accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
}

impl CardBrand {
    pub fn as_db(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
        }
    }

    /// The brand of a (possibly partly typed) number, as soon as its first digits tell.
    pub fn detect(digits: &str) -> Option<CardBrand> {
        let n = |len: usize| digits.get(..len).and_then(|p| p.parse::<u32>().ok());
        if digits.starts_with('4') {
            Some(CardBrand::Visa)
        } else if matches!(n(2), Some(34 | 37)) {
            Some(CardBrand::Amex)
        } else if matches!(n(2), Some(51..=55)) || matches!(n(4), Some(2221..=2720)) {
            Some(CardBrand::Mastercard)
        } else if digits.starts_with("6011")
            || digits.starts_with("65")
            || matches!(n(3), Some(644..=649))
        {
            Some(CardBrand::Discover)
        } else {
            None
        }
    }
}

/// The digits of a typed number, ignoring spaces and dashes; `None` if anything else is in it.
pub fn digits_only(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The Luhn checksum every card number carries.
pub fn luhn_ok(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// A card number that passed its checks: digits, length for its brand, Luhn.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: CardBrand,
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the number.
        write!(
            f,
            "CardNumber({} •••• {})",
            self.brand.as_db(),
            self.last4()
        )
    }
}

impl CardNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let field = "card_number";
        let digits = digits_only(raw)
            .ok_or_else(|| FieldError::new(field, "A card number has only digits."))?;
        if digits.is_empty() {
            return Err(FieldError::new(field, "Enter the card number."));
        }
        let brand = CardBrand::detect(&digits).ok_or_else(|| {
            FieldError::new(
                field,
                "We accept Visa, Mastercard, American Express and Discover.",
            )
        })?;
        let len_ok = match brand {
            CardBrand::Amex => digits.len() == 15,
            CardBrand::Visa => matches!(digits.len(), 13 | 16 | 19),
            _ => digits.len() == 16,
        };
        if !len_ok {
            return Err(FieldError::new(
                field,
                "This card number has too few or too many digits.",
            ));
        }
        if !luhn_ok(&digits) {
            return Err(FieldError::new(
                field,
                "This card number is not valid. Check it for typos.",
            ));
        }
        Ok(CardNumber { digits, brand })
    }

    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// The full number, for the tokenizer only.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_ok("4242424242424242"));
        assert!(luhn_ok("4000000000000002"));
        assert!(!luhn_ok("4242424242424241"));
        assert!(!luhn_ok(""));
    }

    #[test]
    fn card_numbers() {
        let c = CardNumber::parse("4242 4242 4242 4242").unwrap();
        assert_eq!(c.brand(), CardBrand::Visa);
        assert_eq!(c.last4(), "4242");
        assert!(!format!("{c:?}").contains("42424242"));
        assert_eq!(
            CardNumber::parse("5555555555554444").unwrap().brand(),
            CardBrand::Mastercard
        );
        assert_eq!(
            CardNumber::parse("378282246310005").unwrap().brand(),
            CardBrand::Amex
        );
        assert_eq!(
            CardNumber::parse("6011111111111117").unwrap().brand(),
            CardBrand::Discover
        );
        let msg = |raw: &str| CardNumber::parse(raw).unwrap_err().message;
        assert_eq!(msg(""), "Enter the card number.");
        assert_eq!(msg("4242x"), "A card number has only digits.");
        assert_eq!(
            msg("4242424242424241"),
            "This card number is not valid. Check it for typos."
        );
        assert_eq!(
            msg("424242424242"),
            "This card number has too few or too many digits."
        );
        assert_eq!(
            msg("9999999999999995"),
            "We accept Visa, Mastercard, American Express and Discover."
        );
    }
}

//! Card and bank-account numbers as typed: checks that run in the browser and again at the
//! tokenizer. Nothing here stores a number.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// How a card is funded, as the gateway reports it. A surcharge applies to credit cards only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
#[serde(rename_all = "lowercase")]
pub enum CardFunding {
    Credit,
    Debit,
    Prepaid,
    /// The gateway did not say.
    #[default]
    Unknown,
}

impl CardFunding {
    pub fn as_str(self) -> &'static str {
        match self {
            CardFunding::Credit => "credit",
            CardFunding::Debit => "debit",
            CardFunding::Prepaid => "prepaid",
            CardFunding::Unknown => "unknown",
        }
    }

    /// A funding as a gateway names it (anything else is unknown).
    pub fn parse(raw: &str) -> CardFunding {
        match raw.trim().to_ascii_lowercase().as_str() {
            "credit" => CardFunding::Credit,
            "debit" => CardFunding::Debit,
            "prepaid" => CardFunding::Prepaid,
            _ => CardFunding::Unknown,
        }
    }
}

/// Card brands Settle accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
}

impl CardBrand {
    /// The brand as Settle's forms and the gateway name it (`visa`).
    pub fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
        }
    }

    /// `Visa`, `American Express`.
    pub fn label(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
        }
    }

    /// A brand as a gateway names it.
    pub fn parse(raw: &str) -> Option<CardBrand> {
        [
            CardBrand::Visa,
            CardBrand::Mastercard,
            CardBrand::Amex,
            CardBrand::Discover,
        ]
        .into_iter()
        .find(|b| b.as_str() == raw)
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
            self.brand.as_str(),
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

/// A card's expiry month, checked against today: a card is good through the last day of
/// its expiry month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardExpiry {
    pub month: u32,
    pub year: i32,
}

impl CardExpiry {
    /// Parses `MM/YY`, `MM / YY` or `MM/YYYY` as typed.
    pub fn parse(raw: &str, today: chrono::NaiveDate) -> Result<Self, FieldError> {
        use chrono::Datelike;
        let field = "expiry";
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldError::new(field, "Enter the expiry date as MM/YY."));
        }
        let bad = || FieldError::new(field, "Enter the expiry date as MM/YY, e.g. 04/29.");
        let (m, y) = raw.split_once('/').ok_or_else(bad)?;
        let (m, y) = (m.trim(), y.trim());
        if m.is_empty() || m.len() > 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(FieldError::new(
                field,
                "The month must be between 01 and 12.",
            ));
        }
        if !y.bytes().all(|b| b.is_ascii_digit()) || !(y.len() == 2 || y.len() == 4) {
            return Err(bad());
        }
        let mut year: i32 = y.parse().map_err(|_| bad())?;
        if y.len() == 2 {
            year += 2000;
        }
        let expiry = CardExpiry::new(month, year, today)?;
        if year > today.year() + 20 {
            return Err(FieldError::new(
                field,
                "This expiry year is too far ahead. Check it for typos.",
            ));
        }
        Ok(expiry)
    }

    /// An expiry from month and year numbers, refused when already past.
    pub fn new(month: u32, year: i32, today: chrono::NaiveDate) -> Result<Self, FieldError> {
        use chrono::Datelike;
        if !(1..=12).contains(&month) {
            return Err(FieldError::new(
                "expiry",
                "The month must be between 01 and 12.",
            ));
        }
        if (year, month) < (today.year(), today.month()) {
            return Err(FieldError::new("expiry", "This card has expired."));
        }
        Ok(CardExpiry { month, year })
    }

    /// `04/29`.
    pub fn display(&self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }
}

/// Checks a card security code for the brand: 4 digits for American Express, 3 otherwise.
/// The code is only ever checked and passed on to the tokenizer, never kept.
pub fn check_cvc(raw: &str, brand: Option<CardBrand>) -> Result<(), FieldError> {
    let field = "cvc";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(
            field,
            "Enter the security code from the card.",
        ));
    }
    let want = if brand == Some(CardBrand::Amex) { 4 } else { 3 };
    if raw.len() != want || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            field,
            format!(
                "The security code is {want} digits{}.",
                if want == 4 {
                    " on the front of the card"
                } else {
                    " on the back of the card"
                }
            ),
        ));
    }
    Ok(())
}

/// Groups a typed card number as printed on the card: `4242 4242 4242 4242`, Amex `3782 822463 10005`.
pub fn group_card_digits(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).take(19).collect();
    let groups: &[usize] = if CardBrand::detect(&digits) == Some(CardBrand::Amex) {
        &[4, 6, 5]
    } else {
        &[4, 4, 4, 4, 3]
    };
    let mut out = String::new();
    let mut rest = digits.as_str();
    for g in groups {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*g).min(rest.len()));
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(head);
        rest = tail;
    }
    out
}

/// Checks a billing postal code: 3 to 10 letters, digits, spaces or dashes.
pub fn check_postal_code(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(
            "postal_code",
            "Enter the billing postal code.",
        ));
    }
    if v.len() < 3
        || v.len() > 10
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(FieldError::new(
            "postal_code",
            "Enter a postal code such as 94107 or SW1A 1AA.",
        ));
    }
    Ok(v.to_uppercase())
}

/// Whether `text` holds a full card number: a run of 13 to 19 digits (single spaces or
/// dashes between them allowed) of a known brand, of that brand's length, whose Luhn
/// checksum holds.
pub fn holds_card_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run of digits with single spaces or dashes between them.
        let start = i;
        let mut end = i;
        while end < bytes.len()
            && (bytes[end].is_ascii_digit()
                || ((bytes[end] == b' ' || bytes[end] == b'-')
                    && end + 1 < bytes.len()
                    && bytes[end + 1].is_ascii_digit()))
        {
            end += 1;
        }
        // A number on its own (not part of a word, code or UUID such as an idempotency key),
        // the whole of which reads as a card number of a known brand, length and checksum.
        let joined = |b: Option<&u8>| {
            b.is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        };
        let standalone =
            !joined(start.checked_sub(1).and_then(|p| bytes.get(p))) && !joined(bytes.get(end));
        let run = &text[start..end];
        if standalone
            && digits_only(run).is_some_and(|d| (13..=19).contains(&d.len()))
            && CardNumber::parse(run).is_ok()
        {
            return true;
        }
        i = end.max(i + 1);
    }
    false
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

    #[test]
    fn expiry() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(
            CardExpiry::parse("11/26", today).unwrap(),
            CardExpiry {
                month: 11,
                year: 2026
            }
        );
        assert_eq!(
            CardExpiry::parse(" 4 / 2029 ", today).unwrap().display(),
            "04/29"
        );
        let msg = |raw: &str| CardExpiry::parse(raw, today).unwrap_err().message;
        assert_eq!(msg("10/26"), "This card has expired.");
        assert_eq!(msg("13/27"), "The month must be between 01 and 12.");
        assert_eq!(msg(""), "Enter the expiry date as MM/YY.");
        assert_eq!(msg("1227"), "Enter the expiry date as MM/YY, e.g. 04/29.");
        assert_eq!(
            msg("12/2099"),
            "This expiry year is too far ahead. Check it for typos."
        );
    }

    #[test]
    fn cvc_and_grouping() {
        assert!(check_cvc("123", Some(CardBrand::Visa)).is_ok());
        assert!(check_cvc("1234", Some(CardBrand::Amex)).is_ok());
        assert_eq!(
            check_cvc("12", Some(CardBrand::Visa)).unwrap_err().message,
            "The security code is 3 digits on the back of the card."
        );
        assert_eq!(check_cvc("", None).unwrap_err().field, "cvc");
        assert_eq!(group_card_digits("4242424242424242"), "4242 4242 4242 4242");
        assert_eq!(group_card_digits("4242-4242 42"), "4242 4242 42");
        assert_eq!(group_card_digits("378282246310005"), "3782 822463 10005");
        assert_eq!(check_postal_code(" sw1a 1aa ").unwrap(), "SW1A 1AA");
        assert!(check_postal_code("9").is_err());
    }
}

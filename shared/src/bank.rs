//! US bank accounts for ACH debits: routing numbers (ABA checksum), account numbers, account
//! and holder types. Checked in the browser as typed and again at the tokenizer.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// A nine-digit ABA routing number whose checksum holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingNumber(String);

impl RoutingNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let field = "routing_number";
        let v = raw.trim();
        if v.is_empty() {
            return Err(FieldError::new(field, "Enter the 9-digit routing number."));
        }
        if v.len() != 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "A routing number is exactly 9 digits.",
            ));
        }
        let d: Vec<u32> = v.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
        if sum % 10 != 0 {
            return Err(FieldError::new(
                field,
                "This routing number is not valid. Check it for typos.",
            ));
        }
        Ok(RoutingNumber(v.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bank's name, for routing numbers Settle knows.
    pub fn bank_name(&self) -> Option<&'static str> {
        bank_name(&self.0)
    }
}

/// Banks known by routing number (the sandbox's test bank and a few large US banks).
const KNOWN_BANKS: [(&str, &str); 5] = [
    ("110000000", "First Sandbox Bank"),
    ("021000021", "JPMorgan Chase Bank"),
    ("026009593", "Bank of America"),
    ("121000248", "Wells Fargo Bank"),
    ("011000015", "Federal Reserve Bank of Boston"),
];

pub fn bank_name(routing: &str) -> Option<&'static str> {
    KNOWN_BANKS
        .iter()
        .find(|(r, _)| *r == routing)
        .map(|(_, n)| *n)
}

/// Checks an account number (4 to 17 digits) and that the confirmation matches it.
/// Returns the digits; they go to the tokenizer only.
pub fn check_account_number(raw: &str, confirm: &str) -> Result<String, FieldError> {
    let field = "account_number";
    let v = raw.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "Enter the account number."));
    }
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(field, "An account number has only digits."));
    }
    if v.len() < 4 || v.len() > 17 {
        return Err(FieldError::new(
            field,
            "An account number has 4 to 17 digits.",
        ));
    }
    if confirm.trim() != v {
        return Err(FieldError::new(
            "account_number_confirm",
            "The account numbers do not match.",
        ));
    }
    Ok(v.to_string())
}

/// Checking or savings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum AccountType {
    Checking,
    Savings,
}

impl AccountType {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "checking" => Ok(AccountType::Checking),
            "savings" => Ok(AccountType::Savings),
            _ => Err(FieldError::new(
                "account_type",
                "Choose checking or savings.",
            )),
        }
    }

    /// `checking` or `savings`, as forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Checking => "checking",
            AccountType::Savings => "savings",
        }
    }
}

/// Whose account it is: a business's or a person's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum HolderType {
    Business,
    Personal,
}

impl HolderType {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "business" => Ok(HolderType::Business),
            "personal" => Ok(HolderType::Personal),
            _ => Err(FieldError::new(
                "holder_type",
                "Choose business or personal.",
            )),
        }
    }

    /// `business` or `personal`, as forms send it.
    pub fn as_str(self) -> &'static str {
        match self {
            HolderType::Business => "business",
            HolderType::Personal => "personal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_numbers() {
        for (r, _) in KNOWN_BANKS {
            assert!(RoutingNumber::parse(r).is_ok(), "{r}");
        }
        assert_eq!(
            RoutingNumber::parse("110000000").unwrap().bank_name(),
            Some("First Sandbox Bank")
        );
        let msg = |raw: &str| RoutingNumber::parse(raw).unwrap_err().message;
        assert_eq!(msg(""), "Enter the 9-digit routing number.");
        assert_eq!(msg("11000000"), "A routing number is exactly 9 digits.");
        assert_eq!(msg("11000000x"), "A routing number is exactly 9 digits.");
        assert_eq!(
            msg("110000001"),
            "This routing number is not valid. Check it for typos."
        );
    }

    #[test]
    fn account_numbers() {
        assert_eq!(
            check_account_number("000123456789", " 000123456789").unwrap(),
            "000123456789"
        );
        let err = |a: &str, c: &str| check_account_number(a, c).unwrap_err();
        assert_eq!(
            err("123", "123").message,
            "An account number has 4 to 17 digits."
        );
        assert_eq!(err("123456789012345678", "").field, "account_number");
        assert_eq!(
            err("12a4", "12a4").message,
            "An account number has only digits."
        );
        assert_eq!(err("1234", "1235").field, "account_number_confirm");
        assert_eq!(AccountType::parse("savings").unwrap().as_str(), "savings");
        assert!(HolderType::parse("").is_err());
    }
}

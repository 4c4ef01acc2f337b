//! Keeps card data out of Settle. Card and account numbers go from the browser to the
//! gateway's tokenizer; a request to Settle's own server functions that carries a card
//! number field, a security code field, or anything that reads as a full card number is
//! refused before any handler sees it.

pub use shared::card::holds_card_number;

/// Field names that only ever hold card or bank data (compared lower-case, without `_`/`-`).
const FORBIDDEN_KEYS: [&str; 12] = [
    "cardnumber",
    "ccnumber",
    "pan",
    "cvc",
    "cvc2",
    "cvv",
    "cvv2",
    "csc",
    "securitycode",
    "cardsecuritycode",
    "accountnumber",
    "accountnumberconfirm",
];

fn forbidden_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    FORBIDDEN_KEYS.contains(&norm.as_str())
}

fn json_carries(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => holds_card_number(s),
        serde_json::Value::Number(n) => holds_card_number(&n.to_string()),
        serde_json::Value::Array(items) => items.iter().any(json_carries),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| forbidden_key(k) || json_carries(v))
        }
        _ => false,
    }
}

/// Whether a request body (JSON or URL-encoded form, as server functions send them)
/// carries card data. A body that is neither is judged by its text.
pub fn carries_card_data(content_type: &str, body: &[u8]) -> bool {
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => json_carries(&v),
            Err(_) => holds_card_number(&String::from_utf8_lossy(body)),
        };
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(body).any(|(k, v)| {
            k.split(['[', ']', '.'])
                .filter(|part| !part.is_empty())
                .any(forbidden_key)
                || holds_card_number(&v)
        });
    }
    holds_card_number(&String::from_utf8_lossy(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_card_numbers() {
        assert!(holds_card_number("4242424242424242"));
        assert!(holds_card_number("paid with 4242 4242 4242 4242 today"));
        assert!(holds_card_number("4000-0000-0000-0002"));
        assert!(!holds_card_number("4242424242424241"));
        assert!(!holds_card_number("invoice INV-2026-000123, 12500.00"));
        // UUIDs, dates and amounts are not card numbers.
        assert!(!holds_card_number("3f2b8c1e-4d5a-4b6c-9d7e-0f1a2b3c4d5e"));
        assert!(!holds_card_number("000123456789"));
        // Inside a UUID (an idempotency key) digits can line up like a card number: not one.
        assert!(!holds_card_number("abcdef12-4242-4242-4242-4242abcdef12"));
        assert!(!holds_card_number("f0e1d2c3-4242-4242-4242-424242424242"));
        assert!(!holds_card_number("ref4242424242424242"));
        assert!(holds_card_number("(4242424242424242)"));
    }

    #[test]
    fn idempotency_keys_are_never_card_numbers() {
        for _ in 0..200_000 {
            let key = uuid::Uuid::new_v4().to_string();
            assert!(!holds_card_number(&key), "{key}");
        }
    }

    #[test]
    fn judges_bodies() {
        let json = |s: &str| carries_card_data("application/json", s.as_bytes());
        assert!(json(r#"{"input":{"card_number":"x"}}"#));
        assert!(json(r#"{"cvc":"123"}"#));
        assert!(json(r#"{"payment":{"memo":"4242424242424242"}}"#));
        assert!(json(r#"{"n":4242424242424242}"#));
        assert!(!json(r#"{"payment":{"company":"C1001","method_id":7}}"#));
        let form = |s: &str| carries_card_data("application/x-www-form-urlencoded", s.as_bytes());
        assert!(form("input%5BcardNumber%5D=1"));
        assert!(form("input[cvv]=123"));
        assert!(form("q=4242+4242+4242+4242"));
        assert!(!form("q=acme&page=2"));
    }
}

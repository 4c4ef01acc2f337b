//! The key that makes a form's request happen once (a payment, a refund): a UUID the form
//! makes when it opens.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// The key that makes a payment happen once: a UUID made when the dialog opens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let k = raw.trim().to_ascii_lowercase();
        let hex_groups: Vec<&str> = k.split('-').collect();
        let ok = hex_groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && hex_groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Err(FieldError::new(
                "idempotency_key",
                "This payment form is out of date. Close it and open it again.",
            ));
        }
        Ok(IdempotencyKey(k))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

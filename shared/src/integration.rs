//! The integration surface as staff manage it: API keys and webhook endpoints.

use crate::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an API key may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// GET only.
    #[default]
    Read,
    /// GET and the upserts.
    ReadWrite,
}

impl ApiScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Read => "read",
            ApiScope::ReadWrite => "read_write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiScope::Read => "Read",
            ApiScope::ReadWrite => "Read and write",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "read" => Ok(ApiScope::Read),
            "read_write" => Ok(ApiScope::ReadWrite),
            _ => Err(FieldError::new("scope", "Choose read, or read and write.")),
        }
    }
}

/// A key's name: what it is for, 1–100 characters.
pub fn key_name(raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        Err(FieldError::new(
            "name",
            "Name the key after what uses it, e.g. \"NetSuite sync\".",
        ))
    } else if t.chars().count() > 100 {
        Err(FieldError::new(
            "name",
            "A key's name has at most 100 characters.",
        ))
    } else {
        Ok(t.to_string())
    }
}

/// A key as the API Keys screen lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeySummary {
    pub id: crate::ApiKeyId,
    pub name: String,
    pub scope: ApiScope,
    /// The secret's first characters, to tell keys apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeySummary,
    pub secret: String,
}

/// The events a webhook endpoint can receive.
pub const EVENT_TYPES: [(&str, &str); 7] = [
    ("payment.approved", "A card payment was approved"),
    ("payment.pending", "An ACH debit was submitted (pending)"),
    ("payment.declined", "A payment was declined"),
    ("payment.settled", "An ACH debit settled"),
    (
        "payment.returned",
        "An ACH debit was returned (invoices reopened)",
    ),
    ("method.added", "A payment method was added"),
    ("method.deactivated", "A payment method was deactivated"),
];

/// Plus `method.activated`, sent for a method made active again, and money given back.
pub const MORE_EVENT_TYPES: [(&str, &str); 7] = [
    ("method.activated", "A payment method was activated again"),
    (
        "payment.voided",
        "An ACH debit was cancelled before it settled (invoices reopened)",
    ),
    (
        "payment.refunded",
        "Money was refunded from a payment (invoices reopened)",
    ),
    (
        "payment.reversed",
        "A payment recorded in the ERP was reversed (invoices reopened)",
    ),
    (
        "refund.failed",
        "A refund failed or was cancelled (invoices closed again)",
    ),
    (
        "dispute.opened",
        "A cardholder disputed a payment (invoices reopened when the money is taken)",
    ),
    ("dispute.closed", "A dispute was won, lost or closed"),
];

/// Every event type, in the order the screens list them.
pub fn event_types() -> impl Iterator<Item = (&'static str, &'static str)> {
    EVENT_TYPES.into_iter().chain(MORE_EVENT_TYPES)
}

/// A webhook URL: http(s), with a host, at most 2,000 characters.
pub fn webhook_url(raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"));
    match rest {
        _ if t.is_empty() => Err(FieldError::new("url", "Enter the endpoint's URL.")),
        None => Err(FieldError::new(
            "url",
            "The URL starts with https:// (or http:// for a test receiver).",
        )),
        Some(r) if r.is_empty() || r.starts_with('/') || t.chars().any(char::is_whitespace) => {
            Err(FieldError::new(
                "url",
                "Enter a whole URL, like https://erp.example.com/settle-events.",
            ))
        }
        Some(_) if t.len() > 2000 => Err(FieldError::new(
            "url",
            "The URL has at most 2,000 characters.",
        )),
        Some(_) => Ok(t.to_string()),
    }
}

/// The chosen event types, checked: at least one, each known.
pub fn webhook_events(chosen: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    for c in chosen {
        if !event_types().any(|(t, _)| t == c) {
            return Err(FieldError::new(
                "events",
                format!("{c:?} is not an event type."),
            ));
        }
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    if out.is_empty() {
        return Err(FieldError::new("events", "Choose at least one event."));
    }
    Ok(out)
}

/// A webhook endpoint as the Webhooks screen lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: crate::WebhookId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub active: bool,
    /// Shown to admins: the receiver needs it to check signatures.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
}

/// Where one event's delivery to an endpoint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Delivered => "Delivered",
            DeliveryStatus::Failed => "Failed",
        }
    }
}

/// One row of an endpoint's delivery log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: crate::DeliveryId,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_events_are_checked() {
        assert!(webhook_url("https://erp.example.com/x").is_ok());
        assert!(webhook_url("ftp://x").is_err());
        assert!(webhook_url("https://").is_err());
        assert!(webhook_url("https://a b").is_err());
        assert!(webhook_events(&[]).is_err());
        assert!(webhook_events(&["payment.nope".into()]).is_err());
        assert_eq!(
            webhook_events(&["payment.approved".into(), "payment.approved".into()]).unwrap(),
            ["payment.approved"]
        );
    }
}

//! Stripe's webhook events (`POST /webhooks/stripe`), read as Stripe documents them: the
//! `Stripe-Signature` header checked against the endpoint's signing secrets (all of them while
//! one is rotated out) within the timestamp tolerance, then each event applied once by its id.
//!
//! - `payment_intent.succeeded`, `.processing`, `.payment_failed`: the payment Settle is
//!   still asking about is resolved with the intent's answer (as the reconciler would), and a
//!   pending bank debit is settled or returned (as the ACH sync would). Both are no-ops when
//!   the payment has already moved on, so an event that comes after polling changed nothing.
//! - `charge.refunded`: kept on the payment (refunds made in Settle come with the refunds
//!   work; this records one made at Stripe).
//! - `charge.dispute.*`: the dispute recorded on the payment with its amount, reason, status
//!   and evidence due date ([`crate::payments::disputes::report`]): the money taken reopens the
//!   invoices, a dispute won closes them again.
//!
//! Polling stays the backstop: a lost event changes nothing the reconciler and ACH sync do not.

use super::answers::PaymentIntent;
use crate::gateway::{ChargeStatus, DisputeNotice};
use crate::payments::{self, Resolution};
use crate::signature::{self, SignatureError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use shared::money::{Currency, Money};
use shared::payment::PaymentStatus;
use shared::PaymentId;
use sqlx::PgPool;

/// What became of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// The payment moved on (resolved, settled, returned).
    Applied,
    /// Kept on the payment (a refund, a dispute).
    Recorded,
    /// The payment was already where the event says.
    Already,
    /// No payment of Settle's is named by it.
    Unknown,
    /// A type Settle does not act on.
    Ignored,
    /// This event id was received before: nothing done again.
    Replayed,
}

impl Received {
    pub fn as_str(self) -> &'static str {
        match self {
            Received::Applied => "applied",
            Received::Recorded => "recorded",
            Received::Already => "already",
            Received::Unknown => "unknown",
            Received::Ignored => "ignored",
            Received::Replayed => "replayed",
        }
    }
}

/// Why an event was refused (answered 400: Stripe sends it again later).
#[derive(Debug, thiserror::Error)]
pub enum EventRefusal {
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("the body is not a Stripe event: {0}")]
    Malformed(String),
    #[error("the event could not be recorded: {0}")]
    Store(#[from] crate::Error),
}

impl From<sqlx::Error> for EventRefusal {
    fn from(e: sqlx::Error) -> Self {
        EventRefusal::Store(e.into())
    }
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Value,
}

/// Checks and applies one delivery; `now` in unix seconds.
pub async fn receive(
    pool: &PgPool,
    secrets: &[String],
    signature_header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Received, EventRefusal> {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    signature::verify(signature_header, body, &secrets, now)?;
    let event: Event =
        serde_json::from_slice(body).map_err(|e| EventRefusal::Malformed(e.to_string()))?;
    let seen = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM stripe_events WHERE id = $1)",
        event.id
    )
    .fetch_one(pool)
    .await?;
    if seen == Some(true) {
        return Ok(Received::Replayed);
    }
    let object = &event.data.object;
    let (payment, received) = match event.kind.as_str() {
        "payment_intent.succeeded"
        | "payment_intent.processing"
        | "payment_intent.payment_failed" => intent_event(pool, object).await?,
        "charge.refunded" => {
            let payment = payment_of(pool, object.get("payment_intent"), None).await?;
            (
                payment.map(|p| p.0),
                if payment.is_some() {
                    Received::Recorded
                } else {
                    Received::Unknown
                },
            )
        }
        kind if kind.starts_with("charge.dispute.") => dispute_event(pool, object).await?,
        _ => (None, Received::Ignored),
    };
    let created = DateTime::<Utc>::from_timestamp(event.created, 0).unwrap_or_else(Utc::now);
    // The outcome as stored: a payment already there is 'already'.
    sqlx::query!(
        "INSERT INTO stripe_events (id, type, created_at, payment_id, outcome)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        event.id,
        event.kind,
        created,
        payment.map(|p| p.0),
        received.as_str()
    )
    .execute(pool)
    .await?;
    Ok(received)
}

/// The payment a PaymentIntent (its id, or Settle's key in its metadata) belongs to, with
/// its status.
async fn payment_of(
    pool: &PgPool,
    intent: Option<&Value>,
    key: Option<&str>,
) -> Result<Option<(PaymentId, PaymentStatus)>, EventRefusal> {
    let intent = intent.and_then(Value::as_str);
    let key = key.and_then(crate::gateway::payment_key);
    if intent.is_none() && key.is_none() {
        return Ok(None);
    }
    Ok(sqlx::query!(
        r#"SELECT id AS "id: PaymentId", status AS "status: PaymentStatus" FROM payments
           WHERE idempotency_key = $1 OR gateway_charge_id = $2
           ORDER BY (idempotency_key = $1) DESC NULLS LAST LIMIT 1"#,
        key,
        intent
    )
    .fetch_optional(pool)
    .await?
    .map(|r| (r.id, r.status)))
}

async fn intent_event(
    pool: &PgPool,
    object: &Value,
) -> Result<(Option<PaymentId>, Received), EventRefusal> {
    let intent: PaymentIntent = serde_json::from_value(object.clone())
        .map_err(|e| EventRefusal::Malformed(e.to_string()))?;
    let key = object
        .pointer("/metadata/settle_key")
        .and_then(Value::as_str);
    let Some((payment, status)) = payment_of(pool, object.get("id"), key).await? else {
        return Ok((None, Received::Unknown));
    };
    // A card still processing says nothing yet; the reconciler keeps asking.
    let Ok(charge) = intent.charge() else {
        return Ok((Some(payment), Received::Already));
    };
    let moved = match status {
        PaymentStatus::Processing => {
            payments::resolve(pool, payment, Resolution::Charged(&charge)).await?;
            true
        }
        PaymentStatus::Pending
            if matches!(
                charge.status,
                ChargeStatus::Settled | ChargeStatus::Returned | ChargeStatus::Voided
            ) =>
        {
            payments::record_end(pool, payment, &charge).await?
        }
        _ => false,
    };
    Ok((
        Some(payment),
        if moved {
            Received::Applied
        } else {
            Received::Already
        },
    ))
}

async fn dispute_event(
    pool: &PgPool,
    object: &Value,
) -> Result<(Option<PaymentId>, Received), EventRefusal> {
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let (Some(id), Some(cents)) = (text("id"), object.get("amount").and_then(Value::as_i64)) else {
        return Err(EventRefusal::Malformed(
            "a dispute without id or amount".into(),
        ));
    };
    let Some(intent) = text("payment_intent") else {
        return Ok((None, Received::Unknown));
    };
    let at = |v: Option<&Value>| {
        v.and_then(Value::as_i64)
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
    };
    let notice = DisputeNotice {
        id: id.to_string(),
        charge_id: intent.to_string(),
        amount: Money::from_minor_units(cents, Currency::USD),
        reason: text("reason").unwrap_or("general").to_string(),
        status: text("status").unwrap_or("needs_response").to_string(),
        evidence_due_by: at(object.pointer("/evidence_details/due_by")),
        opened_at: at(object.get("created")).unwrap_or_else(Utc::now),
    };
    Ok(match payments::disputes::report(pool, &notice).await? {
        Some(payment) => (Some(payment), Received::Recorded),
        None => (None, Received::Unknown),
    })
}

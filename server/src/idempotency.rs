//! Exactly once, by key: a request sent again with the key of an earlier one gets the earlier
//! one's answer, and the same key with another request is refused. Two kinds of key, one room:
//!
//! - **payments'** (`idempotency_keys`): the payment form's key, claimed in the payment's first
//!   transaction by the signed-in user or the pay link; the answer (or the refusal) is stored
//!   by the transaction that resolves the payment. A key whose first attempt the gateway
//!   refused (nothing charged) is free again for another request.
//! - **the REST API's** (`api_idempotency`): an API key's `Idempotency-Key` header, claimed in
//!   the write's own transaction with the path and body's hash, its status and body stored in
//!   that transaction.
//!
//! A second request with a key still being processed waits for the first (the row lock for the
//! API, a short poll for payments, whose charge runs outside any transaction).

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use shared::payment::PaymentOutcome;
use shared::{ApiKeyId, AppError, PayLinkId, UserId};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

/// The hash a key's request is recognised by: SHA-256 of its parts, a zero byte between two.
pub fn hash(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0]);
        }
        h.update(p);
    }
    h.finalize().to_vec()
}

/// Who a payment key belongs to: the signed-in user, or the pay link (nobody signed in).
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub user: Option<UserId>,
    pub link: Option<PayLinkId>,
}

/// What claiming a payment key found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Never used: this request is its first.
    Fresh,
    /// Its first attempt was refused by the gateway (nothing charged): taken again.
    Retaken,
    /// Used by a request that counts: replay its answer.
    Used,
}

/// Claims a payment key in the payment's first transaction.
pub async fn claim_payment(
    tx: &mut PgConnection,
    key: Uuid,
    owner: Owner,
    hash: &[u8],
) -> Result<Claim> {
    let fresh = sqlx::query!(
        "INSERT INTO idempotency_keys (key, user_id, pay_link_id, scope, request_hash) \
         VALUES ($1, $2, $3, 'payment', $4) ON CONFLICT (key) DO NOTHING",
        key,
        owner.user as Option<UserId>,
        owner.link as Option<PayLinkId>,
        hash
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if fresh {
        return Ok(Claim::Fresh);
    }
    // The same request again gets the refusal replayed; another request takes the key.
    let retaken = sqlx::query!(
        "UPDATE idempotency_keys SET request_hash = $2, user_id = $3, pay_link_id = $4, refusal = NULL, \
             response = NULL, completed_at = NULL WHERE key = $1 AND refusal IS NOT NULL AND request_hash <> $2",
        key,
        hash,
        owner.user as Option<UserId>,
        owner.link as Option<PayLinkId>
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    Ok(if retaken { Claim::Retaken } else { Claim::Used })
}

/// A payment key's answer as its row keeps it: the outcome (`response`) or the refusal.
pub fn stored_values(
    answer: &std::result::Result<PaymentOutcome, AppError>,
) -> Result<(Option<serde_json::Value>, Option<serde_json::Value>)> {
    let json =
        |v: serde_json::Result<serde_json::Value>| v.map_err(|e| Error::Other(e.to_string()));
    Ok(match answer {
        Ok(outcome) => (Some(json(serde_json::to_value(outcome))?), None),
        Err(e) => (None, Some(json(serde_json::to_value(e))?)),
    })
}

/// Stores a payment key's answer (an outcome, or the refusal) in the resolving transaction.
pub async fn store_payment(
    tx: &mut PgConnection,
    key: Uuid,
    answer: &std::result::Result<PaymentOutcome, AppError>,
) -> Result<()> {
    let (response, refusal) = stored_values(answer)?;
    sqlx::query!(
        "UPDATE idempotency_keys SET response = $2, refusal = $3, completed_at = now() WHERE key = $1",
        key,
        response,
        refusal
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// How long a replay of a payment key still being processed waits for the first request.
const REPLAY_WAIT: Duration = Duration::from_secs(30);

/// The first answer to a payment key used before, waiting (up to 30 s) while its first
/// request finishes.
pub async fn replay_payment(pool: &PgPool, key: Uuid, hash: &[u8]) -> Result<PaymentOutcome> {
    let deadline = tokio::time::Instant::now() + REPLAY_WAIT;
    loop {
        let row = sqlx::query!(
            "SELECT request_hash, response, refusal FROM idempotency_keys WHERE key = $1",
            key
        )
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else {
            return Err(Error::Other("idempotency key vanished".into()));
        };
        if row.request_hash != hash {
            return Err(AppError::invalid(
                "idempotency_key",
                "This payment form was already used for a different payment. Close it and open it again.",
            )
            .into());
        }
        if row.response.is_some() || row.refusal.is_some() {
            return stored_answer(row.response, row.refusal);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AppError::invalid(
                "method",
                "This payment is still being processed. Check the Payments tab before trying again.",
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A finished payment key's stored answer.
pub async fn stored_payment(pool: &PgPool, key: Uuid) -> Result<PaymentOutcome> {
    let row = sqlx::query!(
        "SELECT response, refusal FROM idempotency_keys WHERE key = $1",
        key
    )
    .fetch_one(pool)
    .await?;
    stored_answer(row.response, row.refusal)
}

/// A key's stored first answer: an outcome, or the refusal error.
fn stored_answer(
    response: Option<serde_json::Value>,
    refusal: Option<serde_json::Value>,
) -> Result<PaymentOutcome> {
    let stored = |e: serde_json::Error| Error::Other(format!("stored answer: {e}"));
    match (response, refusal) {
        (Some(response), _) => serde_json::from_value(response).map_err(stored),
        (None, Some(refusal)) => Err(serde_json::from_value::<AppError>(refusal)
            .map_err(stored)?
            .into()),
        (None, None) => Err(Error::Other(
            "finished payment without a stored answer".into(),
        )),
    }
}

/// An API write's stored answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub status: u16,
    pub body: serde_json::Value,
}

/// What claiming an API key found.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiClaim {
    /// Claimed for this request: do the work, then [`store_api`] in the same transaction.
    Claimed,
    /// The same request was answered before: answer the same.
    Answered(Stored),
    /// The key was used with another request (another path or body).
    Reused,
}

/// Claims an API key's `Idempotency-Key` in the write's transaction (waiting while another
/// request with the key is running, then seeing its answer).
pub async fn claim_api(
    tx: &mut PgConnection,
    api_key: ApiKeyId,
    key: &str,
    path: &str,
    hash: &[u8],
) -> Result<ApiClaim> {
    let claimed = sqlx::query_scalar!(
        "INSERT INTO api_idempotency (key_id, idempotency_key, path, request_hash, status, response) \
         VALUES ($1, $2, $3, $4, 0, 'null') ON CONFLICT DO NOTHING RETURNING key_id",
        api_key as ApiKeyId,
        key,
        path,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_some() {
        return Ok(ApiClaim::Claimed);
    }
    let was = sqlx::query!(
        "SELECT request_hash, status, response FROM api_idempotency \
         WHERE key_id = $1 AND idempotency_key = $2",
        api_key as ApiKeyId,
        key
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(if was.request_hash != hash {
        ApiClaim::Reused
    } else {
        ApiClaim::Answered(Stored {
            status: was.status as u16,
            body: was.response,
        })
    })
}

/// Stores an API write's answer with its key, in the write's transaction.
pub async fn store_api(
    tx: &mut PgConnection,
    api_key: ApiKeyId,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<()> {
    sqlx::query!(
        "UPDATE api_idempotency SET status = $3, response = $4 WHERE key_id = $1 AND idempotency_key = $2",
        api_key as ApiKeyId,
        key,
        status as i16,
        body
    )
    .execute(tx)
    .await?;
    Ok(())
}

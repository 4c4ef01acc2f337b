//! API keys for the seller's ERP: made and revoked by admins, shown once, kept as a SHA-256.
//! Every request is checked here and counted against its key's per-minute limit, in one
//! round trip, shared by every instance.

use crate::audit::{self, Action, Entity};
use crate::authority::{Admin, ApiKey};
use crate::tokens::{hash, new_secret};
use crate::Result;
use chrono::{DateTime, Utc};
use serde_json::json;
use shared::integration::{key_name, ApiKeySummary, ApiScope, CreatedApiKey};
use shared::{ApiKeyId, AppError, UserId};
use sqlx::PgPool;

/// Secrets start with this, so a leaked one is recognisable (secret scanners, logs).
pub const SECRET_PREFIX: &str = "sk_settle_";

/// Why a request's key was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No key, an unknown one or a revoked one.
    Unknown,
    /// Over the per-minute limit; try again in this many seconds.
    Limited { retry_after: u64 },
}

/// Makes a key; its secret is in the answer and nowhere else.
pub async fn create(
    pool: &PgPool,
    admin: &Admin,
    name: &str,
    scope: ApiScope,
) -> Result<CreatedApiKey> {
    let (by, created_by) = (admin.actor(), admin.id());
    let name = key_name(name)?;
    let secret = format!("{SECRET_PREFIX}{}", new_secret());
    let prefix: String = secret.chars().take(SECRET_PREFIX.len() + 6).collect();
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO api_keys (name, scope, prefix, secret_hash, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        name,
        scope as ApiScope,
        prefix,
        hash(&secret),
        created_by as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        by,
        Action::ApiKeyCreated,
        Entity::ApiKey,
        id,
        json!({ "name": name, "scope": scope.as_str(), "prefix": prefix }),
    )
    .await?;
    tx.commit().await?;
    let key = keys(pool, Some(id))
        .await?
        .pop()
        .ok_or_else(|| crate::Error::Other("a new key vanished".into()))?;
    Ok(CreatedApiKey { key, secret })
}

/// Every key, newest first (revoked ones too, marked).
pub async fn list(pool: &PgPool, _admin: &Admin) -> Result<Vec<ApiKeySummary>> {
    keys(pool, None).await
}

/// The keys (all, or the one with `id`), newest first.
async fn keys(pool: &PgPool, id: Option<i64>) -> Result<Vec<ApiKeySummary>> {
    Ok(sqlx::query_as!(
        ApiKeySummary,
        r#"SELECT k.id, k.name, k.scope AS "scope: ApiScope", k.prefix, u.name AS created_by,
                  k.created_at, k.last_used_at, k.revoked_at
           FROM api_keys k JOIN users u ON u.id = k.created_by
           WHERE $1::bigint IS NULL OR k.id = $1 ORDER BY k.id DESC"#,
        id
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a key: its next request is refused. Revoking twice changes nothing.
pub async fn revoke(pool: &PgPool, admin: &Admin, id: ApiKeyId) -> Result<()> {
    let by = admin.actor();
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query_scalar!(
        "UPDATE api_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING name",
        id as ApiKeyId,
        by.user_id as Option<UserId>,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = revoked else {
        let exists = sqlx::query_scalar!("SELECT 1 FROM api_keys WHERE id = $1", id as ApiKeyId)
            .fetch_optional(&mut *tx)
            .await?;
        return match exists {
            Some(_) => Ok(()),
            None => Err(AppError::NotFound("API key".into()).into()),
        };
    };
    audit::system_change(
        &mut tx,
        by,
        Action::ApiKeyRevoked,
        Entity::ApiKey,
        id,
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a bearer secret and counts the request against its key's limit (`per_minute`
/// requests in each clock minute), marking the key used. One statement.
pub async fn authenticate(
    pool: &PgPool,
    secret: &str,
    per_minute: u32,
) -> Result<std::result::Result<ApiKey, Refused>> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Ok(Err(Refused::Unknown));
    }
    let row = sqlx::query!(
        r#"WITH k AS (SELECT id, scope FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL),
                touched AS (UPDATE api_keys SET last_used_at = now()
                            WHERE id = (SELECT id FROM k)
                              AND (last_used_at IS NULL OR last_used_at < now() - interval '5 seconds')),
                counted AS (INSERT INTO api_rate_windows (key_id, window_start, used)
                            SELECT id, date_trunc('minute', now()), 1 FROM k
                            ON CONFLICT (key_id, window_start)
                            DO UPDATE SET used = api_rate_windows.used + 1
                            RETURNING used, window_start)
           SELECT k.id AS "id!", k.scope AS "scope!: ApiScope", c.used AS "used!",
                  c.window_start AS "window_start!"
           FROM k, counted c"#,
        hash(secret),
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(Err(Refused::Unknown));
    };
    if r.used as i64 > per_minute as i64 {
        let ends: DateTime<Utc> = r.window_start + chrono::Duration::seconds(60);
        let retry_after = (ends - Utc::now()).num_seconds().clamp(1, 60) as u64;
        return Ok(Err(Refused::Limited { retry_after }));
    }
    Ok(Ok(ApiKey::new(ApiKeyId(r.id), r.scope)))
}

/// Forgets finished rate-limit windows and idempotency answers older than a day.
pub async fn forget_old(pool: &PgPool) -> Result<u64> {
    let windows = sqlx::query!(
        "DELETE FROM api_rate_windows WHERE window_start < now() - interval '2 minutes'"
    )
    .execute(pool)
    .await?
    .rows_affected();
    let answers =
        sqlx::query!("DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours'")
            .execute(pool)
            .await?
            .rows_affected();
    Ok(windows + answers)
}

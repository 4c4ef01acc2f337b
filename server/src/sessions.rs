//! Server-side sessions. The browser holds a random 256-bit token in an HttpOnly cookie;
//! the database holds only its SHA-256, with idle and absolute expiry.

use crate::{Config, Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::auth::{CompanyRef, Role, SessionUser};
use shared::company::CompanyCode;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE: &str = "settle_session";

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Opens a session for `user_id` and returns its token (for the cookie).
pub async fn create(
    conn: &mut PgConnection,
    user_id: i64,
    config: &Config,
    user_agent: Option<&str>,
) -> Result<String> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, expires_at, user_agent) \
         VALUES ($1, $2, now() + make_interval(secs => $3), $4)",
    )
    .bind(hash(&token))
    .bind(user_id)
    .bind(secs(config.session_max))
    .bind(user_agent.map(|ua| ua.chars().take(300).collect::<String>()))
    .execute(conn)
    .await?;
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    email: String,
    role: String,
    company_id: Option<i64>,
    company_code: Option<String>,
    company_name: Option<String>,
    stale: bool,
}

/// The user behind a session token, if the session is alive (not past its absolute expiry,
/// not idle too long, user still active). Marks the session as used.
pub async fn resolve(pool: &PgPool, config: &Config, token: &str) -> Result<Option<SessionUser>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let token_hash = hash(token);
    let row: Option<Row> = sqlx::query_as(
        "SELECT u.id, u.name, u.email, u.role, c.id AS company_id, c.code AS company_code, \
                c.name AS company_name, s.last_seen_at < now() - interval '60 seconds' AS stale \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         LEFT JOIN companies c ON c.id = u.company_id \
         WHERE s.token_hash = $1 AND s.expires_at > now() \
           AND s.last_seen_at > now() - make_interval(secs => $2) AND u.active",
    )
    .bind(&token_hash)
    .bind(secs(config.session_idle))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.stale {
        sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1")
            .bind(&token_hash)
            .execute(pool)
            .await?;
    }
    let company = match (row.company_id, row.company_code, row.company_name) {
        (Some(id), Some(code), Some(name)) => Some((id, code, name)),
        _ => None,
    };
    session_user(row.id, row.name, row.email, &row.role, company).map(Some)
}

/// Ends one session.
pub async fn destroy(pool: &PgPool, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of a user (e.g. when the user is disabled).
pub async fn destroy_all_for_user(conn: &mut PgConnection, user_id: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past their absolute expiry.
pub async fn purge_expired(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Purges expired sessions every ten minutes.
pub fn spawn_purger(pool: PgPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = purge_expired(&pool).await {
                tracing::warn!(error = %e, "purging expired sessions");
            }
        }
    });
}

/// A signed-in user as a session knows them, from their row (and their company's).
pub(crate) fn session_user(
    id: i64,
    name: String,
    email: String,
    role: &str,
    company: Option<(i64, String, String)>,
) -> Result<SessionUser> {
    let role = Role::from_db(role).ok_or_else(|| Error::Other(format!("unknown role {role}")))?;
    let company = match company {
        Some((id, code, name)) => Some(CompanyRef {
            id,
            code: CompanyCode::parse(&code).map_err(|e| Error::Other(e.message))?,
            name,
        }),
        None => None,
    };
    Ok(SessionUser {
        id,
        name,
        email,
        role,
        company,
    })
}

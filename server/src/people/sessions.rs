//! Server-side sessions. The browser holds a random 256-bit token in an HttpOnly cookie;
//! the database holds only its SHA-256, with idle and absolute expiry.

use crate::tokens::{hash, new_secret};
use crate::{Config, Error, Result};
use shared::auth::{CompanyRef, Role, SessionUser};
use shared::company::CompanyCode;
use shared::{CompanyId, UserId};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE: &str = "settle_session";

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Opens a session for `user_id` and returns its token (for the cookie).
pub async fn create(
    conn: &mut PgConnection,
    user_id: UserId,
    config: &Config,
    user_agent: Option<&str>,
) -> Result<String> {
    let token = new_secret();
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, expires_at, user_agent) \
         VALUES ($1, $2, now() + make_interval(secs => $3), $4)",
        hash(&token),
        user_id as UserId,
        secs(config.session_max),
        user_agent.map(|ua| ua.chars().take(300).collect::<String>()),
    )
    .execute(conn)
    .await?;
    Ok(token)
}

/// A user and their company, as sign-in and sessions read them.
pub(crate) struct UserRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    pub company_code: Option<String>,
    pub company_name: Option<String>,
}

impl UserRow {
    /// The signed-in user as every screen and server function sees them.
    pub fn into_session_user(self) -> Result<SessionUser> {
        let company = match (self.company_id, self.company_code, self.company_name) {
            (Some(id), Some(code), Some(name)) => Some(CompanyRef {
                id,
                code: CompanyCode::parse(&code).map_err(|e| Error::Other(e.message))?,
                name,
            }),
            _ => None,
        };
        Ok(SessionUser {
            id: self.id,
            name: self.name,
            email: self.email,
            role: self.role,
            company,
        })
    }
}

/// One user and their company.
pub(crate) async fn user_row(conn: &mut PgConnection, id: UserId) -> Result<UserRow> {
    Ok(sqlx::query_as!(
        UserRow,
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.role AS "role: Role",
                  c.id AS "company_id?: CompanyId", c.code AS "company_code?", c.name AS "company_name?"
           FROM users u LEFT JOIN companies c ON c.id = u.company_id WHERE u.id = $1"#,
        id as UserId
    )
    .fetch_one(conn)
    .await?)
}

/// The user behind a session token, if the session is alive (not past its absolute expiry,
/// not idle too long, user still active). Marks the session as used.
pub async fn resolve(pool: &PgPool, config: &Config, token: &str) -> Result<Option<SessionUser>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let token_hash = hash(token);
    let row = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.role AS "role: Role",
                  c.id AS "company_id?: CompanyId", c.code AS "company_code?", c.name AS "company_name?",
                  s.last_seen_at < now() - interval '60 seconds' AS "stale!"
           FROM sessions s JOIN users u ON u.id = s.user_id
           LEFT JOIN companies c ON c.id = u.company_id
           WHERE s.token_hash = $1 AND s.expires_at > now()
             AND s.last_seen_at > now() - make_interval(secs => $2) AND u.active"#,
        token_hash,
        secs(config.session_idle)
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.stale {
        sqlx::query!(
            "UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1",
            token_hash
        )
        .execute(pool)
        .await?;
    }
    UserRow {
        id: row.id,
        name: row.name,
        email: row.email,
        role: row.role,
        company_id: row.company_id,
        company_code: row.company_code,
        company_name: row.company_name,
    }
    .into_session_user()
    .map(Some)
}

/// Ends one session.
pub async fn destroy(pool: &PgPool, token: &str) -> Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", hash(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// What [`sign_out_everywhere`] ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignedOut {
    pub sessions: u64,
    /// Open invitation and reset links spent.
    pub links: u64,
}

/// Ends every session of a user and spends their open invitation and reset links (the user
/// was disabled, or set a password by a link): nothing signs them in but their password.
pub async fn sign_out_everywhere(conn: &mut PgConnection, user_id: UserId) -> Result<SignedOut> {
    let links = sqlx::query!(
        "UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        user_id as UserId
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let sessions = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id as UserId)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(SignedOut { sessions, links })
}

/// Removes sessions past their absolute expiry.
pub async fn purge_expired(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query!("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

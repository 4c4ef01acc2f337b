//! Users, password hashing and sign-in with lockout.

use crate::acting::Acting;
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::sessions;
use crate::{Config, Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Utc;
use serde_json::json;
use shared::auth::{CustomerUser, LoginInput, Role, SessionUser};
use shared::{AppError, CompanyId, UserId};
use sqlx::PgPool;
use std::sync::OnceLock;

/// Failed attempts in a row that lock an account.
pub const MAX_FAILED_LOGINS: i32 = 10;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 30;

/// Argon2id with OWASP's parameters: 19 MiB of memory, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (salted).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Other(format!("hashing password: {e}")))
}

/// Checks a password against a stored PHC hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => argon2().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A hash to check against when the email is unknown, so that answer takes as long as a
/// wrong password does.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").expect("hash"))
}

async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// The outcome of a good sign-in: who, and the new session's cookie token.
#[derive(Debug)]
pub struct SignedIn {
    pub user: SessionUser,
    pub token: String,
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

/// Signs a user in: checks the lockout, the password and the account, and opens a new
/// session. `previous_token` (the caller's old session, if any) is ended: a sign-in always
/// gets a fresh session id. A user created with a temporary password signs in with it and
/// `new_password` together; without one they are asked for it and no session is opened.
pub async fn login(
    pool: &PgPool,
    config: &Config,
    input: &LoginInput,
    new_password: Option<&str>,
    previous_token: Option<&str>,
    user_agent: Option<&str>,
) -> Result<SignedIn> {
    if let Some(old) = previous_token {
        sessions::destroy(pool, old).await?;
    }
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.role AS "role: Role", u.password_hash,
                  u.active, u.failed_logins, u.locked_until, u.must_set_password,
                  c.id AS "company_id?: CompanyId", c.code AS "company_code?", c.name AS "company_name?"
           FROM users u LEFT JOIN companies c ON c.id = u.company_id
           WHERE u.email = $1 FOR UPDATE OF u"#,
        input.email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;

    let Some(row) = row else {
        verify_blocking(input.password.clone(), None).await;
        return Err(AppError::invalid("password", BAD_CREDENTIALS).into());
    };
    let now = Utc::now();
    if let Some(until) = row.locked_until.filter(|u| *u > now) {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        return Err(AppError::LockedOut { minutes }.into());
    }
    let ok = verify_blocking(input.password.clone(), row.password_hash.clone()).await;
    let actor = Actor::user(row.id, row.role);
    let event = |action: Action, details: serde_json::Value| Event {
        actor,
        on_behalf_of: row.company_id,
        action,
        entity: Entity::User,
        entity_id: Some(row.id.to_string()),
        details,
    };
    if !ok {
        let failed = row.failed_logins + 1;
        let locks = failed >= MAX_FAILED_LOGINS;
        sqlx::query!(
            "UPDATE users SET failed_logins = $2, \
                 locked_until = CASE WHEN $3 THEN now() + make_interval(mins => $4) ELSE NULL END, \
                 updated_at = now() \
             WHERE id = $1",
            row.id as UserId,
            if locks { 0 } else { failed },
            locks,
            LOCKOUT_MINUTES as i32
        )
        .execute(&mut *tx)
        .await?;
        let action = if locks {
            Action::UserLockedOut
        } else {
            Action::UserLoginFailed
        };
        audit::record(&mut tx, event(action, json!({ "failed_attempts": failed }))).await?;
        tx.commit().await?;
        return Err(if locks {
            AppError::LockedOut {
                minutes: LOCKOUT_MINUTES,
            }
        } else {
            AppError::invalid("password", BAD_CREDENTIALS)
        }
        .into());
    }
    if !row.active {
        return Err(AppError::invalid(
            "email",
            "This account has been disabled. Contact your administrator.",
        )
        .into());
    }
    if row.must_set_password {
        let new = new_password.unwrap_or("");
        shared::auth::check_new_password(new, &input.password)?;
        let hash = hash_blocking(new.to_string()).await?;
        sqlx::query!(
            "UPDATE users SET password_hash = $2, must_set_password = false, updated_at = now() WHERE id = $1",
            row.id as UserId,
            hash
        )
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, event(Action::UserPasswordSet, json!({}))).await?;
    }
    sqlx::query!(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1",
        row.id as UserId
    )
    .execute(&mut *tx)
    .await?;
    let token = sessions::create(&mut tx, row.id, config, user_agent).await?;
    audit::record(&mut tx, event(Action::UserLogin, json!({}))).await?;
    tx.commit().await?;
    let user = sessions::UserRow {
        id: row.id,
        name: row.name,
        email: row.email,
        role: row.role,
        company_id: row.company_id,
        company_code: row.company_code,
        company_name: row.company_name,
    }
    .into_session_user()?;
    Ok(SignedIn { user, token })
}

/// A user to create.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    pub password: &'a str,
}

/// Hashes a password off the async threads (Argon2 takes a while on purpose).
pub(crate) async fn hash_password_blocking(password: String) -> Result<String> {
    hash_blocking(password).await
}

async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::Other(e.to_string()))?
}

/// Creates a user with a password (used by demo data and tests).
pub async fn create(conn: &mut sqlx::PgConnection, u: NewUser<'_>) -> Result<UserId> {
    let hash = hash_blocking(u.password.to_string()).await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO users (email, name, role, company_id, password_hash)
           VALUES ($1, $2, $3, $4, $5) RETURNING id AS "id: UserId""#,
        u.email.trim().to_lowercase(),
        u.name,
        u.role as Role,
        u.company_id as Option<CompanyId>,
        hash
    )
    .fetch_one(&mut *conn)
    .await?;
    audit::record(
        conn,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: u.company_id,
            action: Action::UserCreated,
            entity: Entity::User,
            entity_id: Some(id.to_string()),
            details: json!({ "email": u.email, "role": format!("{:?}", u.role).to_lowercase() }),
        },
    )
    .await?;
    Ok(id)
}

/// A company's customer users, active first, by name.
pub async fn company_users(pool: &PgPool, company: CompanyId) -> Result<Vec<CustomerUser>> {
    Ok(sqlx::query_as!(
        CustomerUser,
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.active, u.must_set_password,
                  (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_sign_in
           FROM users u WHERE u.company_id = $1 AND u.role = 'customer'
           ORDER BY u.active DESC, lower(u.name), u.id"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?)
}

/// Enables or disables one of `company`'s customer users (admins only). Disabling ends
/// their sessions at once.
pub async fn set_customer_active(
    pool: &PgPool,
    acting: &Acting,
    company: CompanyId,
    user: UserId,
    active: bool,
) -> Result<()> {
    acting.admin()?;
    let mut tx = pool.begin().await?;
    let was = sqlx::query_scalar!(
        "SELECT active FROM users WHERE id = $1 AND company_id = $2 AND role = 'customer' FOR UPDATE",
        user as UserId,
        company as CompanyId
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(was) = was else {
        return Err(AppError::NotFound("User".into()).into());
    };
    if was == active {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET active = $2, updated_at = now() WHERE id = $1",
        user as UserId,
        active
    )
    .execute(&mut *tx)
    .await?;
    let ended = if active {
        0
    } else {
        sessions::destroy_all_for_user(&mut tx, user).await?
    };
    audit::record(
        &mut tx,
        Event {
            actor: acting.actor(),
            on_behalf_of: Some(company),
            action: if active {
                Action::UserEnabled
            } else {
                Action::UserDisabled
            },
            entity: Entity::User,
            entity_id: Some(user.to_string()),
            details: json!({ "sessions_ended": ended }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("x", "not a hash"));
    }
}

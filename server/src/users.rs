//! Users, password hashing and sign-in with lockout.

use crate::audit::{self, Actor, Event};
use crate::sessions;
use crate::{Config, Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use serde_json::json;
use shared::auth::{CreatedUser, CustomerUser, LoginInput, Role, SessionUser};
use shared::AppError;
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

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    name: String,
    email: String,
    role: String,
    password_hash: Option<String>,
    active: bool,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    must_set_password: bool,
    company_id: Option<i64>,
    company_code: Option<String>,
    company_name: Option<String>,
}

/// The outcome of a good sign-in: who, and the new session's cookie token.
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
    let row: Option<LoginRow> = sqlx::query_as(
        "SELECT u.id, u.name, u.email, u.role, u.password_hash, u.active, u.failed_logins, \
                u.locked_until, u.must_set_password, c.id AS company_id, c.code AS company_code, c.name AS company_name \
         FROM users u LEFT JOIN companies c ON c.id = u.company_id \
         WHERE u.email = $1 FOR UPDATE OF u",
    )
    .bind(input.email.as_str())
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
    let actor = Actor::user(row.id, Role::from_db(&row.role).unwrap_or(Role::Customer));
    if !ok {
        let failed = row.failed_logins + 1;
        let locks = failed >= MAX_FAILED_LOGINS;
        sqlx::query(
            "UPDATE users SET failed_logins = $2, \
                 locked_until = CASE WHEN $3 THEN now() + make_interval(mins => $4) ELSE NULL END, \
                 updated_at = now() \
             WHERE id = $1",
        )
        .bind(row.id)
        .bind(if locks { 0 } else { failed })
        .bind(locks)
        .bind(LOCKOUT_MINUTES as i32)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            Event {
                actor,
                on_behalf_company_id: row.company_id,
                action: if locks {
                    "user.locked_out"
                } else {
                    "user.login_failed"
                },
                entity_type: "user",
                entity_id: Some(row.id.to_string()),
                details: json!({ "failed_attempts": failed }),
            },
        )
        .await?;
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
        sqlx::query(
            "UPDATE users SET password_hash = $2, must_set_password = false, updated_at = now() WHERE id = $1",
        )
        .bind(row.id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            Event {
                actor,
                on_behalf_company_id: row.company_id,
                action: "user.password_set",
                entity_type: "user",
                entity_id: Some(row.id.to_string()),
                details: json!({}),
            },
        )
        .await?;
    }
    sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1",
    )
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    let token = sessions::create(&mut tx, row.id, config, user_agent).await?;
    audit::record(
        &mut tx,
        Event {
            actor,
            on_behalf_company_id: row.company_id,
            action: "user.login",
            entity_type: "user",
            entity_id: Some(row.id.to_string()),
            details: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    let company = match (row.company_id, row.company_code, row.company_name) {
        (Some(id), Some(code), Some(name)) => Some((id, code, name)),
        _ => None,
    };
    let user = sessions::session_user(row.id, row.name, row.email, &row.role, company)?;
    Ok(SignedIn { user, token })
}

/// A user to create.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub company_id: Option<i64>,
    pub password: &'a str,
}

async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::Other(e.to_string()))?
}

/// Creates a user with a password (used by demo data and tests).
pub async fn create(conn: &mut sqlx::PgConnection, u: NewUser<'_>) -> Result<i64> {
    let hash = hash_blocking(u.password.to_string()).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, company_id, password_hash) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(u.email.trim().to_lowercase())
    .bind(u.name)
    .bind(u.role.as_db())
    .bind(u.company_id)
    .bind(hash)
    .fetch_one(&mut *conn)
    .await?;
    audit::record(
        conn,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_company_id: u.company_id,
            action: "user.created",
            entity_type: "user",
            entity_id: Some(id.to_string()),
            details: json!({ "email": u.email, "role": u.role.as_db() }),
        },
    )
    .await?;
    Ok(id)
}

const CUSTOMER_USER_SELECT: &str = "SELECT u.id, u.name, u.email, u.active, u.must_set_password, \
     (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_sign_in \
     FROM users u";

#[derive(sqlx::FromRow)]
struct CustomerUserRow {
    id: i64,
    name: String,
    email: String,
    active: bool,
    must_set_password: bool,
    last_sign_in: Option<DateTime<Utc>>,
}

impl From<CustomerUserRow> for CustomerUser {
    fn from(r: CustomerUserRow) -> Self {
        CustomerUser {
            id: r.id,
            name: r.name,
            email: r.email,
            active: r.active,
            must_set_password: r.must_set_password,
            last_sign_in: r.last_sign_in,
        }
    }
}

/// A company's customer users, active first, by name.
pub async fn company_users(pool: &PgPool, company_id: i64) -> Result<Vec<CustomerUser>> {
    let rows: Vec<CustomerUserRow> = sqlx::query_as(&format!(
        "{CUSTOMER_USER_SELECT} WHERE u.company_id = $1 AND u.role = 'customer' ORDER BY u.active DESC, lower(u.name), u.id"
    ))
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(CustomerUser::from).collect())
}

/// A temporary password to hand over: 16 characters from an alphabet without look-alikes.
fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|i| {
            let c = ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
            if i > 0 && i % 4 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Creates a customer user for `company_id` with a temporary password (returned once, to
/// hand over); they choose their own at their first sign-in.
pub async fn create_customer(
    pool: &PgPool,
    by: &SessionUser,
    company_id: i64,
    name: &str,
    email: &str,
) -> Result<CreatedUser> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter the person's name.").into());
    }
    if name.chars().count() > 100 {
        return Err(
            AppError::invalid("name", "The name is too long (100 characters at most).").into(),
        );
    }
    let email = shared::auth::Email::parse(email)?;
    let temporary = temporary_password();
    let hash = hash_blocking(temporary.clone()).await?;
    let mut tx = pool.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, company_id, password_hash, must_set_password) \
         VALUES ($1, $2, 'customer', $3, $4, true) ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email.as_str())
    .bind(&name)
    .bind(company_id)
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(AppError::invalid("email", "A user with this email already exists.").into());
    };
    audit::record(
        &mut tx,
        Event {
            actor: Actor::user(by.id, by.role),
            on_behalf_company_id: Some(company_id),
            action: "user.created",
            entity_type: "user",
            entity_id: Some(id.to_string()),
            details: json!({ "email": email.as_str(), "name": name, "role": "customer" }),
        },
    )
    .await?;
    tx.commit().await?;
    let user: CustomerUserRow = sqlx::query_as(&format!("{CUSTOMER_USER_SELECT} WHERE u.id = $1"))
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(CreatedUser {
        user: user.into(),
        temporary_password: temporary,
    })
}

/// Enables or disables one of `company_id`'s customer users. Disabling ends their sessions
/// at once.
pub async fn set_customer_active(
    pool: &PgPool,
    by: &SessionUser,
    company_id: i64,
    user_id: i64,
    active: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let was: Option<bool> = sqlx::query_scalar(
        "SELECT active FROM users WHERE id = $1 AND company_id = $2 AND role = 'customer' FOR UPDATE",
    )
    .bind(user_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(was) = was else {
        return Err(AppError::NotFound("User".into()).into());
    };
    if was == active {
        return Ok(());
    }
    sqlx::query("UPDATE users SET active = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(active)
        .execute(&mut *tx)
        .await?;
    let ended = if active {
        0
    } else {
        sessions::destroy_all_for_user(&mut tx, user_id).await?
    };
    audit::record(
        &mut tx,
        Event {
            actor: Actor::user(by.id, by.role),
            on_behalf_company_id: Some(company_id),
            action: if active {
                "user.enabled"
            } else {
                "user.disabled"
            },
            entity_type: "user",
            entity_id: Some(user_id.to_string()),
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

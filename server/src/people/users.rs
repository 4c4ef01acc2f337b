//! Users, password hashing and sign-in with lockout.

use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::{Admin, CompanyScope, Staff};
use crate::people::sessions;
use crate::{Config, Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Utc;
use serde_json::json;
use shared::auth::{CustomerUser, LoginInput, Role, SessionUser};
use shared::{AppError, CompanyId, UserId};
use sqlx::PgPool;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// Failed attempts in a row, for one address from one client, that lock that pair.
pub const MAX_FAILED_LOGINS: i32 = 10;
/// How long a locked pair stays locked.
pub const LOCKOUT_MINUTES: i64 = 30;
/// Failed sign-ins one client (address) may make in an hour, whatever addresses it tries;
/// past it, its sign-ins are refused before any password is checked.
pub const FAILURES_PER_CLIENT: i32 = 100;

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

/// Who may run Argon2 now: a few at once (the cores less one, at least one, so pages keep a
/// core while sign-ins hash), and up to eight times that waiting for them (a morning's
/// sign-ins arriving together); anyone past that is refused at once (503 with `Retry-After`)
/// instead of queueing work the machine cannot do.
struct Argon2Gate {
    hashing: Semaphore,
    admitted: Semaphore,
}

fn argon2_gate() -> &'static Argon2Gate {
    static GATE: OnceLock<Argon2Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hashing = cores.saturating_sub(1).max(1);
        Argon2Gate {
            hashing: Semaphore::new(hashing),
            admitted: Semaphore::new(hashing * 8),
        }
    })
}

/// Runs Argon2 work (a hash or a check) on a blocking thread once the gate lets it, holding
/// no connection and no lock; [`AppError::Busy`] when too many are already waiting.
async fn with_argon2<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let gate = argon2_gate();
    let Ok(_admitted) = gate.admitted.try_acquire() else {
        tracing::warn!("sign-in refused: too many password checks under way");
        return Err(AppError::Busy { seconds: 2 }.into());
    };
    let _hashing = gate
        .hashing
        .acquire()
        .await
        .map_err(|e| Error::Other(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Other(e.to_string()))
}

async fn verify_blocking(password: String, phc: Option<String>) -> Result<bool> {
    with_argon2(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            verify_password(&password, dummy_hash());
            false
        }
    })
    .await
}

/// The outcome of a good sign-in: who, and the new session's cookie token.
#[derive(Debug)]
pub struct SignedIn {
    pub user: SessionUser,
    pub token: String,
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

/// The client a sign-in comes from, as failures are kept per client.
fn client_key(client: Option<&str>) -> &str {
    client.filter(|c| !c.is_empty()).unwrap_or("unknown")
}

/// Minutes from now until `until`, rounded up.
fn minutes_until(until: chrono::DateTime<Utc>) -> i64 {
    ((until - Utc::now()).num_seconds() + 59).max(60) / 60
}

/// Signs a user in. Nothing is held while the password is checked: the lock, the per-client
/// limit and the user are read first (each in its own statement), Argon2 runs behind its
/// gate, and only then is a failure counted or a session opened.
///
/// Failures are counted per address as typed and client: ten in a row lock that pair for 30
/// minutes, so a stranger elsewhere cannot lock the owner out; an unknown address answers
/// exactly as a known one does, lock included. A client with 100 failures in the hour is
/// refused before any check. `previous_token` (the caller's old session, if any) is ended: a
/// sign-in always gets a fresh session id. A user created with a temporary password signs in
/// with it and `new_password` together; without one they are asked for it and no session is
/// opened.
pub async fn login(
    pool: &PgPool,
    config: &Config,
    input: &LoginInput,
    new_password: Option<&str>,
    previous_token: Option<&str>,
    user_agent: Option<&str>,
    client: Option<&str>,
) -> Result<SignedIn> {
    if let Some(old) = previous_token {
        sessions::destroy(pool, old).await?;
    }
    let email = input.email.as_str();
    let client = client_key(client);
    let client_window = format!("sign-in-client:{client}");
    let held = sqlx::query!(
        r#"SELECT (SELECT locked_until FROM sign_in_failures
                   WHERE email = $1 AND client = $2 AND locked_until > now()) AS locked_until,
                  (SELECT used FROM rate_windows WHERE key = $3 AND window_start = date_trunc('hour', now())) AS client_failures,
                  date_trunc('hour', now()) + interval '1 hour' AS "window_end!""#,
        email,
        client,
        client_window
    )
    .fetch_one(pool)
    .await?;
    if let Some(until) = held.locked_until {
        return Err(AppError::LockedOut {
            minutes: minutes_until(until),
        }
        .into());
    }
    if held.client_failures.unwrap_or(0) >= FAILURES_PER_CLIENT {
        tracing::warn!(
            client,
            "sign-in refused: too many failures from this client"
        );
        return Err(AppError::LockedOut {
            minutes: minutes_until(held.window_end),
        }
        .into());
    }
    let row = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.role AS "role: Role", u.password_hash,
                  u.active, u.must_set_password,
                  c.id AS "company_id?: CompanyId", c.code AS "company_code?", c.name AS "company_name?"
           FROM users u LEFT JOIN companies c ON c.id = u.company_id
           WHERE u.email = $1"#,
        email
    )
    .fetch_optional(pool)
    .await?;
    let phc = row.as_ref().and_then(|r| r.password_hash.clone());
    let ok = verify_blocking(input.password.clone(), phc).await?;
    let event = |action: Action, details: serde_json::Value| {
        row.as_ref().map(|r| Event {
            actor: Actor::user(r.id, r.role),
            on_behalf_of: r.company_id,
            action,
            entity: Entity::User,
            entity_id: Some(r.id.to_string()),
            details,
        })
    };
    let Some(user) = row.as_ref().filter(|_| ok) else {
        let mut tx = pool.begin().await?;
        let counted = sqlx::query!(
            r#"INSERT INTO sign_in_failures AS f (email, client, failures, locked_until)
               VALUES ($1, $2, 1, NULL)
               ON CONFLICT (email, client) DO UPDATE SET
                   failures = CASE WHEN f.failures + 1 >= $3 THEN 0 ELSE f.failures + 1 END,
                   locked_until = CASE WHEN f.failures + 1 >= $3
                                       THEN now() + make_interval(mins => $4) END,
                   updated_at = now()
               RETURNING locked_until"#,
            email,
            client,
            MAX_FAILED_LOGINS,
            LOCKOUT_MINUTES as i32
        )
        .fetch_one(&mut *tx)
        .await?;
        crate::people::rate::count(&mut *tx, &client_window).await?;
        let locks = counted.locked_until.is_some();
        let action = if locks {
            Action::UserLockedOut
        } else {
            Action::UserLoginFailed
        };
        if let Some(e) = event(action, json!({ "client": client })) {
            audit::record(&mut tx, e).await?;
        }
        tx.commit().await?;
        return Err(if locks {
            AppError::LockedOut {
                minutes: LOCKOUT_MINUTES,
            }
        } else {
            AppError::invalid("password", BAD_CREDENTIALS)
        }
        .into());
    };
    if !user.active {
        return Err(AppError::invalid(
            "email",
            "This account has been disabled. Contact your administrator.",
        )
        .into());
    }
    let new_hash = if user.must_set_password {
        let new = new_password.unwrap_or("");
        shared::auth::check_new_password(new, &input.password)?;
        let new = new.to_string();
        Some(with_argon2(move || hash_password(&new)).await??)
    } else {
        None
    };
    let mut tx = pool.begin().await?;
    if let Some(hash) = new_hash {
        let set = sqlx::query!(
            "UPDATE users SET password_hash = $2, must_set_password = false, updated_at = now() \
             WHERE id = $1 AND must_set_password",
            user.id as UserId,
            hash
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if set == 1 {
            if let Some(e) = event(Action::UserPasswordSet, json!({})) {
                audit::record(&mut tx, e).await?;
            }
        }
    }
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE email = $1 AND client = $2",
        email,
        client
    )
    .execute(&mut *tx)
    .await?;
    let token = sessions::create(&mut tx, user.id, config, user_agent).await?;
    if let Some(e) = event(Action::UserLogin, json!({ "client": client })) {
        audit::record(&mut tx, e).await?;
    }
    tx.commit().await?;
    let user = sessions::UserRow {
        id: user.id,
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role,
        company_id: user.company_id,
        company_code: user.company_code.clone(),
        company_name: user.company_name.clone(),
    }
    .into_session_user()?;
    Ok(SignedIn { user, token })
}

/// Forgets failed sign-ins a day old that lock nothing.
pub async fn forget_old_failures(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM sign_in_failures WHERE updated_at < now() - interval '1 day' \
         AND (locked_until IS NULL OR locked_until < now())"
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// A user to create.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub company_id: Option<CompanyId>,
    pub password: &'a str,
}

/// Hashes a password off the async threads (Argon2 takes a while on purpose), behind the
/// same gate as sign-in.
pub(crate) async fn hash_password_blocking(password: String) -> Result<String> {
    with_argon2(move || hash_password(&password)).await?
}

/// Hashes a password for a user made by demo data or tests (no gate: not a request).
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
pub async fn company_users(
    pool: &PgPool,
    _staff: &Staff,
    scope: &CompanyScope,
) -> Result<Vec<CustomerUser>> {
    let company = scope.id();
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
    admin: &Admin,
    scope: &CompanyScope,
    user: UserId,
    active: bool,
) -> Result<()> {
    let company = scope.id();
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
        sessions::sign_out_everywhere(&mut tx, user).await?.sessions
    };
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
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

/// A staff user as an admin changes them, locked with every active admin (so two admins
/// changing each other at once cannot leave none).
struct StaffChange {
    role: Role,
    active: bool,
    /// Active admins other than this user.
    other_admins: usize,
}

async fn lock_staff(
    tx: &mut sqlx::PgConnection,
    admin: &Admin,
    user: UserId,
) -> Result<StaffChange> {
    if admin.id() == user {
        return Err(AppError::invalid(
            "user",
            "You cannot change your own account here. Ask another admin.",
        )
        .into());
    }
    let admins = sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE role = 'admin' AND active ORDER BY id FOR UPDATE"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let row = sqlx::query!(
        r#"SELECT role AS "role: Role", active FROM users
           WHERE id = $1 AND role IN ('admin', 'clerk') FOR UPDATE"#,
        user as UserId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("User".into()))?;
    Ok(StaffChange {
        role: row.role,
        active: row.active,
        other_admins: admins.iter().filter(|a| **a != user).count(),
    })
}

/// The refusal that keeps at least one admin.
fn last_admin() -> Error {
    AppError::invalid(
        "user",
        "This is the last active admin. Make another staff user an admin first.",
    )
    .into()
}

/// Disables or re-enables a staff user (admins only; not themselves, never the last active
/// admin). Disabling ends their sessions at once and spends their open invitation and reset
/// links.
pub async fn set_staff_active(
    pool: &PgPool,
    admin: &Admin,
    user: UserId,
    active: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let was = lock_staff(&mut tx, admin, user).await?;
    if was.active == active {
        return Ok(());
    }
    if !active && was.role == Role::Admin && was.other_admins == 0 {
        return Err(last_admin());
    }
    sqlx::query!(
        "UPDATE users SET active = $2, updated_at = now() WHERE id = $1",
        user as UserId,
        active
    )
    .execute(&mut *tx)
    .await?;
    let ended = if active {
        sessions::SignedOut::default()
    } else {
        sessions::sign_out_everywhere(&mut tx, user).await?
    };
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: None,
            action: if active {
                Action::UserEnabled
            } else {
                Action::UserDisabled
            },
            entity: Entity::User,
            entity_id: Some(user.to_string()),
            details: json!({ "sessions_ended": ended.sessions, "links_spent": ended.links }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a staff user a clerk or an admin (admins only; not themselves, never the last active
/// admin). Their sessions carry the new role from their next request.
pub async fn set_staff_role(pool: &PgPool, admin: &Admin, user: UserId, role: Role) -> Result<()> {
    if !role.is_staff() {
        return Err(AppError::invalid("role", "Choose clerk or admin.").into());
    }
    let mut tx = pool.begin().await?;
    let was = lock_staff(&mut tx, admin, user).await?;
    if was.role == role {
        return Ok(());
    }
    if was.role == Role::Admin && was.active && was.other_admins == 0 {
        return Err(last_admin());
    }
    sqlx::query!(
        "UPDATE users SET role = $2, updated_at = now() WHERE id = $1",
        user as UserId,
        role as Role
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: None,
            action: Action::UserRoleChanged,
            entity: Entity::User,
            entity_id: Some(user.to_string()),
            details: json!({ "from": was.role, "to": role }),
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

//! Invitations and password resets by emailed link. A link is single use, expires (an
//! invitation in 72 hours, a reset in 1 hour), and only its hash is stored (see [`links`]).
//! A reset request answers the same whether the address has an account or not, and is rate
//! limited per address and per client address.

use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::{Admin, CompanyScope};
use crate::email::mail::{self, LinkRef, Mail};
use crate::email::{self, NewEmail};
use crate::links::{self, Purpose};
use crate::people::sessions;
use crate::people::users::SignedIn;
use crate::{Config, Result};
use serde_json::json;
use shared::auth::{CustomerUser, Email, Role, StaffUser};
use shared::email::LinkedAccount;
use shared::{AppError, CompanyId, UserId};
use sqlx::{PgConnection, PgPool};

/// How long an invitation can be accepted.
pub const INVITATION_HOURS: i32 = 72;
/// How long a reset link works.
pub const RESET_HOURS: i32 = 1;
/// Reset requests per email address per hour.
pub const RESETS_PER_ADDRESS: i32 = 10;
/// Reset emails per email address per hour asked for from one client: a stranger asking for
/// an address's resets spends their own share, not the owner's.
pub const RESETS_PER_ADDRESS_AND_CLIENT: i32 = 3;
/// Reset requests per client (IP) address per hour.
pub const RESETS_PER_CLIENT: i32 = 20;

/// A name as typed: inner spaces folded, 1–100 characters.
fn person_name(raw: &str) -> Result<String> {
    let name = shared::format::one_line(raw);
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter the person's name.").into());
    }
    if name.chars().count() > 100 {
        return Err(
            AppError::invalid("name", "The name is too long (100 characters at most).").into(),
        );
    }
    Ok(name)
}

/// An invitation or reset link to write and email.
struct LinkMail<'a> {
    /// Who invited them and as what; `None` for a password reset.
    invited: Option<Invited>,
    user: UserId,
    /// Who asked for it (the inviting admin; `None` for a reset the user asked for).
    by: Option<UserId>,
    email: &'a str,
    name: &'a str,
    company: Option<CompanyId>,
}

/// What an invitation says besides its link.
struct Invited {
    by: String,
    company_name: Option<String>,
    role_label: &'static str,
}

/// Writes a link row and its email, in the caller's transaction.
async fn send_link(tx: &mut PgConnection, config: &Config, mail: LinkMail<'_>) -> Result<()> {
    let LinkMail {
        invited,
        user,
        by,
        email,
        name,
        company,
    } = mail;
    let purpose = match invited {
        Some(_) => Purpose::Invitation,
        None => Purpose::PasswordReset,
    };
    let hours = match purpose {
        Purpose::Invitation => INVITATION_HOURS,
        _ => RESET_HOURS,
    };
    let (nonce, hash) = links::new_link(tx, config, purpose).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO user_tokens (user_id, purpose, nonce, token_hash, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6)) RETURNING id",
        user as UserId,
        purpose.as_str(),
        nonce,
        hash,
        by as Option<UserId>,
        hours
    )
    .fetch_one(&mut *tx)
    .await?;
    let link = LinkRef { purpose, id };
    let mail = match invited {
        Some(i) => Mail::Invitation(mail::Invitation {
            link,
            email: email.to_string(),
            invited_by: i.by,
            company_name: i.company_name,
            role_label: i.role_label.to_string(),
        }),
        None => Mail::PasswordReset(mail::Reset {
            link,
            email: email.to_string(),
        }),
    };
    email::enqueue(
        tx,
        NewEmail {
            mail,
            recipient: email,
            recipient_name: Some(name),
            dedupe_key: format!("{}:{id}", purpose.as_str()),
            company,
        },
    )
    .await
}

/// Invites a user by email (admins only): a customer user of `company`, or staff (clerk or
/// admin) when `company` is `None`. The user has no password until they accept. Inviting
/// someone again who never accepted sends a fresh link and spends the earlier ones.
pub async fn invite(
    pool: &PgPool,
    config: &Config,
    admin: &Admin,
    company: Option<&CompanyScope>,
    role: Role,
    name: &str,
    email: &str,
) -> Result<CustomerUser> {
    let company = company.map(CompanyScope::id);
    let name = person_name(name)?;
    let email = Email::parse(email)?;
    let role = match (company, role) {
        (Some(_), _) => Role::Customer,
        (None, Role::Customer) => {
            return Err(AppError::invalid("role", "Choose clerk or admin.").into())
        }
        (None, r) => r,
    };
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO users (email, name, role, company_id, password_hash, must_set_password)
           VALUES ($1, $2, $3, $4, NULL, true) ON CONFLICT (email) DO NOTHING
           RETURNING id AS "id: UserId""#,
        email.as_str(),
        name,
        role as Role,
        company as Option<CompanyId>
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id = match id {
        Some(id) => id,
        // Invited before and never accepted (the link expired or was lost): invited again,
        // the earlier links spent. Anyone else with this address is refused.
        None => {
            let pending = sqlx::query_scalar!(
                r#"SELECT id AS "id: UserId" FROM users
                   WHERE email = $1 AND role = $2 AND company_id IS NOT DISTINCT FROM $3
                     AND password_hash IS NULL AND must_set_password AND active
                   FOR UPDATE"#,
                email.as_str(),
                role as Role,
                company as Option<CompanyId>
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = pending else {
                return Err(
                    AppError::invalid("email", "A user with this email already exists.").into(),
                );
            };
            sqlx::query!(
                "UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND purpose = 'invitation' AND used_at IS NULL",
                id as UserId
            )
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    let company_name = match company {
        Some(c) => Some(
            sqlx::query_scalar!("SELECT name FROM companies WHERE id = $1", c as CompanyId)
                .fetch_one(&mut *tx)
                .await?,
        ),
        None => None,
    };
    let role_label = match role {
        Role::Admin => "an admin",
        Role::Clerk => "a clerk",
        Role::Customer => "a customer user",
    };
    send_link(
        &mut tx,
        config,
        LinkMail {
            invited: Some(Invited {
                by: admin.staff().name().to_string(),
                company_name: company_name.clone(),
                role_label,
            }),
            user: id,
            by: Some(admin.id()),
            email: email.as_str(),
            name: &name,
            company,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: company,
            action: Action::UserInvited,
            entity: Entity::User,
            entity_id: Some(id.to_string()),
            details: json!({ "email": email.as_str(), "name": name, "role": role_label }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CustomerUser {
        id,
        name,
        email: email.as_str().to_string(),
        active: true,
        must_set_password: true,
        last_sign_in: None,
    })
}

/// Staff users (admins and clerks), active first, by name. Admins only.
pub async fn staff_users(pool: &PgPool, _admin: &Admin) -> Result<Vec<StaffUser>> {
    Ok(sqlx::query_as!(
        StaffUser,
        r#"SELECT u.id AS "id: UserId", u.name, u.email, u.role AS "role: Role", u.active,
                  u.must_set_password,
                  (SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) AS last_sign_in,
                  u.may_refund
           FROM users u WHERE u.role IN ('admin', 'clerk')
           ORDER BY u.active DESC, lower(u.name), u.id"#
    )
    .fetch_all(pool)
    .await?)
}

/// Asks for a reset link: emailed when `email` is an active user's. The answer is the same
/// (`Ok`) whatever the address and however often it is asked: the limits per address and per
/// client only decide whether an email goes out, so no one learns whether an account exists
/// and no one can spend an owner's resets to keep them from theirs (a link is spent only by
/// using it, and a newer one does not spend an older).
pub async fn request_reset(
    pool: &PgPool,
    config: &Config,
    email: &str,
    client: Option<&str>,
) -> Result<()> {
    let email = Email::parse(email)?;
    let client = client.unwrap_or("unknown");
    let limits = [
        (
            format!("reset:{}:{client}", email.as_str()),
            RESETS_PER_ADDRESS_AND_CLIENT,
        ),
        (format!("reset:{}", email.as_str()), RESETS_PER_ADDRESS),
        (format!("reset-client:{client}"), RESETS_PER_CLIENT),
    ];
    let mut within = true;
    for (key, limit) in &limits {
        within = within && crate::people::rate::count(pool, key).await? <= *limit;
    }
    if !within {
        tracing::info!(
            client,
            "reset requested past its hourly limit: no email sent"
        );
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let user = sqlx::query!(
        r#"SELECT id AS "id: UserId", name, role AS "role: Role", company_id AS "company: CompanyId"
           FROM users WHERE email = $1 AND active FOR UPDATE"#,
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(u) = user {
        send_link(
            &mut tx,
            config,
            LinkMail {
                invited: None,
                user: u.id,
                by: None,
                email: email.as_str(),
                name: &u.name,
                company: u.company,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            Event {
                actor: Actor::user(u.id, u.role),
                on_behalf_of: u.company,
                action: Action::PasswordResetRequested,
                entity: Entity::User,
                entity_id: Some(u.id.to_string()),
                details: json!({ "client": client }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The refusal for a link that does not work (any reason: unknown, used, expired, disabled).
fn dead_link(purpose: Purpose) -> AppError {
    AppError::invalid(
        "token",
        match purpose {
            Purpose::Invitation => "This invitation link has expired or was already used. Ask your administrator to invite you again.",
            _ => "This reset link has expired or was already used. Ask for a new one.",
        },
    )
}

/// Who a live invitation or reset link is for (to greet them on its page).
pub async fn linked_account(pool: &PgPool, purpose: Purpose, token: &str) -> Result<LinkedAccount> {
    if !links::looks_like_token(token) {
        return Err(dead_link(purpose).into());
    }
    let row = sqlx::query!(
        r#"SELECT u.name, u.email FROM user_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
             AND u.active"#,
        links::hash(token),
        purpose.as_str()
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| dead_link(purpose))?;
    Ok(LinkedAccount {
        name: row.name,
        email: row.email,
        invitation: purpose == Purpose::Invitation,
    })
}

/// Uses an invitation or reset link: sets the password, spends the link and every other open
/// link of the user (of either kind), ends the user's other sessions, clears their failed
/// sign-ins, and signs in. The token is looked up before the password is hashed: a dead link
/// costs no Argon2.
pub async fn use_link(
    pool: &PgPool,
    config: &Config,
    purpose: Purpose,
    token: &str,
    password: &str,
    confirm: &str,
    user_agent: Option<&str>,
) -> Result<SignedIn> {
    if !links::looks_like_token(token) {
        return Err(dead_link(purpose).into());
    }
    shared::email::check_chosen_password(password, confirm)?;
    linked_account(pool, purpose, token).await?;
    let hash = crate::people::users::hash_password_blocking(password.to_string()).await?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT t.id, t.user_id AS "user_id: UserId", u.email FROM user_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
             AND u.active
           FOR UPDATE OF t, u"#,
        links::hash(token),
        purpose.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| dead_link(purpose))?;
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_set_password = false, failed_logins = 0, \
             locked_until = NULL, updated_at = now() WHERE id = $1",
        row.user_id as UserId,
        hash
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM sign_in_failures WHERE email = $1", row.email)
        .execute(&mut *tx)
        .await?;
    sessions::sign_out_everywhere(&mut tx, row.user_id).await?;
    let user = sessions::user_row(&mut tx, row.user_id)
        .await?
        .into_session_user()?;
    audit::record(
        &mut tx,
        Event {
            actor: Actor::user(user.id, user.role),
            on_behalf_of: user.company.as_ref().map(|c| c.id),
            action: Action::UserPasswordSet,
            entity: Entity::User,
            entity_id: Some(user.id.to_string()),
            details: json!({ "through": purpose.as_str(), "link": row.id }),
        },
    )
    .await?;
    let token = sessions::create(&mut tx, user.id, config, user_agent).await?;
    tx.commit().await?;
    Ok(SignedIn { user, token })
}

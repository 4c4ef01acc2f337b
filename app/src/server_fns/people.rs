//! Server functions of people: signing in and out, the demo sign-ins, customer users (a
//! company's Users tab) and staff users (System → Staff Users), invitations, and the
//! invitation and password-reset links.

use crate::codec::Form;
use crate::error::ApiError;
use leptos::prelude::*;
use shared::auth::{CustomerUser, DemoAccount, SessionUser, StaffUser};
use shared::email::LinkedAccount;
use shared::UserId;

#[cfg(feature = "ssr")]
use {
    crate::request::{admin, by_link, principal, state},
    server::links::Purpose,
    server::people::{invitations, users},
    shared::auth::Role,
};

/// The signed-in user, or `None`.
#[server(endpoint = "current_user", input = Form)]
pub async fn current_user() -> Result<Option<SessionUser>, ApiError> {
    Ok(crate::request::session_user())
}

/// The demo sign-ins, listed on the login page in demo mode only.
#[server(endpoint = "demo_accounts", input = Form)]
pub async fn demo_accounts() -> Result<Vec<DemoAccount>, ApiError> {
    let st = state()?;
    Ok(if st.config.demo {
        server::demo::accounts()
    } else {
        Vec::new()
    })
}

/// Signs in and sends the user to `next` (when it belongs to their area) or their home.
#[server(endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    new_password: Option<String>,
    next: Option<String>,
) -> Result<(), ApiError> {
    let st = state()?;
    let input = shared::auth::LoginInput::parse(&email, &password)?;
    let previous = crate::request::session_token();
    let user_agent = crate::request::header("user-agent");
    let client = crate::request::client_address();
    let signed_in = users::login(
        &st.pool,
        &st.config,
        &input,
        new_password.as_deref().filter(|p| !p.is_empty()),
        previous.as_deref(),
        user_agent.as_deref(),
        client.as_deref(),
    )
    .await?;
    crate::request::set_session_cookie(&signed_in.token, &st.config);
    let home = signed_in.user.role.home();
    let target = next
        .and_then(|n| crate::request::safe_next(&n, signed_in.user.role, &st.config))
        .unwrap_or_else(|| home.to_string());
    leptos_axum::redirect(&target);
    Ok(())
}

/// Ends the session and returns to the login page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ApiError> {
    let st = state()?;
    if let Some(token) = crate::request::session_token() {
        server::people::sessions::destroy(&st.pool, &token).await?;
    }
    crate::request::clear_session_cookie();
    leptos_axum::redirect("/login");
    Ok(())
}

// ---- Customer users (a company's Users tab) ----

/// A company's customer users. Staff only.
#[server(endpoint = "company_users", input = Form)]
pub async fn company_users(code: String) -> Result<Vec<CustomerUser>, ApiError> {
    let (st, who) = (state()?, principal()?);
    let staff = who.staff()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(users::company_users(&st.pool, &staff, &scope).await?)
}

/// Invites a customer user by email; they choose their password from the link (admins only).
#[server(endpoint = "create_customer_user", input = Form)]
pub async fn create_customer_user(
    code: String,
    name: String,
    email: String,
) -> Result<CustomerUser, ApiError> {
    let (st, who) = (state()?, principal()?);
    let admin = who.admin()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(invitations::invite(
        &st.pool,
        &st.config,
        &admin,
        Some(&scope),
        Role::Customer,
        &name,
        &email,
    )
    .await?)
}

/// Enables or disables a customer user; disabling ends their sessions (admins only).
#[server(endpoint = "set_customer_user_active", input = Form)]
pub async fn set_customer_user_active(
    code: String,
    user_id: UserId,
    active: bool,
) -> Result<(), ApiError> {
    let (st, who) = (state()?, principal()?);
    let admin = who.admin()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(users::set_customer_active(&st.pool, &admin, &scope, user_id, active).await?)
}

// ---- Staff users (admins) ----

/// Every staff user.
#[server(endpoint = "staff_users", input = Form)]
pub async fn staff_users() -> Result<Vec<StaffUser>, ApiError> {
    let admin = admin()?;
    Ok(invitations::staff_users(&state()?.pool, &admin).await?)
}

/// A staff role as the form names it.
#[cfg(feature = "ssr")]
fn staff_role(role: &str) -> Result<Role, ApiError> {
    match role {
        "clerk" => Ok(Role::Clerk),
        "admin" => Ok(Role::Admin),
        _ => Err(shared::AppError::invalid("role", "Choose clerk or admin.").into()),
    }
}

/// Invites a clerk or an admin by email.
#[server(endpoint = "invite_staff_user", input = Form)]
pub async fn invite_staff_user(
    name: String,
    email: String,
    role: String,
) -> Result<CustomerUser, ApiError> {
    let (st, admin) = (state()?, admin()?);
    let role = staff_role(&role)?;
    Ok(invitations::invite(&st.pool, &st.config, &admin, None, role, &name, &email).await?)
}

/// Disables or re-enables a staff user (not oneself, never the last admin); disabling signs
/// them out everywhere and spends their open links.
#[server(endpoint = "set_staff_user_active", input = Form)]
pub async fn set_staff_user_active(user: UserId, active: bool) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(users::set_staff_active(&st.pool, &admin, user, active).await?)
}

/// Makes a staff user a clerk or an admin (not oneself, never the last admin).
#[server(endpoint = "set_staff_user_role", input = Form)]
pub async fn set_staff_user_role(user: UserId, role: String) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    let role = staff_role(&role)?;
    Ok(users::set_staff_role(&st.pool, &admin, user, role).await?)
}

// ---- Invitation and reset links (no session) ----

#[cfg(feature = "ssr")]
fn account_purpose(invitation: bool) -> Purpose {
    if invitation {
        Purpose::Invitation
    } else {
        Purpose::PasswordReset
    }
}

/// Emails a reset link when the address has an account; the same answer when it has not.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), ApiError> {
    let st = state()?;
    let client = crate::request::client_address();
    Ok(invitations::request_reset(&st.pool, &st.config, &email, client.as_deref()).await?)
}

/// Whom an invitation (`invitation = true`) or reset link is for, while it works.
#[server(endpoint = "account_link", input = Form)]
pub async fn account_link(invitation: bool, token: String) -> Result<LinkedAccount, ApiError> {
    let purpose = account_purpose(invitation);
    Ok(by_link(invitations::linked_account(&state()?.pool, purpose, &token)).await?)
}

/// Sets the password from an invitation or reset link and signs in (then goes home).
#[server(endpoint = "use_account_link")]
pub async fn use_account_link(
    invitation: bool,
    token: String,
    password: String,
    confirm: String,
) -> Result<(), ApiError> {
    let st = state()?;
    let user_agent = crate::request::header("user-agent");
    let signed_in = by_link(invitations::use_link(
        &st.pool,
        &st.config,
        account_purpose(invitation),
        &token,
        &password,
        &confirm,
        user_agent.as_deref(),
    ))
    .await?;
    crate::request::set_session_cookie(&signed_in.token, &st.config);
    leptos_axum::redirect(signed_in.user.role.home());
    Ok(())
}

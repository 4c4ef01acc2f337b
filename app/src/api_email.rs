//! Server functions of reaching people: the outbox (System → Email, staff), staff
//! invitations (admins), invitation and reset links and pay links (anyone holding the link),
//! receipts by signed link. Thin, as in `api.rs`. The functions a link opens act only through
//! the link: they never read a session, and a link acts for its own company and invoices.

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::auth::{CustomerUser, StaffUser};
use shared::email::{LinkedAccount, MailContact, Outbox, PayLinkSummary, PayLinkView};
use shared::method::{MethodOption, NewBankAccountInput, NewCardInput};
use shared::payment::{PaymentInput, PaymentOutcome, Receipt};
use shared::{InvoiceId, UserId};

#[cfg(feature = "ssr")]
use {
    crate::request::{acting, state},
    server::links::Purpose,
};

// ---- System → Email (staff) ----

/// The outbox, newest first, filtered by status (`pending`, `sent`, `failed` or all) and by
/// recipient or subject.
#[server(endpoint = "email_outbox", input = Form)]
pub async fn email_outbox(status: String, q: String) -> Result<Outbox, ApiError> {
    acting()?.staff()?;
    let status = match status.as_str() {
        "" => None,
        s => Some(shared::email::EmailStatus::parse(s).ok_or_else(|| {
            shared::AppError::invalid("status", "Choose pending, sent or failed.")
        })?),
    };
    Ok(server::email::outbox(&state()?.pool, status, &q).await?)
}

/// Sends a message again now.
#[server(endpoint = "resend_email", input = Form)]
pub async fn resend_email(id: i64) -> Result<(), ApiError> {
    let acting = acting()?;
    acting.staff()?;
    Ok(server::email::resend(&state()?.pool, acting.actor(), id).await?)
}

// ---- Staff users (admins) ----

/// Every staff user.
#[server(endpoint = "staff_users", input = Form)]
pub async fn staff_users() -> Result<Vec<StaffUser>, ApiError> {
    let acting = acting()?;
    Ok(server::invitations::staff_users(&state()?.pool, &acting).await?)
}

/// Invites a clerk or an admin by email.
#[server(endpoint = "invite_staff_user", input = Form)]
pub async fn invite_staff_user(
    name: String,
    email: String,
    role: String,
) -> Result<CustomerUser, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let role = match role.as_str() {
        "clerk" => shared::auth::Role::Clerk,
        "admin" => shared::auth::Role::Admin,
        _ => return Err(shared::AppError::invalid("role", "Choose clerk or admin.").into()),
    };
    Ok(
        server::invitations::invite(&st.pool, &st.config, &acting, None, role, &name, &email)
            .await?,
    )
}

/// Disables or re-enables a staff user (not oneself, never the last admin); disabling signs
/// them out everywhere and spends their open links.
#[server(endpoint = "set_staff_user_active", input = Form)]
pub async fn set_staff_user_active(user: UserId, active: bool) -> Result<(), ApiError> {
    let (st, acting) = (state()?, acting()?);
    Ok(server::users::set_staff_active(&st.pool, &acting, user, active).await?)
}

/// Makes a staff user a clerk or an admin (not oneself, never the last admin).
#[server(endpoint = "set_staff_user_role", input = Form)]
pub async fn set_staff_user_role(user: UserId, role: String) -> Result<(), ApiError> {
    let (st, acting) = (state()?, acting()?);
    let role = match role.as_str() {
        "clerk" => shared::auth::Role::Clerk,
        "admin" => shared::auth::Role::Admin,
        _ => return Err(shared::AppError::invalid("role", "Choose clerk or admin.").into()),
    };
    Ok(server::users::set_staff_role(&st.pool, &acting, user, role).await?)
}

// ---- Invitation and reset links (no session) ----

/// Runs what a link opens for the requesting client: refused at once after too many links
/// that opened nothing from it this hour; a link that opens nothing (unknown, malformed)
/// counts against it.
#[cfg(feature = "ssr")]
async fn by_link<T>(
    work: impl std::future::Future<Output = server::Result<T>>,
) -> Result<T, ApiError> {
    let st = state()?;
    let client = crate::request::client_address();
    server::links::client_may_try(&st.pool, client.as_deref()).await?;
    match work.await {
        Ok(v) => Ok(v),
        Err(e) => {
            let e = e.into_app();
            let dead =
                matches!(e, shared::AppError::NotFound(_)) || e.message_for("token").is_some();
            if dead {
                server::links::count_dead_link(&st.pool, client.as_deref()).await?;
            }
            Err(e.into())
        }
    }
}

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
    Ok(server::invitations::request_reset(&st.pool, &st.config, &email, client.as_deref()).await?)
}

/// Whom an invitation (`invitation = true`) or reset link is for, while it works.
#[server(endpoint = "account_link", input = Form)]
pub async fn account_link(invitation: bool, token: String) -> Result<LinkedAccount, ApiError> {
    let purpose = account_purpose(invitation);
    by_link(server::invitations::linked_account(
        &state()?.pool,
        purpose,
        &token,
    ))
    .await
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
    let signed_in = by_link(server::invitations::use_link(
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

// ---- Pay links: staff side ----

/// The company's contacts a pay link can go to.
#[server(endpoint = "pay_link_contacts", input = Form)]
pub async fn pay_link_contacts(code: String) -> Result<Vec<MailContact>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.staff()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::pay_links::contacts(&st.pool, company).await?)
}

/// Emails a pay link for `invoices` to the contact.
#[server(endpoint = "send_pay_link", input = Json)]
pub async fn send_pay_link(
    code: String,
    contact: i64,
    invoices: Vec<InvoiceId>,
) -> Result<PayLinkSummary, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.staff()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::pay_links::send(&st.pool, &st.config, &acting, company, contact, &invoices).await?)
}

/// The company's pay links, newest first.
#[server(endpoint = "pay_links", input = Form)]
pub async fn pay_links(code: String) -> Result<Vec<PayLinkSummary>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.staff()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::pay_links::list(&st.pool, company, None).await?)
}

/// Withdraws a pay link not paid yet.
#[server(endpoint = "revoke_pay_link", input = Form)]
pub async fn revoke_pay_link(code: String, id: i64) -> Result<(), ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::pay_links::revoke(&st.pool, &acting, company, id).await?)
}

// ---- Pay links: the payer's side (the link is the only authority) ----

/// The link's page: seller, company, invoices at their balances now, status.
#[server(endpoint = "pay_link", input = Form)]
pub async fn pay_link(token: String) -> Result<PayLinkView, ApiError> {
    let st = state()?;
    by_link(server::pay_links::view(
        &st.pool,
        &st.config,
        &token,
        server::companies::today(),
    ))
    .await
}

/// The methods the link offers: those saved through it, and the company's default (by its
/// label only).
#[server(endpoint = "pay_link_methods", input = Form)]
pub async fn pay_link_methods(token: String) -> Result<Vec<MethodOption>, ApiError> {
    let st = state()?;
    let (acting, company, _) = by_link(server::pay_links::acting(&st.pool, &token)).await?;
    let link = acting.pay_link.unwrap_or_default();
    Ok(server::methods::offered_through_link(&st.pool, company, link).await?)
}

/// Saves a card through the link.
#[server(endpoint = "pay_link_add_card", input = Json)]
pub async fn pay_link_add_card(
    token: String,
    card: NewCardInput,
) -> Result<MethodOption, ApiError> {
    let st = state()?;
    let (acting, company, _) = by_link(server::pay_links::acting(&st.pool, &token)).await?;
    crate::api::add_card_as(&st, &acting, company, &card).await
}

/// Saves a bank account through the link, with the debit authorization given on the page.
#[server(endpoint = "pay_link_add_bank_account", input = Json)]
pub async fn pay_link_add_bank_account(
    token: String,
    account: NewBankAccountInput,
) -> Result<MethodOption, ApiError> {
    let st = state()?;
    let (acting, company, _) = by_link(server::pay_links::acting(&st.pool, &token)).await?;
    let account = NewBankAccountInput {
        company: link_company(&acting),
        ..account
    };
    crate::api::add_bank_account_as(&st, &acting, company, &account).await
}

/// Pays through the link: the customer's own consent, "paid through a link sent by …".
#[server(endpoint = "pay_link_pay", input = Json)]
pub async fn pay_link_pay(
    token: String,
    payment: PaymentInput,
) -> Result<PaymentOutcome, ApiError> {
    let st = state()?;
    let (acting, company, sent_by) = by_link(server::pay_links::acting(&st.pool, &token)).await?;
    let payment = PaymentInput {
        company: link_company(&acting),
        ..payment
    };
    let consent = shared::payment::Consent::pay_link(&acting.user.email, &sent_by);
    crate::api::pay_as(&st, &acting, company, &payment, consent).await
}

/// The Company ID of a link's company: what the link's forms stand for, whatever they sent.
#[cfg(feature = "ssr")]
fn link_company(acting: &server::acting::Acting) -> String {
    acting
        .user
        .company
        .as_ref()
        .map(|c| c.code.to_string())
        .unwrap_or_default()
}

// ---- Receipts by emailed link ----

/// A payment's receipt, for whoever holds its signed link.
#[server(endpoint = "receipt_by_link", input = Form)]
pub async fn receipt_by_link(token: String) -> Result<Receipt, ApiError> {
    let st = state()?;
    by_link(server::payments::receipt_by_link(
        &st.pool, &st.config, &token,
    ))
    .await
}

//! Server functions: thin. Each reads the session, checks the role, parses its input into
//! `shared` types, calls one `server` function and maps the error.

use crate::error::ApiError;
use leptos::prelude::*;
use server_fn::codec::Json;
use shared::auth::{DemoAccount, SessionUser};
use shared::company::{CompanyDetail, CompanySummary};
use shared::invoice::OpenInvoice;
use shared::method::{MethodDetail, MethodQuery, MethodSummary, NewBankAccountInput, NewCardInput};
use shared::page::Page;
use shared::payment::{MethodOption, PaymentInput, PaymentOutcome, Receipt};

#[cfg(feature = "ssr")]
use {
    crate::web::{require_customer, require_staff, state},
    shared::company::{CompanyCode, CompanySearch},
};

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<SessionUser>, ApiError> {
    Ok(crate::web::session_user())
}

/// The demo sign-ins, listed on the login page in demo mode only.
#[server(endpoint = "demo_accounts")]
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
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), ApiError> {
    let st = state()?;
    let input = shared::auth::LoginInput::parse(&email, &password)?;
    let previous = crate::web::session_token();
    let user_agent = crate::web::header("user-agent");
    let signed_in = server::users::login(
        &st.pool,
        &st.config,
        &input,
        previous.as_deref(),
        user_agent.as_deref(),
    )
    .await?;
    crate::web::set_session_cookie(&signed_in.token, &st.config);
    let home = signed_in.user.role.home();
    let target = next
        .filter(|n| crate::web::is_safe_next(n, signed_in.user.role))
        .unwrap_or_else(|| home.to_string());
    leptos_axum::redirect(&target);
    Ok(())
}

/// Ends the session and returns to the login page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ApiError> {
    let st = state()?;
    if let Some(token) = crate::web::session_token() {
        server::sessions::destroy(&st.pool, &token).await?;
    }
    crate::web::clear_session_cookie();
    leptos_axum::redirect("/login");
    Ok(())
}

/// CRM → Companies: one page of companies matching `q` (Company ID or name).
#[server(endpoint = "list_companies")]
pub async fn list_companies(q: String, page: i64) -> Result<Page<CompanySummary>, ApiError> {
    require_staff()?;
    let st = state()?;
    let search = CompanySearch::parse(&q)?;
    Ok(server::companies::search(&st.pool, &search, page, server::companies::today()).await?)
}

/// A company's header figures and contacts, by Company ID.
#[server(endpoint = "get_company")]
pub async fn get_company(code: String) -> Result<CompanyDetail, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::companies::detail(&st.pool, id, server::companies::today()).await?)
}

/// A company's open invoices, by Company ID.
#[server(endpoint = "company_open_invoices")]
pub async fn company_open_invoices(code: String) -> Result<Vec<OpenInvoice>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::companies::open_invoices(&st.pool, id, server::companies::today()).await?)
}

/// The customer's own company: header figures and contacts.
#[server(endpoint = "portal_company")]
pub async fn portal_company() -> Result<CompanyDetail, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::companies::detail(&st.pool, company_id, server::companies::today()).await?)
}

/// The customer's own company's open invoices.
#[server(endpoint = "portal_open_invoices")]
pub async fn portal_open_invoices() -> Result<Vec<OpenInvoice>, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::companies::open_invoices(&st.pool, company_id, server::companies::today()).await?)
}

/// The company's active saved payment methods, default first.
#[server(endpoint = "company_methods")]
pub async fn company_methods(code: String) -> Result<Vec<MethodOption>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::methods::active_methods(&st.pool, id).await?)
}

/// Pays open invoices of a company on the customer's behalf, exactly once per
/// idempotency key.
#[server(endpoint = "pay_invoices", input = Json)]
pub async fn pay_invoices(payment: PaymentInput) -> Result<PaymentOutcome, ApiError> {
    let user = require_staff()?;
    let st = state()?;
    let consent = shared::payment::Consent::parse_staff(
        &payment.consent_channel,
        &payment.consent_reference,
    )?;
    let request =
        shared::payment::PaymentRequest::parse(&payment, consent, shared::money::Currency::USD)?;
    let id = company_id(&st, request.company.as_str()).await?;
    Ok(server::payments::pay(&st.pool, st.gateway.as_ref(), &user, id, &request).await?)
}

/// A company's payments, newest first, each with its receipt.
#[server(endpoint = "company_payments")]
pub async fn company_payments(code: String) -> Result<Vec<Receipt>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::payments::history(&st.pool, id).await?)
}

/// Saves a card for a company from the gateway's token (staff, on the customer's behalf).
#[server(endpoint = "add_card", input = Json)]
pub async fn add_card(card: NewCardInput) -> Result<MethodOption, ApiError> {
    let user = require_staff()?;
    let st = state()?;
    let id = company_id(&st, &card.company).await?;
    Ok(server::methods::add_card(
        &st.pool,
        st.gateway.as_ref(),
        &user,
        id,
        &card.token,
        &card.holder_name,
        server::companies::today(),
    )
    .await?)
}

/// Saves an ACH bank account for a company from the gateway's token, with the uploaded
/// debit authorization (staff, on the customer's behalf).
#[server(endpoint = "add_bank_account", input = Json)]
pub async fn add_bank_account(account: NewBankAccountInput) -> Result<MethodOption, ApiError> {
    let user = require_staff()?;
    let st = state()?;
    let id = company_id(&st, &account.company).await?;
    Ok(server::methods::add_bank_account(
        &st.pool,
        st.gateway.as_ref(),
        &user,
        id,
        &account,
        server::companies::today(),
    )
    .await?)
}

/// Every saved method of a company, active and inactive.
#[server(endpoint = "company_payment_methods")]
pub async fn company_payment_methods(code: String) -> Result<Vec<MethodSummary>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::methods::company_methods(&st.pool, id, server::companies::today()).await?)
}

/// System → Payment Methods: one page of every company's saved methods.
#[server(endpoint = "list_payment_methods", input = Json)]
pub async fn list_payment_methods(query: MethodQuery) -> Result<Page<MethodSummary>, ApiError> {
    require_staff()?;
    let st = state()?;
    let search = shared::method::MethodSearch::parse(&query)?;
    Ok(server::methods::search(&st.pool, &search, server::companies::today()).await?)
}

/// A saved method with its authorization document and history.
#[server(endpoint = "payment_method_detail")]
pub async fn payment_method_detail(id: i64) -> Result<MethodDetail, ApiError> {
    require_staff()?;
    let st = state()?;
    Ok(server::methods::detail(&st.pool, id, None, server::companies::today()).await?)
}

/// Activates or deactivates a saved method.
#[server(endpoint = "set_method_active")]
pub async fn set_method_active(id: i64, active: bool) -> Result<(), ApiError> {
    let user = require_staff()?;
    let st = state()?;
    Ok(server::methods::set_active(&st.pool, &user, id, None, active).await?)
}

#[cfg(feature = "ssr")]
async fn company_id(st: &server::AppState, code: &str) -> Result<i64, ApiError> {
    // A malformed Company ID cannot name a company: answer "not found" like an unknown one.
    let code = CompanyCode::parse(code)
        .map_err(|_| ApiError::from(shared::AppError::NotFound("Company".into())))?;
    Ok(server::companies::id_of(&st.pool, &code).await?)
}

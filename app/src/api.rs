//! Server functions: thin. Each reads the session, checks the role, parses its input into
//! `shared` types, calls one `server` function and maps the error.

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::auth::{CreatedUser, CustomerUser, DemoAccount, SessionUser};
use shared::company::{CompanyDetail, CompanySummary};
use shared::invoice::{InvoiceDetail, OpenInvoice};
use shared::method::{
    MethodDetail, MethodQuery, MethodSummary, NewBankAccountInput, NewCardInput,
    PortalBankAccountInput,
};
use shared::page::Page;
use shared::payment::{AwaitingGateway, MethodOption, PaymentInput, PaymentOutcome, Receipt};

#[cfg(feature = "ssr")]
use {
    crate::request::{
        require_admin, require_customer, require_customer_user, require_staff, state,
    },
    shared::company::CompanySearch,
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
    let signed_in = server::users::login(
        &st.pool,
        &st.config,
        &input,
        new_password.as_deref().filter(|p| !p.is_empty()),
        previous.as_deref(),
        user_agent.as_deref(),
    )
    .await?;
    crate::request::set_session_cookie(&signed_in.token, &st.config);
    let home = signed_in.user.role.home();
    let target = next
        .filter(|n| crate::request::is_safe_next(n, signed_in.user.role))
        .unwrap_or_else(|| home.to_string());
    leptos_axum::redirect(&target);
    Ok(())
}

/// Ends the session and returns to the login page.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ApiError> {
    let st = state()?;
    if let Some(token) = crate::request::session_token() {
        server::sessions::destroy(&st.pool, &token).await?;
    }
    crate::request::clear_session_cookie();
    leptos_axum::redirect("/login");
    Ok(())
}

/// CRM → Companies: one page of companies matching `q` (Company ID or name).
#[server(endpoint = "list_companies", input = Form)]
pub async fn list_companies(q: String, page: i64) -> Result<Page<CompanySummary>, ApiError> {
    require_staff()?;
    let st = state()?;
    let search = CompanySearch::parse(&q)?;
    Ok(server::companies::search(&st.pool, &search, page, server::companies::today()).await?)
}

/// A company's header figures and contacts, by Company ID.
#[server(endpoint = "get_company", input = Form)]
pub async fn get_company(code: String) -> Result<CompanyDetail, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::companies::detail(&st.pool, id, server::companies::today()).await?)
}

/// A company's open invoices, by Company ID.
#[server(endpoint = "company_open_invoices", input = Form)]
pub async fn company_open_invoices(code: String) -> Result<Vec<OpenInvoice>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::companies::open_invoices(&st.pool, id, server::companies::today()).await?)
}

/// The customer's own company: header figures and contacts.
#[server(endpoint = "portal_company", input = Form)]
pub async fn portal_company() -> Result<CompanyDetail, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::companies::detail(&st.pool, company_id, server::companies::today()).await?)
}

/// The customer's own company's open invoices.
#[server(endpoint = "portal_open_invoices", input = Form)]
pub async fn portal_open_invoices() -> Result<Vec<OpenInvoice>, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::companies::open_invoices(&st.pool, company_id, server::companies::today()).await?)
}

/// The company's active saved payment methods, default first.
#[server(endpoint = "company_methods", input = Form)]
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
    Ok(server::payments::pay(
        &st.pool,
        st.gateway.as_ref(),
        &st.config,
        &user,
        id,
        &request,
    )
    .await?)
}

/// System → Awaiting gateway: payments whose gateway answer is overdue, oldest first.
#[server(endpoint = "payments_awaiting_gateway", input = Form)]
pub async fn payments_awaiting_gateway() -> Result<Vec<AwaitingGateway>, ApiError> {
    require_staff()?;
    let st = state()?;
    Ok(server::payments::awaiting_gateway(&st.pool).await?)
}

/// A company's payments, newest first, each with its receipt.
#[server(endpoint = "company_payments", input = Form)]
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
#[server(endpoint = "company_payment_methods", input = Form)]
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
#[server(endpoint = "payment_method_detail", input = Form)]
pub async fn payment_method_detail(id: i64) -> Result<MethodDetail, ApiError> {
    require_staff()?;
    let st = state()?;
    Ok(server::methods::detail(&st.pool, id, None, server::companies::today()).await?)
}

/// Activates or deactivates a saved method.
#[server(endpoint = "set_method_active", input = Form)]
pub async fn set_method_active(id: i64, active: bool) -> Result<(), ApiError> {
    let user = require_staff()?;
    let st = state()?;
    Ok(server::methods::set_active(&st.pool, &user, id, None, active).await?)
}

// ---- Customer users (company → Users tab) ----

/// A company's customer users.
#[server(endpoint = "company_users", input = Form)]
pub async fn company_users(code: String) -> Result<Vec<CustomerUser>, ApiError> {
    require_staff()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::users::company_users(&st.pool, id).await?)
}

/// Creates a customer user with a temporary password (admins only).
#[server(endpoint = "create_customer_user", input = Form)]
pub async fn create_customer_user(
    code: String,
    name: String,
    email: String,
) -> Result<CreatedUser, ApiError> {
    let admin = require_admin()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::users::create_customer(&st.pool, &admin, id, &name, &email).await?)
}

/// Enables or disables a customer user; disabling ends their sessions (admins only).
#[server(endpoint = "set_customer_user_active", input = Form)]
pub async fn set_customer_user_active(
    code: String,
    user_id: i64,
    active: bool,
) -> Result<(), ApiError> {
    let admin = require_admin()?;
    let st = state()?;
    let id = company_id(&st, &code).await?;
    Ok(server::users::set_customer_active(&st.pool, &admin, id, user_id, active).await?)
}

// ---- Customer portal: every call is scoped to the signed-in customer's own company ----

/// One of the customer's own invoices, with what was paid on it.
#[server(endpoint = "portal_invoice", input = Form)]
pub async fn portal_invoice(id: i64) -> Result<InvoiceDetail, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(
        server::companies::invoice_detail(&st.pool, id, company_id, server::companies::today())
            .await?,
    )
}

/// The customer's active saved methods, default first (the payment dialog).
#[server(endpoint = "portal_methods", input = Form)]
pub async fn portal_methods() -> Result<Vec<MethodOption>, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::methods::active_methods(&st.pool, company_id).await?)
}

/// Pays the customer's own invoices, exactly once per idempotency key.
#[server(endpoint = "portal_pay", input = Json)]
pub async fn portal_pay(payment: PaymentInput) -> Result<PaymentOutcome, ApiError> {
    let (user, company_id) = require_customer_user()?;
    let st = state()?;
    let consent = shared::payment::Consent::portal(&user.email);
    let request =
        shared::payment::PaymentRequest::parse(&payment, consent, shared::money::Currency::USD)?;
    Ok(server::payments::pay(
        &st.pool,
        st.gateway.as_ref(),
        &st.config,
        &user,
        company_id,
        &request,
    )
    .await?)
}

/// The customer's payments, newest first.
#[server(endpoint = "portal_payments", input = Form)]
pub async fn portal_payments() -> Result<Vec<Receipt>, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::payments::history(&st.pool, company_id).await?)
}

/// One of the customer's payments: its receipt.
#[server(endpoint = "portal_payment", input = Form)]
pub async fn portal_payment(id: i64) -> Result<Receipt, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::payments::receipt(&st.pool, id, company_id).await?)
}

/// My payment methods: every saved method of the customer's company.
#[server(endpoint = "portal_payment_methods", input = Form)]
pub async fn portal_payment_methods() -> Result<Vec<MethodSummary>, ApiError> {
    let company_id = require_customer()?;
    let st = state()?;
    Ok(server::methods::company_methods(&st.pool, company_id, server::companies::today()).await?)
}

/// Activates or deactivates one of the customer's own methods.
#[server(endpoint = "portal_set_method_active", input = Form)]
pub async fn portal_set_method_active(id: i64, active: bool) -> Result<(), ApiError> {
    let (user, company_id) = require_customer_user()?;
    let st = state()?;
    Ok(server::methods::set_active(&st.pool, &user, id, Some(company_id), active).await?)
}

/// Makes one of the customer's own methods the default.
#[server(endpoint = "portal_set_default_method", input = Form)]
pub async fn portal_set_default_method(id: i64) -> Result<(), ApiError> {
    let (user, company_id) = require_customer_user()?;
    let st = state()?;
    Ok(server::methods::set_default(
        &st.pool,
        &user,
        id,
        Some(company_id),
        server::companies::today(),
    )
    .await?)
}

/// Saves a card for the customer's own company from the gateway's token.
#[server(endpoint = "portal_add_card", input = Json)]
pub async fn portal_add_card(card: NewCardInput) -> Result<MethodOption, ApiError> {
    let (user, company_id) = require_customer_user()?;
    let st = state()?;
    Ok(server::methods::add_card(
        &st.pool,
        st.gateway.as_ref(),
        &user,
        company_id,
        &card.token,
        &card.holder_name,
        server::companies::today(),
    )
    .await?)
}

/// Saves an ACH account for the customer's own company, with their in-portal authorization.
#[server(endpoint = "portal_add_bank_account", input = Json)]
pub async fn portal_add_bank_account(
    account: PortalBankAccountInput,
) -> Result<MethodOption, ApiError> {
    let (user, company_id) = require_customer_user()?;
    let st = state()?;
    let ip = crate::request::client_address();
    Ok(server::methods::add_bank_account_portal(
        &st.pool,
        st.gateway.as_ref(),
        &user,
        company_id,
        &account,
        ip.as_deref(),
        server::companies::today(),
    )
    .await?)
}

#[cfg(feature = "ssr")]
async fn company_id(st: &server::AppState, code: &str) -> Result<i64, ApiError> {
    Ok(server::companies::id_of_raw(&st.pool, code).await?)
}

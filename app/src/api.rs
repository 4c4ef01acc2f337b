//! Server functions: thin. Each resolves who acts for which company ([`acting`]), parses its
//! input into `shared` types, calls one `server` function and maps the error. Staff and
//! customers call the same functions: a staff member names the company (its Company ID), a
//! customer acts for their own, whatever they send.

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::auth::{CustomerUser, DemoAccount, SessionUser};
use shared::company::{CompanyDetail, CompanySummary};
use shared::invoice::{InvoiceDetail, InvoicePage, InvoiceQuery};
use shared::method::{
    MethodDetail, MethodOption, MethodQuery, MethodSummary, NewBankAccountInput, NewCardInput,
};
use shared::page::Page;
use shared::payment::{AwaitingGateway, PaymentInput, PaymentOutcome, Receipt};
use shared::{InvoiceId, MethodId, PaymentId, UserId};

#[cfg(feature = "ssr")]
use {
    crate::request::{acting, state},
    server::companies::today,
    shared::company::CompanySearch,
    shared::invoice::InvoiceSearch,
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
    let signed_in = server::users::login(
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
        server::sessions::destroy(&st.pool, &token).await?;
    }
    crate::request::clear_session_cookie();
    leptos_axum::redirect("/login");
    Ok(())
}

// ---- Companies and invoices ----

/// CRM → Companies: one page of companies matching `q` (Company ID or name). Staff only.
#[server(endpoint = "list_companies", input = Form)]
pub async fn list_companies(q: String, page: i64) -> Result<Page<CompanySummary>, ApiError> {
    acting()?.staff()?;
    let st = state()?;
    let search = CompanySearch::parse(&q)?;
    Ok(server::companies::search(&st.pool, &search, page, today()).await?)
}

/// A company's header figures and contacts: staff name it; a customer gets their own.
#[server(endpoint = "get_company", input = Form)]
pub async fn get_company(code: String) -> Result<CompanyDetail, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::companies::detail(&st.pool, company, today()).await?)
}

/// One page of a company's open invoices, searched, filtered by aging and sorted as the URL
/// says, with the count and balance of every matching one.
#[server(endpoint = "open_invoices", input = Form)]
pub async fn open_invoices(
    code: String,
    #[server(default)] query: InvoiceQuery,
) -> Result<InvoicePage, ApiError> {
    matching(code, query, shared::page::PAGE_SIZE).await
}

/// "Select all matching": the first [`shared::payment::PaymentRequest::MAX_LINES`] matching invoices (at most
/// one payment's worth) in the list's order, with the count and balance of all that match.
#[server(endpoint = "matching_invoices", input = Form)]
pub async fn matching_invoices(
    code: String,
    #[server(default)] query: InvoiceQuery,
) -> Result<InvoicePage, ApiError> {
    let mut all = query;
    all.page = 1;
    matching(code, all, shared::payment::PaymentRequest::MAX_LINES as i64).await
}

#[cfg(feature = "ssr")]
async fn matching(
    code: String,
    query: InvoiceQuery,
    per_page: i64,
) -> Result<InvoicePage, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let search = InvoiceSearch::parse(&query)?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::invoices::search(&st.pool, company, &search, per_page, today()).await?)
}

/// One invoice (open or paid) with what was paid on it.
#[server(endpoint = "get_invoice", input = Form)]
pub async fn get_invoice(id: InvoiceId) -> Result<InvoiceDetail, ApiError> {
    let (st, acting) = (state()?, acting()?);
    Ok(server::invoices::detail(&st.pool, &acting, id, today()).await?)
}

// ---- Payments ----

/// The company's active saved methods, default first (the payment dialog).
#[server(endpoint = "payment_options", input = Form)]
pub async fn payment_options(code: String) -> Result<Vec<MethodOption>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::methods::active_methods(&st.pool, company).await?)
}

/// Pays open invoices exactly once per idempotency key: staff on the customer's behalf with
/// the customer's consent, a customer for their own company.
#[server(endpoint = "pay_invoices", input = Json)]
pub async fn pay_invoices(payment: PaymentInput) -> Result<PaymentOutcome, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let consent = if acting.is_staff() {
        shared::payment::Consent::parse_staff(&payment.consent_channel, &payment.consent_reference)?
    } else {
        shared::payment::Consent::portal(&acting.user.email)
    };
    let company = acting.company(&st.pool, &payment.company).await?;
    pay_as(&st, &acting, company, &payment, consent).await
}

/// Parses a payment form with its consent and pays it as `acting` for `company`.
#[cfg(feature = "ssr")]
pub(crate) async fn pay_as(
    st: &server::AppState,
    acting: &server::acting::Acting,
    company: shared::CompanyId,
    payment: &PaymentInput,
    consent: shared::payment::Consent,
) -> Result<PaymentOutcome, ApiError> {
    let currency = payment
        .lines
        .first()
        .map(|l| l.amount.currency())
        .unwrap_or_default();
    let request = shared::payment::PaymentRequest::parse(payment, consent, currency)?;
    Ok(server::payments::pay(
        &st.pool,
        st.gateway.as_ref(),
        &st.config,
        acting,
        company,
        &request,
        today(),
    )
    .await?)
}

/// A company's payments, newest first, each with its receipt.
#[server(endpoint = "payments", input = Form)]
pub async fn payments(code: String) -> Result<Vec<Receipt>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::payments::history(&st.pool, company).await?)
}

/// One payment's receipt.
#[server(endpoint = "payment_receipt", input = Form)]
pub async fn payment_receipt(id: PaymentId) -> Result<Receipt, ApiError> {
    let (st, acting) = (state()?, acting()?);
    Ok(server::payments::receipt(&st.pool, &acting, id).await?)
}

/// System → Awaiting gateway: payments whose gateway answer is overdue. Staff only.
#[server(endpoint = "payments_awaiting_gateway", input = Form)]
pub async fn payments_awaiting_gateway() -> Result<Vec<AwaitingGateway>, ApiError> {
    acting()?.staff()?;
    let st = state()?;
    Ok(server::payments::awaiting_gateway(&st.pool).await?)
}

/// System → Awaiting gateway: pending ACH debits the gateway does not know, past the age at
/// which they are shown to staff. Staff only.
#[server(endpoint = "ach_debits_unknown", input = Form)]
pub async fn ach_debits_unknown() -> Result<Vec<AwaitingGateway>, ApiError> {
    acting()?.staff()?;
    let st = state()?;
    Ok(server::payments::unknown_ach(&st.pool).await?)
}

// ---- Saved payment methods ----

/// Every saved method of a company, active and inactive.
#[server(endpoint = "saved_methods", input = Form)]
pub async fn saved_methods(code: String) -> Result<Vec<MethodSummary>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::methods::company_methods(&st.pool, company, today()).await?)
}

/// Saves a card from the gateway's token.
#[server(endpoint = "add_card", input = Json)]
pub async fn add_card(card: NewCardInput) -> Result<MethodOption, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &card.company).await?;
    add_card_as(&st, &acting, company, &card).await
}

/// Saves a card as `acting` for `company`.
#[cfg(feature = "ssr")]
pub(crate) async fn add_card_as(
    st: &server::AppState,
    acting: &server::acting::Acting,
    company: shared::CompanyId,
    card: &NewCardInput,
) -> Result<MethodOption, ApiError> {
    let parsed = shared::method::NewCard::parse(card)?;
    Ok(server::methods::add_card(
        &st.pool,
        st.gateway.as_ref(),
        acting,
        company,
        &parsed,
        today(),
    )
    .await?)
}

/// Saves an ACH bank account from the gateway's token, with the customer's debit
/// authorization (staff: the uploaded signed document; a customer: agreed in the portal).
#[server(endpoint = "add_bank_account", input = Json)]
pub async fn add_bank_account(account: NewBankAccountInput) -> Result<MethodOption, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let company = acting.company(&st.pool, &account.company).await?;
    add_bank_account_as(&st, &acting, company, &account).await
}

/// Saves a bank account as `acting` for `company`, recording where the request came from.
#[cfg(feature = "ssr")]
pub(crate) async fn add_bank_account_as(
    st: &server::AppState,
    acting: &server::acting::Acting,
    company: shared::CompanyId,
    account: &NewBankAccountInput,
) -> Result<MethodOption, ApiError> {
    let parsed = shared::method::NewBankAccount::parse(account, today())?;
    let address = crate::request::client_address();
    Ok(server::methods::add_bank_account(
        &st.pool,
        st.gateway.as_ref(),
        acting,
        company,
        &parsed,
        address.as_deref(),
        today(),
    )
    .await?)
}

/// System → Payment Methods: one page of every company's saved methods. Staff only.
#[server(endpoint = "list_payment_methods", input = Json)]
pub async fn list_payment_methods(query: MethodQuery) -> Result<Page<MethodSummary>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    let search = shared::method::MethodSearch::parse(&query)?;
    Ok(server::methods::search(&st.pool, &acting, &search, today()).await?)
}

/// A saved method with its authorization document and history.
#[server(endpoint = "payment_method_detail", input = Form)]
pub async fn payment_method_detail(id: MethodId) -> Result<MethodDetail, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.staff()?;
    Ok(server::methods::detail(&st.pool, &acting, id, today()).await?)
}

/// Activates or deactivates a saved method.
#[server(endpoint = "set_method_active", input = Form)]
pub async fn set_method_active(id: MethodId, active: bool) -> Result<(), ApiError> {
    let (st, acting) = (state()?, acting()?);
    Ok(server::methods::set_active(&st.pool, &acting, id, active).await?)
}

/// Makes a method its company's default.
#[server(endpoint = "set_default_method", input = Form)]
pub async fn set_default_method(id: MethodId) -> Result<(), ApiError> {
    let (st, acting) = (state()?, acting()?);
    Ok(server::methods::set_default(&st.pool, &acting, id, today()).await?)
}

// ---- Customer users (company → Users tab) ----

/// A company's customer users. Staff only.
#[server(endpoint = "company_users", input = Form)]
pub async fn company_users(code: String) -> Result<Vec<CustomerUser>, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.staff()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::users::company_users(&st.pool, company).await?)
}

/// Invites a customer user by email; they choose their password from the link (admins only).
#[server(endpoint = "create_customer_user", input = Form)]
pub async fn create_customer_user(
    code: String,
    name: String,
    email: String,
) -> Result<CustomerUser, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.admin()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::invitations::invite(
        &st.pool,
        &st.config,
        &acting,
        Some(company),
        shared::auth::Role::Customer,
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
    let (st, acting) = (state()?, acting()?);
    acting.admin()?;
    let company = acting.company(&st.pool, &code).await?;
    Ok(server::users::set_customer_active(&st.pool, &acting, company, user_id, active).await?)
}

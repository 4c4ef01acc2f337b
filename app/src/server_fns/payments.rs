//! Server functions of payments: paying invoices (staff on a customer's behalf, a customer in
//! the portal, anyone holding a pay link), a company's payments and one receipt, a receipt by
//! its emailed link, and the staff screens across companies (All Payments, Awaiting gateway).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::page::Page;
use shared::payment::{AwaitingGateway, PaymentInput, PaymentOutcome, Receipt};
use shared::report::{PaymentFilterInput, PaymentRow};
use shared::PaymentId;

#[cfg(feature = "ssr")]
use {
    crate::request::{by_link, principal, principal_via, staff, state},
    server::companies::today,
};

/// Pays open invoices exactly once per idempotency key: staff on the customer's behalf with
/// the customer's consent, a customer for their own company, or, with `link` (a pay link's
/// token), whoever holds the link for its own invoices.
#[server(endpoint = "pay_invoices", input = Json)]
pub async fn pay_invoices(
    payment: PaymentInput,
    #[server(default)] link: Option<String>,
) -> Result<PaymentOutcome, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    let consent = who.consent(&payment.consent_channel, &payment.consent_reference)?;
    let scope = who.company(&st.pool, &payment.company).await?;
    let request = shared::payment::PaymentRequest::parse(&payment, consent, st.config.currency)?;
    Ok(server::payments::pay(
        &st.pool,
        st.gateway.as_ref(),
        &st.config,
        &scope,
        &request,
        today(),
    )
    .await?)
}

/// A company's payments, newest first, each with its receipt.
#[server(endpoint = "payments", input = Form)]
pub async fn payments(code: String) -> Result<Vec<Receipt>, ApiError> {
    let st = state()?;
    let scope = principal()?.company(&st.pool, &code).await?;
    Ok(server::payments::history(&st.pool, &scope).await?)
}

/// One payment's receipt.
#[server(endpoint = "payment_receipt", input = Form)]
pub async fn payment_receipt(id: PaymentId) -> Result<Receipt, ApiError> {
    let (st, who) = (state()?, principal()?);
    Ok(server::payments::receipt(&st.pool, &who, id).await?)
}

/// A payment's receipt, for whoever holds its signed link.
#[server(endpoint = "receipt_by_link", input = Form)]
pub async fn receipt_by_link(token: String) -> Result<Receipt, ApiError> {
    let st = state()?;
    Ok(by_link(server::payments::receipt_by_link(
        &st.pool, &st.config, &token,
    ))
    .await?)
}

/// Payments across all companies, filtered and paged (staff).
#[server(endpoint = "all_payments", input = Form)]
pub async fn all_payments(
    #[server(default)] filter: PaymentFilterInput,
) -> Result<Page<PaymentRow>, ApiError> {
    let staff = staff()?;
    let filter = shared::report::PaymentFilter::parse(&filter)?;
    Ok(server::payments::report::list(&state()?.pool, &staff, &filter).await?)
}

/// System → Awaiting gateway: payments whose gateway answer is overdue. Staff only.
#[server(endpoint = "payments_awaiting_gateway", input = Form)]
pub async fn payments_awaiting_gateway() -> Result<Vec<AwaitingGateway>, ApiError> {
    let staff = staff()?;
    Ok(server::payments::awaiting_gateway(&state()?.pool, &staff).await?)
}

/// System → Awaiting gateway: pending ACH debits the gateway does not know, past the age at
/// which they are shown to staff. Staff only.
#[server(endpoint = "ach_debits_unknown", input = Form)]
pub async fn ach_debits_unknown() -> Result<Vec<AwaitingGateway>, ApiError> {
    let staff = staff()?;
    Ok(server::payments::unknown_ach(&state()?.pool, &staff).await?)
}

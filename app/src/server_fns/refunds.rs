//! Server functions of money given back: a refund (or an ERP record's reversal) per invoice
//! line, what the signed-in staff member may give back, the approval queue and its decisions,
//! and the admin's settings (the approval limit, who may refund).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::refund::{RefundAllowance, RefundInput, RefundView, VoidChoice, VoidInput};
use shared::{PaymentId, RefundId, UserId};

#[cfg(feature = "ssr")]
use crate::request::{admin, staff, state};

/// Whether the signed-in staff member may give money back, and the approval limit.
#[server(endpoint = "my_refund_allowance", input = Form)]
pub async fn my_refund_allowance() -> Result<RefundAllowance, ApiError> {
    let staff = staff()?;
    Ok(server::payments::refunds::allowance(&state()?.pool, &staff).await?)
}

/// Gives back what the form asks, once per its key: a refund through the gateway, or the
/// reversal of a payment recorded in the ERP.
#[server(endpoint = "give_back", input = Json)]
pub async fn give_back(refund: RefundInput) -> Result<RefundView, ApiError> {
    let (st, staff) = (state()?, staff()?);
    let request = shared::refund::RefundRequest::parse(&refund, st.config.currency)?;
    Ok(server::payments::refunds::give_back(
        &st.pool,
        st.gateway.as_ref(),
        &st.config,
        &staff,
        &request,
    )
    .await?)
}

/// What may be done now about an ACH debit that has not settled, as its rail allows.
#[server(endpoint = "void_options", input = Form)]
pub async fn void_options(payment_id: PaymentId) -> Result<VoidChoice, ApiError> {
    let (st, staff) = (state()?, staff()?);
    Ok(server::payments::voids::choice(&st.pool, st.gateway.as_ref(), &staff, payment_id).await?)
}

/// Voids an ACH debit before it settles (taken out, or reversed): the sentence saying what
/// was done.
#[server(endpoint = "void_debit", input = Json)]
pub async fn void_debit(void: VoidInput) -> Result<String, ApiError> {
    let (st, staff) = (state()?, staff()?);
    Ok(server::payments::voids::void(&st.pool, st.gateway.as_ref(), &staff, &void).await?)
}

/// Refunds waiting for an admin's approval, oldest first.
#[server(endpoint = "refunds_awaiting_approval", input = Form)]
pub async fn refunds_awaiting_approval() -> Result<Vec<RefundView>, ApiError> {
    let staff = staff()?;
    Ok(server::payments::refunds::awaiting_approval(&state()?.pool, &staff).await?)
}

/// Approves a waiting refund (an admin other than who asked) and carries it out.
#[server(endpoint = "approve_refund", input = Form)]
pub async fn approve_refund(id: RefundId) -> Result<RefundView, ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(
        server::payments::refunds::approve(&st.pool, st.gateway.as_ref(), &st.config, &admin, id)
            .await?,
    )
}

/// Refuses a waiting refund, with the reason the requester sees.
#[server(endpoint = "refuse_refund", input = Form)]
pub async fn refuse_refund(id: RefundId, reason: String) -> Result<RefundView, ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::payments::refunds::refuse(&st.pool, &admin, id, &reason).await?)
}

/// Sets the amount above which a refund waits for a second person.
#[server(endpoint = "set_refund_limit", input = Form)]
pub async fn set_refund_limit(amount: String) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    let currency = st.config.currency;
    let above = if amount.trim().trim_start_matches(currency.symbol()).trim() == "0" {
        shared::money::Money::zero(currency)
    } else {
        shared::payment::parse_amount("amount", &amount, currency)?
    };
    Ok(server::payments::refunds::set_approval_limit(&st.pool, &admin, above).await?)
}

/// Gives a clerk the permission to refund, or takes it away.
#[server(endpoint = "set_may_refund", input = Form)]
pub async fn set_may_refund(user: UserId, may: bool) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::payments::refunds::set_may_refund(&st.pool, &admin, user, may).await?)
}

/// Disputes the gateway reported: the open ones first, with the days left to answer.
#[server(endpoint = "disputes", input = Form)]
pub async fn disputes() -> Result<Vec<shared::refund::DisputeView>, ApiError> {
    let staff = staff()?;
    Ok(server::payments::disputes::list(&state()?.pool, &staff).await?)
}

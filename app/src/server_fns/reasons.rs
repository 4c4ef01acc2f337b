//! Server functions of the reason codes: the active list a form offers (short-pay reasons to
//! whoever pays: staff, a customer, a pay link; refund reasons to staff), and the admins' lists
//! with their changes.

use crate::codec::Json;
use crate::error::ApiError;
use leptos::prelude::*;
use shared::reason::{ReasonCode, ReasonCodeInput, ReasonKind};

#[cfg(feature = "ssr")]
use crate::request::{admin, principal_via, staff, state};

/// The reasons of `kind` a form offers now, in the admins' order ("Other" last). Short-pay
/// reasons for whoever may pay (`link`: a pay link's token); refund reasons for staff.
#[server(endpoint = "offered_reasons", input = Json)]
pub async fn offered_reasons(
    kind: ReasonKind,
    link: Option<String>,
) -> Result<Vec<ReasonCode>, ApiError> {
    match kind {
        ReasonKind::ShortPay => {
            principal_via(link.as_deref()).await?;
        }
        ReasonKind::Refund => {
            staff()?;
        }
    }
    Ok(server::reasons::list(&state()?.pool, kind, true).await?)
}

/// Every reason of `kind`, offered or not (admins).
#[server(endpoint = "kept_reasons", input = Json)]
pub async fn kept_reasons(kind: ReasonKind) -> Result<Vec<ReasonCode>, ApiError> {
    admin()?;
    Ok(server::reasons::list(&state()?.pool, kind, false).await?)
}

/// Adds a reason to the list of `kind` (admins).
#[server(endpoint = "add_reason", input = Json)]
pub async fn add_reason(kind: ReasonKind, reason: ReasonCodeInput) -> Result<ReasonCode, ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::reasons::add(&st.pool, &admin, kind, &reason).await?)
}

/// Changes a reason's label and whether it is offered (admins).
#[server(endpoint = "change_reason", input = Json)]
pub async fn change_reason(
    kind: ReasonKind,
    code: String,
    label: String,
    active: bool,
) -> Result<ReasonCode, ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::reasons::change(&st.pool, &admin, kind, &code, &label, active).await?)
}

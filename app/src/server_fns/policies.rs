//! Server functions of payment policies: a company's policy as its payment forms check it
//! (whoever pays: staff, the customer, a pay link), and the admins' settings (the seller's
//! default, a company's own, whether staff may pay outside one with a reason).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::policy::{PolicyInput, PolicyView};

#[cfg(feature = "ssr")]
use crate::request::{admin, principal_via, staff, state};

/// The policy of the company being paid (`code`; through a pay link, the link's company).
#[server(endpoint = "payment_policy", input = Form)]
pub async fn payment_policy(
    code: String,
    #[server(default)] link: Option<String>,
) -> Result<PolicyView, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    let scope = who.company(&st.pool, &code).await?;
    Ok(server::policies::view(&st.pool, Some(&scope)).await?)
}

/// The seller's default policy (staff).
#[server(endpoint = "seller_payment_policy", input = Form)]
pub async fn seller_payment_policy() -> Result<PolicyView, ApiError> {
    staff()?;
    Ok(server::policies::view(&state()?.pool, None).await?)
}

/// Sets the seller's default (`code` empty) or a company's own policy; no policy makes the
/// company follow the default again (admins).
#[server(endpoint = "set_payment_policy", input = Json)]
pub async fn set_payment_policy(code: String, policy: Option<PolicyInput>) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    let company = match code.trim() {
        "" => None,
        code => Some(
            shared::company::CompanyCode::parse(code)
                .map_err(|_| shared::AppError::NotFound("Company".into()))?,
        ),
    };
    let policy = policy.map(|p| p.parse(st.config.currency)).transpose()?;
    Ok(server::policies::set(&st.pool, &admin, company.as_ref(), policy.as_ref()).await?)
}

/// Whether staff may pay outside a company's policy, with a reason (admins).
#[server(endpoint = "set_policy_override", input = Form)]
pub async fn set_policy_override(allowed: bool) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::policies::set_staff_may_override(&st.pool, &admin, allowed).await?)
}

/// The card surcharge setting and the states' rules (staff read; admins change).
#[server(endpoint = "surcharge_settings", input = Form)]
pub async fn surcharge_settings() -> Result<shared::surcharge::SurchargeSettings, ApiError> {
    staff()?;
    Ok(server::policies::surcharge_settings(&state()?.pool).await?)
}

/// Sets the card surcharge on credit cards, in percent (empty: none) (admins).
#[server(endpoint = "set_surcharge", input = Form)]
pub async fn set_surcharge(percent: String) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    let percent = shared::surcharge::parse_setting(&percent)?;
    Ok(server::policies::set_surcharge(&st.pool, &admin, percent).await?)
}

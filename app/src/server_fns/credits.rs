//! Server functions of credit on account: a company's credit as its pages show it, and applying
//! it to open invoices (staff for a company, a customer for their own).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::credit::{ApplyCreditInput, CreditSummary};

#[cfg(feature = "ssr")]
use crate::request::{principal, state};

/// The credit on account of company `code` (a customer's own).
#[server(endpoint = "company_credit", input = Form)]
pub async fn company_credit(code: String) -> Result<CreditSummary, ApiError> {
    let st = state()?;
    let scope = principal()?.company(&st.pool, &code).await?;
    Ok(server::credits::summary_for(&st.pool, &scope).await?)
}

/// Applies credit on account to open invoices, once per key; answers with the credit left.
#[server(endpoint = "apply_credit", input = Json)]
pub async fn apply_credit(application: ApplyCreditInput) -> Result<CreditSummary, ApiError> {
    let st = state()?;
    let scope = principal()?.company(&st.pool, &application.company).await?;
    let req = shared::credit::ApplyCredit::parse(&application, st.config.currency)?;
    Ok(server::credits::apply(&st.pool, &scope, &req).await?)
}

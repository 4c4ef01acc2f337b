//! Server functions of pay links: the staff side (whom a link can go to, sending, listing and
//! withdrawing) and the page a link opens. Paying, the methods offered and adding a method
//! through a link are the payment and method functions themselves, called with the link's
//! token ([`crate::request::principal_via`]).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::email::{MailContact, PayLinkSummary, PayLinkView};
use shared::InvoiceId;

#[cfg(feature = "ssr")]
use crate::request::{by_link, principal, state};

/// The company's contacts a pay link can go to (staff).
#[server(endpoint = "pay_link_contacts", input = Form)]
pub async fn pay_link_contacts(code: String) -> Result<Vec<MailContact>, ApiError> {
    let (st, who) = (state()?, principal()?);
    let staff = who.staff()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(server::pay_links::contacts(&st.pool, &staff, &scope).await?)
}

/// Emails a pay link for `invoices` to the contact (staff).
#[server(endpoint = "send_pay_link", input = Json)]
pub async fn send_pay_link(
    code: String,
    contact: shared::ContactId,
    invoices: Vec<InvoiceId>,
) -> Result<PayLinkSummary, ApiError> {
    let (st, who) = (state()?, principal()?);
    let staff = who.staff()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(server::pay_links::send(&st.pool, &st.config, &staff, &scope, contact, &invoices).await?)
}

/// The company's pay links, newest first (staff).
#[server(endpoint = "pay_links", input = Form)]
pub async fn pay_links(code: String) -> Result<Vec<PayLinkSummary>, ApiError> {
    let (st, who) = (state()?, principal()?);
    who.staff()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(server::pay_links::list(&st.pool, &scope, None).await?)
}

/// Withdraws a pay link not paid yet (staff).
#[server(endpoint = "revoke_pay_link", input = Form)]
pub async fn revoke_pay_link(code: String, id: shared::PayLinkId) -> Result<(), ApiError> {
    let (st, who) = (state()?, principal()?);
    let staff = who.staff()?;
    let scope = who.company(&st.pool, &code).await?;
    Ok(server::pay_links::revoke(&st.pool, &staff, &scope, id).await?)
}

/// The link's page: seller, company, invoices at their balances now, status.
#[server(endpoint = "pay_link", input = Form)]
pub async fn pay_link(token: String) -> Result<PayLinkView, ApiError> {
    let st = state()?;
    Ok(by_link(server::pay_links::view(
        &st.pool,
        &st.config,
        &token,
        server::companies::today(),
    ))
    .await?)
}

//! Server functions of companies and their invoices: the CRM list (staff), a company's header
//! and contacts, its open invoices (searched, filtered, paged), one invoice.

use crate::codec::Form;
use crate::error::ApiError;
use leptos::prelude::*;
use shared::company::{CompanyDetail, CompanySummary};
use shared::invoice::{InvoiceDetail, InvoicePage, InvoiceQuery};
use shared::page::Page;
use shared::InvoiceId;

#[cfg(feature = "ssr")]
use {
    crate::request::{principal, staff, state},
    server::companies::today,
    shared::company::CompanySearch,
    shared::invoice::InvoiceSearch,
};

/// CRM → Companies: one page of companies matching `q` (Company ID or name). Staff only.
#[server(endpoint = "list_companies", input = Form)]
pub async fn list_companies(q: String, page: i64) -> Result<Page<CompanySummary>, ApiError> {
    let (st, staff) = (state()?, staff()?);
    let search = CompanySearch::parse(&q)?;
    Ok(server::companies::search(&st.pool, &staff, &search, page, today()).await?)
}

/// A company's header figures and contacts: staff name it; a customer gets their own.
#[server(endpoint = "get_company", input = Form)]
pub async fn get_company(code: String) -> Result<CompanyDetail, ApiError> {
    let st = state()?;
    let scope = principal()?.company(&st.pool, &code).await?;
    Ok(server::companies::detail(&st.pool, &scope, today()).await?)
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

/// "Select all matching": the first [`shared::payment::PaymentRequest::MAX_LINES`] matching
/// invoices (at most one payment's worth) in the list's order, with the count and balance of
/// all that match.
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
    let st = state()?;
    let search = InvoiceSearch::parse(&query)?;
    let scope = principal()?.company(&st.pool, &code).await?;
    Ok(server::invoices::search(&st.pool, &scope, &search, per_page, today()).await?)
}

/// One invoice (open or paid) with what was paid on it.
#[server(endpoint = "get_invoice", input = Form)]
pub async fn get_invoice(id: InvoiceId) -> Result<InvoiceDetail, ApiError> {
    let (st, who) = (state()?, principal()?);
    Ok(server::invoices::detail(&st.pool, &who, id, today()).await?)
}

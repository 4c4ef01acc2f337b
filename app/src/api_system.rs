//! Server functions of the integration screens: API keys, webhooks and imports (admins),
//! and the Payments screen across all companies (staff). Thin, as in `api.rs`.

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::import::{CommitMode, ImportCounts};
use shared::integration::{ApiKeySummary, CreatedApiKey, Delivery, WebhookEndpoint};
use shared::page::Page;
use shared::report::{PaymentFilterInput, PaymentRow};

#[cfg(feature = "ssr")]
use crate::request::{acting, state};

/// Every API key (admins).
#[server(endpoint = "api_keys", input = Form)]
pub async fn api_keys() -> Result<Vec<ApiKeySummary>, ApiError> {
    acting()?.admin()?;
    Ok(server::api_keys::list(&state()?.pool).await?)
}

/// Makes an API key; its secret is in the answer only (admins).
#[server(endpoint = "create_api_key", input = Form)]
pub async fn create_api_key(name: String, scope: String) -> Result<CreatedApiKey, ApiError> {
    let acting = acting()?;
    acting.admin()?;
    let scope = shared::integration::ApiScope::parse(&scope)?;
    Ok(server::api_keys::create(&state()?.pool, acting.actor(), &name, scope).await?)
}

/// Revokes an API key (admins).
#[server(endpoint = "revoke_api_key", input = Form)]
pub async fn revoke_api_key(id: i64) -> Result<(), ApiError> {
    let acting = acting()?;
    acting.admin()?;
    Ok(server::api_keys::revoke(&state()?.pool, acting.actor(), id).await?)
}

/// Every webhook endpoint (admins).
#[server(endpoint = "webhooks", input = Form)]
pub async fn webhooks() -> Result<Vec<WebhookEndpoint>, ApiError> {
    acting()?.admin()?;
    Ok(server::webhooks::list(&state()?.pool).await?)
}

/// Registers a webhook endpoint; answers its id (admins).
#[server(endpoint = "create_webhook", input = Json)]
pub async fn create_webhook(
    url: String,
    description: String,
    events: Vec<String>,
) -> Result<i64, ApiError> {
    let (st, acting) = (state()?, acting()?);
    acting.admin()?;
    Ok(server::webhooks::create(
        &st.pool,
        &st.config,
        acting.actor(),
        &url,
        &description,
        &events,
    )
    .await?)
}

/// One webhook endpoint and its latest deliveries (admins).
#[server(endpoint = "webhook", input = Form)]
pub async fn webhook(id: i64) -> Result<(WebhookEndpoint, Vec<Delivery>), ApiError> {
    acting()?.admin()?;
    let pool = state()?.pool;
    Ok((
        server::webhooks::get(&pool, id).await?,
        server::webhooks::deliveries(&pool, id).await?,
    ))
}

/// Turns an endpoint on or off (admins).
#[server(endpoint = "set_webhook_active", input = Form)]
pub async fn set_webhook_active(id: i64, active: bool) -> Result<(), ApiError> {
    let acting = acting()?;
    acting.admin()?;
    Ok(server::webhooks::set_active(&state()?.pool, acting.actor(), id, active).await?)
}

/// Sends a delivery again now (admins).
#[server(endpoint = "retry_webhook_delivery", input = Form)]
pub async fn retry_webhook_delivery(endpoint: i64, delivery: i64) -> Result<(), ApiError> {
    let acting = acting()?;
    acting.admin()?;
    Ok(server::webhooks::retry(&state()?.pool, acting.actor(), endpoint, delivery).await?)
}

/// Commits an uploaded import (admins).
#[server(endpoint = "commit_import", input = Form)]
pub async fn commit_import(id: i64, mode: CommitMode) -> Result<ImportCounts, ApiError> {
    let acting = acting()?;
    acting.admin()?;
    Ok(server::import::commit(&state()?.pool, acting.actor(), id, mode).await?)
}

/// Payments across all companies, filtered and paged (staff).
#[server(endpoint = "all_payments", input = Form)]
pub async fn all_payments(
    #[server(default)] filter: PaymentFilterInput,
) -> Result<Page<PaymentRow>, ApiError> {
    acting()?.staff()?;
    let filter = shared::report::PaymentFilter::parse(&filter)?;
    Ok(server::payments::report::list(&state()?.pool, &filter).await?)
}

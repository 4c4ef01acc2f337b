//! Server functions of the System menu: the email outbox (staff), API keys, webhooks and
//! imports (admins).

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::ach_file::{AchFileDetail, AchFiles};
use shared::email::Outbox;
use shared::import::{CommitMode, ImportCounts};
use shared::integration::{ApiKeySummary, CreatedApiKey, Delivery, WebhookEndpoint};

#[cfg(feature = "ssr")]
use {
    crate::request::{admin, staff, state},
    server::integration::{api_keys, import, webhooks},
};

/// The outbox, newest first, filtered by status (`pending`, `sent`, `failed` or all) and by
/// recipient or subject (staff).
#[server(endpoint = "email_outbox", input = Form)]
pub async fn email_outbox(status: String, q: String) -> Result<Outbox, ApiError> {
    let staff = staff()?;
    let status = match status.as_str() {
        "" => None,
        s => Some(shared::email::EmailStatus::parse(s).ok_or_else(|| {
            shared::AppError::invalid("status", "Choose pending, sent or failed.")
        })?),
    };
    Ok(server::email::outbox(&state()?.pool, &staff, status, &q).await?)
}

/// Sends a message again now (staff).
#[server(endpoint = "resend_email", input = Form)]
pub async fn resend_email(id: shared::EmailId) -> Result<(), ApiError> {
    let staff = staff()?;
    Ok(server::email::resend(&state()?.pool, &staff, id).await?)
}

/// System → ACH files: the NACHA rail, its files, the bank's returns and notices (staff).
#[server(endpoint = "ach_overview", input = Form)]
pub async fn ach_overview() -> Result<AchFiles, ApiError> {
    let staff = staff()?;
    let state = state()?;
    Ok(server::ach_files::screen::overview(
        &state.pool,
        &staff,
        state.config.nacha.as_ref(),
        chrono::Utc::now(),
    )
    .await?)
}

/// Writes a file of every ACH debit waiting, now (admins). Its name, or `None` when no debit
/// was waiting.
#[server(endpoint = "write_ach_file_now", input = Form)]
pub async fn write_ach_file_now() -> Result<Option<String>, ApiError> {
    let admin = admin()?;
    let state = state()?;
    let Some(settings) = state.config.nacha.as_ref() else {
        return Err(shared::AppError::invalid(
            "request",
            "ACH debits go through the payment gateway here: there is no file to write.",
        )
        .into());
    };
    Ok(
        server::ach_files::outbox::write_now(&state.pool, settings, &admin)
            .await?
            .map(|w| w.name),
    )
}

/// One ACH file and its debits (staff).
#[server(endpoint = "ach_file", input = Form)]
pub async fn ach_file(id: i64) -> Result<AchFileDetail, ApiError> {
    let staff = staff()?;
    Ok(server::ach_files::screen::detail(&state()?.pool, &staff, id).await?)
}

/// Every API key (admins).
#[server(endpoint = "api_keys", input = Form)]
pub async fn api_keys() -> Result<Vec<ApiKeySummary>, ApiError> {
    let admin = admin()?;
    Ok(api_keys::list(&state()?.pool, &admin).await?)
}

/// Makes an API key; its secret is in the answer only (admins).
#[server(endpoint = "create_api_key", input = Form)]
pub async fn create_api_key(name: String, scope: String) -> Result<CreatedApiKey, ApiError> {
    let admin = admin()?;
    let scope = shared::integration::ApiScope::parse(&scope)?;
    Ok(api_keys::create(&state()?.pool, &admin, &name, scope).await?)
}

/// Revokes an API key (admins).
#[server(endpoint = "revoke_api_key", input = Form)]
pub async fn revoke_api_key(id: shared::ApiKeyId) -> Result<(), ApiError> {
    let admin = admin()?;
    Ok(api_keys::revoke(&state()?.pool, &admin, id).await?)
}

/// Every webhook endpoint (admins).
#[server(endpoint = "webhooks", input = Form)]
pub async fn webhooks() -> Result<Vec<WebhookEndpoint>, ApiError> {
    let admin = admin()?;
    Ok(webhooks::list(&state()?.pool, &admin).await?)
}

/// Registers a webhook endpoint; answers its id (admins).
#[server(endpoint = "create_webhook", input = Json)]
pub async fn create_webhook(
    url: String,
    description: String,
    events: Vec<String>,
) -> Result<shared::WebhookId, ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(webhooks::create(&st.pool, &st.config, &admin, &url, &description, &events).await?)
}

/// One webhook endpoint and its latest deliveries (admins).
#[server(endpoint = "webhook", input = Form)]
pub async fn webhook(id: shared::WebhookId) -> Result<(WebhookEndpoint, Vec<Delivery>), ApiError> {
    let admin = admin()?;
    let pool = state()?.pool;
    Ok((
        webhooks::get(&pool, &admin, id).await?,
        webhooks::deliveries(&pool, &admin, id).await?,
    ))
}

/// Turns an endpoint on or off (admins).
#[server(endpoint = "set_webhook_active", input = Form)]
pub async fn set_webhook_active(id: shared::WebhookId, active: bool) -> Result<(), ApiError> {
    let admin = admin()?;
    Ok(webhooks::set_active(&state()?.pool, &admin, id, active).await?)
}

/// Sends a delivery again now (admins).
#[server(endpoint = "retry_webhook_delivery", input = Form)]
pub async fn retry_webhook_delivery(
    endpoint: shared::WebhookId,
    delivery: shared::DeliveryId,
) -> Result<(), ApiError> {
    let admin = admin()?;
    Ok(webhooks::retry(&state()?.pool, &admin, endpoint, delivery).await?)
}

/// Commits an uploaded import (admins).
#[server(endpoint = "commit_import", input = Form)]
pub async fn commit_import(
    id: shared::ImportId,
    mode: CommitMode,
) -> Result<ImportCounts, ApiError> {
    let admin = admin()?;
    Ok(import::commit(&state()?.pool, &admin, id, mode).await?)
}

//! Saved payment methods: activating and deactivating them, with an audit row. A
//! deactivation takes the method's row lock, so it waits for a payment that is already
//! checking the method, and every payment that starts after it sees the method inactive.

use crate::audit::{self, Actor, Event};
use crate::Result;
use serde_json::json;
use shared::auth::SessionUser;
use shared::AppError;
use sqlx::PgPool;

/// Sets a method active or inactive on behalf of its company. `company_id` limits the change
/// to that company's methods (the customer portal); staff pass `None`.
pub async fn set_active(
    pool: &PgPool,
    user: &SessionUser,
    method_id: i64,
    company_id: Option<i64>,
    active: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, bool, String, String)> = sqlx::query_as(
        "SELECT company_id, active, kind, last4::text FROM payment_methods \
         WHERE id = $1 AND ($2::bigint IS NULL OR company_id = $2) FOR UPDATE",
    )
    .bind(method_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((owner, was_active, kind, last4)) = row else {
        return Err(AppError::NotFound("Payment method".into()).into());
    };
    if was_active == active {
        return Ok(());
    }
    sqlx::query("UPDATE payment_methods SET active = $2, is_default = is_default AND $2, updated_at = now() WHERE id = $1")
        .bind(method_id)
        .bind(active)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            actor: Actor::user(user.id, user.role),
            on_behalf_company_id: Some(owner),
            action: if active { "payment_method.activated" } else { "payment_method.deactivated" },
            entity_type: "payment_method",
            entity_id: Some(method_id.to_string()),
            details: json!({ "kind": kind, "last4": last4, "active": { "from": was_active, "to": active } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

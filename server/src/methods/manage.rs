//! Changing a saved method: active or inactive, and the company's default.

use super::{field, not_found, METHOD};
use crate::audit::{self, Action, Entity, Event};
use crate::authority::Principal;
use crate::Result;
use chrono::NaiveDate;
use serde_json::json;
use shared::bank::AccountType;
use shared::card::{CardBrand, CardFunding};
use shared::method::MethodKind;
use shared::{CompanyId, MethodId};
use sqlx::PgPool;

/// Makes an active, unexpired method its company's default (pre-selected when paying), if
/// the user may: staff any company's, a customer their own.
pub async fn set_default(
    pool: &PgPool,
    who: &Principal,
    method: MethodId,
    today: NaiveDate,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default, m.active, m.company_id AS "owner: CompanyId"
           FROM payment_methods m WHERE m.id = $1 FOR UPDATE"#,
        method as MethodId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_found)?;
    let scope = who.reach(row.owner, METHOD)?;
    if !row.active {
        return Err(field(
            "method",
            "Activate this method before making it the default.",
        ));
    }
    let owner = row.owner;
    let option = method_row!(row).into_option()?;
    if option.is_expired(today) {
        return Err(field("method", "An expired card cannot be the default."));
    }
    if option.is_default {
        return Ok(());
    }
    // One default change at a time per company (the one-default index would refuse a race).
    sqlx::query!(
        "SELECT 1 AS one FROM companies WHERE id = $1 FOR UPDATE",
        owner as CompanyId
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE payment_methods SET is_default = false, updated_at = now() WHERE company_id = $1 AND is_default",
        owner as CompanyId
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE payment_methods SET is_default = true, updated_at = now() WHERE id = $1",
        method as MethodId
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: scope.actor(),
            on_behalf_of: Some(owner),
            action: Action::MethodDefaultSet,
            entity: Entity::PaymentMethod,
            entity_id: Some(method.to_string()),
            details: json!({ "method": option.label() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a method active or inactive on behalf of its company, if the user may: staff any
/// company's, a customer their own.
pub async fn set_active(
    pool: &PgPool,
    who: &Principal,
    method: MethodId,
    active: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT company_id AS "owner: CompanyId", active, kind AS "kind: MethodKind", last4::text AS "last4!"
           FROM payment_methods WHERE id = $1 FOR UPDATE"#,
        method as MethodId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_found)?;
    let scope = who.reach(row.owner, METHOD)?;
    if row.active == active {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE payment_methods SET active = $2, is_default = is_default AND $2, updated_at = now() WHERE id = $1",
        method as MethodId,
        active
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: scope.actor(),
            on_behalf_of: Some(row.owner),
            action: if active {
                Action::MethodActivated
            } else {
                Action::MethodDeactivated
            },
            entity: Entity::PaymentMethod,
            entity_id: Some(method.to_string()),
            details: json!({ "kind": row.kind, "last4": row.last4, "active": { "from": row.active, "to": active } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! Payment policies: the seller's default, a company's own, and whether staff may pay outside
//! one with a reason. Read by the payment engine in its transaction and by the forms, which
//! check the same rules as they are typed: one query either way ([`read`]).

use crate::audit::{self, Action, Entity};
use crate::authority::{Admin, CompanyScope};
use crate::{Error, Result};
use rust_decimal::Decimal;
use serde_json::json;
use shared::company::CompanyCode;
use shared::money::Money;
use shared::policy::{PaymentPolicy, PolicyView};
use shared::surcharge::{CompanySurcharge, StateRule, SurchargeSettings};
use shared::{AppError, CompanyId};
use sqlx::{PgConnection, PgPool};

/// A policy's row, with the seller's override setting beside it.
struct Row {
    own: bool,
    card_allowed: bool,
    ach_allowed: bool,
    min_amount: Option<Decimal>,
    max_amount: Option<Decimal>,
    ach_required_above: Option<Decimal>,
    partial_allowed: bool,
    overpayment_allowed: bool,
    staff_may_override: bool,
    surcharge_percent: Option<Decimal>,
    state_name: Option<String>,
    state_refuses: Option<bool>,
    state_cap: Option<Decimal>,
}

impl Row {
    fn policy(&self) -> PaymentPolicy {
        PaymentPolicy {
            card_allowed: self.card_allowed,
            ach_allowed: self.ach_allowed,
            min_amount: self.min_amount.map(Money::usd),
            max_amount: self.max_amount.map(Money::usd),
            ach_required_above: self.ach_required_above.map(Money::usd),
            partial_allowed: self.partial_allowed,
            overpayment_allowed: self.overpayment_allowed,
        }
    }
}

/// The seller's default, `company`'s own policy when it has one, and whether staff may pay
/// outside them: one query, inside the caller's transaction (the payment engine's) or not.
pub async fn read(conn: &mut PgConnection, company: Option<CompanyId>) -> Result<PolicyView> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT p.company_id IS NOT NULL AS "own!", p.card_allowed, p.ach_allowed, p.min_amount,
                  p.max_amount, p.ach_required_above, p.partial_allowed,
                  p.overpayment_allowed, s.staff_may_override_policy AS staff_may_override,
                  s.surcharge_percent, r.name AS "state_name?", r.rule = 'refused' AS "state_refuses?",
                  r.cap_percent AS state_cap
           FROM payment_policies p CROSS JOIN seller_settings s
           LEFT JOIN companies c ON c.id = $1 LEFT JOIN surcharge_rules r ON r.state = c.billing_state
           WHERE COALESCE(p.company_id, 0) IN ($1, 0)"#,
        company.map_or(0, |c| c.0)
    )
    .fetch_all(conn)
    .await?;
    let default = rows
        .iter()
        .find(|r| !r.own)
        .ok_or_else(|| Error::Other("the seller's default payment policy is missing".into()))?;
    Ok(PolicyView {
        default: default.policy(),
        own: rows.iter().find(|r| r.own).map(Row::policy),
        staff_may_override: default.staff_may_override,
        surcharge: CompanySurcharge::decide(
            default.surcharge_percent,
            default.state_name.as_deref().map(|name| {
                let cap = if default.state_refuses == Some(true) {
                    None
                } else {
                    default.state_cap
                };
                (name, cap)
            }),
        ),
    })
}

/// What the forms show of a company's policy (`None`: the seller's default alone).
pub async fn view(pool: &PgPool, company: Option<&CompanyScope>) -> Result<PolicyView> {
    read(&mut *pool.acquire().await?, company.map(CompanyScope::id)).await
}

/// Sets the seller's default (`company` none) or a company's own policy; `None` for a company
/// makes it follow the default again.
pub async fn set(
    pool: &PgPool,
    admin: &Admin,
    company: Option<&CompanyCode>,
    policy: Option<&PaymentPolicy>,
) -> Result<()> {
    let id = match company {
        Some(code) => Some(crate::authority::id_of(pool, code).await?),
        None if policy.is_none() => {
            return Err(AppError::invalid(
                "policy",
                "The seller's default cannot be removed: save one.",
            )
            .into())
        }
        None => None,
    };
    let mut tx = pool.begin().await?;
    match policy {
        // One statement for the default and a company alike: a company's row is made with its
        // first policy of its own.
        Some(p) => {
            let amount = |m: Option<Money>| m.map(|m| m.amount());
            sqlx::query!(
                "INSERT INTO payment_policies (company_id, card_allowed, ach_allowed, min_amount, max_amount, \
                     ach_required_above, partial_allowed, overpayment_allowed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT ((COALESCE(company_id, 0))) DO UPDATE SET card_allowed = $2, ach_allowed = $3, \
                     min_amount = $4, max_amount = $5, ach_required_above = $6, partial_allowed = $7, \
                     overpayment_allowed = $8, updated_at = now()",
                id as Option<CompanyId>,
                p.card_allowed,
                p.ach_allowed,
                amount(p.min_amount),
                amount(p.max_amount),
                amount(p.ach_required_above),
                p.partial_allowed,
                p.overpayment_allowed
            )
            .execute(&mut *tx)
            .await?;
        }
        // The default is never removed (no company has id 0).
        None => {
            sqlx::query!(
                "DELETE FROM payment_policies WHERE COALESCE(company_id, 0) = COALESCE($1, -1)",
                id as Option<CompanyId>
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::PaymentPolicyChanged,
        Entity::Settings,
        company.map_or_else(|| "payment_policy".to_string(), |c| c.as_str().to_string()),
        json!({ "policy": policy }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether staff may pay outside a company's policy, with a reason.
pub async fn set_staff_may_override(pool: &PgPool, admin: &Admin, allowed: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE seller_settings SET staff_may_override_policy = $1, updated_at = now()",
        allowed
    )
    .execute(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::PolicyOverrideChanged,
        Entity::Settings,
        "staff_may_override_policy",
        json!({ "to": allowed }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The seller's surcharge setting and the state table.
pub async fn surcharge_settings(pool: &PgPool) -> Result<SurchargeSettings> {
    let percent = sqlx::query_scalar!("SELECT surcharge_percent FROM seller_settings")
        .fetch_one(pool)
        .await?;
    let rules = sqlx::query!(
        "SELECT state::text AS \"state!\", name, cap_percent, source, checked_on FROM surcharge_rules ORDER BY name"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| StateRule {
        state: r.state,
        name: r.name,
        cap_percent: r.cap_percent,
        source: r.source,
        checked_on: r.checked_on,
    })
    .collect();
    Ok(SurchargeSettings { percent, rules })
}

/// Sets the card surcharge (`None`: off), audited.
pub async fn set_surcharge(pool: &PgPool, admin: &Admin, percent: Option<Decimal>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE seller_settings SET surcharge_percent = $1, updated_at = now()",
        percent
    )
    .execute(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::SurchargeChanged,
        Entity::Settings,
        "surcharge",
        json!({ "surcharge_percent": percent.map(|p| p.to_string()) }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! Payment policies: the seller's default, a company's own, and whether staff may pay outside
//! one with a reason. Read by the payment engine in its transaction (one query: the company's
//! own row, else the default) and by the forms, which check the same rules as they are typed.

use crate::audit::{self, Action, Entity};
use crate::authority::{Admin, CompanyScope};
use crate::Result;
use rust_decimal::Decimal;
use serde_json::json;
use shared::company::CompanyCode;
use shared::money::Money;
use shared::policy::{PaymentPolicy, PolicyView};
use shared::{AppError, CompanyId};
use sqlx::{PgConnection, PgPool};

struct Row {
    card_allowed: bool,
    ach_allowed: bool,
    min_amount: Option<Decimal>,
    max_amount: Option<Decimal>,
    ach_required_above: Option<Decimal>,
    partial_allowed: bool,
}

impl From<Row> for PaymentPolicy {
    fn from(r: Row) -> Self {
        PaymentPolicy {
            card_allowed: r.card_allowed,
            ach_allowed: r.ach_allowed,
            min_amount: r.min_amount.map(Money::usd),
            max_amount: r.max_amount.map(Money::usd),
            ach_required_above: r.ach_required_above.map(Money::usd),
            partial_allowed: r.partial_allowed,
        }
    }
}

/// The policy `company` pays under (its own, else the seller's default), and whether staff
/// may pay outside it.
pub async fn in_force(
    conn: &mut PgConnection,
    company: CompanyId,
) -> Result<(PaymentPolicy, bool)> {
    let r = sqlx::query!(
        r#"SELECT p.card_allowed, p.ach_allowed, p.min_amount, p.max_amount, p.ach_required_above,
                  p.partial_allowed, s.staff_may_override_policy
           FROM payment_policies p, seller_settings s
           WHERE COALESCE(p.company_id, 0) IN ($1, 0)
           ORDER BY p.company_id NULLS LAST LIMIT 1"#,
        company as CompanyId
    )
    .fetch_one(conn)
    .await?;
    Ok((
        Row {
            card_allowed: r.card_allowed,
            ach_allowed: r.ach_allowed,
            min_amount: r.min_amount,
            max_amount: r.max_amount,
            ach_required_above: r.ach_required_above,
            partial_allowed: r.partial_allowed,
        }
        .into(),
        r.staff_may_override_policy,
    ))
}

/// What the forms show of a company's policy (`None`: the seller's default alone).
pub async fn view(pool: &PgPool, company: Option<&CompanyScope>) -> Result<PolicyView> {
    let company = company.map(CompanyScope::id);
    let mut conn = pool.acquire().await?;
    let default = sqlx::query_as!(
        Row,
        "SELECT card_allowed, ach_allowed, min_amount, max_amount, ach_required_above, partial_allowed \
         FROM payment_policies WHERE company_id IS NULL"
    )
    .fetch_one(&mut *conn)
    .await?
    .into();
    let own = match company {
        Some(c) => sqlx::query_as!(
            Row,
            "SELECT card_allowed, ach_allowed, min_amount, max_amount, ach_required_above, partial_allowed \
             FROM payment_policies WHERE COALESCE(company_id, 0) = $1",
            c as CompanyId
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(Into::into),
        None => None,
    };
    let staff_may_override =
        sqlx::query_scalar!("SELECT staff_may_override_policy FROM seller_settings")
            .fetch_one(&mut *conn)
            .await?;
    Ok(PolicyView {
        default,
        own,
        staff_may_override,
    })
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
                     ach_required_above, partial_allowed) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT ((COALESCE(company_id, 0))) DO UPDATE SET card_allowed = $2, ach_allowed = $3, \
                     min_amount = $4, max_amount = $5, ach_required_above = $6, partial_allowed = $7, updated_at = now()",
                id as Option<CompanyId>,
                p.card_allowed,
                p.ach_allowed,
                amount(p.min_amount),
                amount(p.max_amount),
                amount(p.ach_required_above),
                p.partial_allowed
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

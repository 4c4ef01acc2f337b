//! ACH payments after they are accepted: each `pending` one is read again from the gateway
//! by its key until its end — settled, or returned with its invoices re-opened — is recorded
//! in its own transaction. A failure leaves that one for the next pass; nothing the gateway
//! reported is lost.

use super::restore_balances;
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::gateway::{within, Charge, ChargeStatus, PaymentGateway, LOOKUP_TIMEOUT};
use crate::Result;
use serde_json::json;
use shared::payment::PaymentStatus;
use shared::{CompanyId, PaymentId};
use sqlx::PgPool;

/// What one [`sync_ach`] pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AchSync {
    pub recorded: usize,
    pub failed: usize,
}

/// Records how pending ACH payments ended at the gateway (the oldest 500 per pass).
pub async fn sync_ach(pool: &PgPool, gateway: &dyn PaymentGateway) -> Result<AchSync> {
    let pending = sqlx::query!(
        r#"SELECT id AS "id: PaymentId", COALESCE(gateway_key, idempotency_key::text) AS "gateway_key!"
           FROM payments WHERE status = 'pending' AND idempotency_key IS NOT NULL
           ORDER BY created_at LIMIT 500"#
    )
    .fetch_all(pool)
    .await?;
    let mut report = AchSync::default();
    for p in pending {
        let charge = match within(LOOKUP_TIMEOUT, gateway.find_charge(&p.gateway_key)).await {
            Ok(Some(charge)) => charge,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(payment_id = %p.id, error = %e, "ACH sync: gateway not reachable; will read again");
                report.failed += 1;
                continue;
            }
        };
        if !matches!(
            charge.status,
            ChargeStatus::Settled | ChargeStatus::Returned
        ) {
            continue;
        }
        match record_end(pool, p.id, &charge).await {
            Ok(true) => report.recorded += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(payment_id = %p.id, error = %e, "ACH sync: could not record; will read again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Records a pending ACH payment's end; `false` when it was no longer pending.
async fn record_end(pool: &PgPool, payment: PaymentId, charge: &Charge) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT company_id AS "company: CompanyId", number FROM payments
           WHERE id = $1 AND status = 'pending' FOR UPDATE"#,
        payment as PaymentId
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let returned = charge.status == ChargeStatus::Returned;
    let status = if returned {
        PaymentStatus::Returned
    } else {
        PaymentStatus::Settled
    };
    sqlx::query!(
        "UPDATE payments SET status = $2, failure_code = $3, failure_message = $4, updated_at = now() WHERE id = $1",
        payment as PaymentId,
        status as PaymentStatus,
        charge.code,
        charge.message
    )
    .execute(&mut *tx)
    .await?;
    if returned {
        restore_balances(&mut tx, payment).await?;
    }
    audit::record(
        &mut tx,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: Some(row.company),
            action: if returned {
                Action::PaymentReturned
            } else {
                Action::PaymentSettled
            },
            entity: Entity::Payment,
            entity_id: Some(row.number),
            details: json!({ "gateway_charge_id": charge.id, "code": charge.code }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

//! Payments the gateway has not answered for: checked again by key until it answers.
//!
//! The reconciler takes a payment once its answer is overdue and sends the same charge again
//! with the payment's gateway key. A gateway answers that with the charge it already has, or
//! makes it now: the answer is always definite and never a second charge, and no check has
//! to wait for a charge that may still be in flight. A check that cannot reach the gateway
//! backs off (5 s doubling to 5 min) and says why; meanwhile the payment shows as "Checking
//! with the gateway".

use super::{resolve, Resolution};
use crate::authority::Staff;
use crate::companies::currency;
use crate::gateway::{within, GatewayError, PaymentGateway};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::company::CompanyCode;
use shared::money::Money;
use shared::payment::AwaitingGateway;
use shared::{AppError, PaymentId};
use sqlx::PgPool;
use std::time::Duration;

/// When the reconciler first looks at a payment: once the request that started it has
/// stopped waiting for the gateway (its timeout), and had a second to record the answer.
pub fn first_check_after(config: &crate::Config) -> Duration {
    config.gateway_timeout + Duration::from_secs(1)
}

/// The wait before the next check after `checks` checks could not reach the gateway: 5 s,
/// 10 s, 20 s, … at most 5 minutes.
pub fn backoff(checks: i32) -> Duration {
    let doublings = checks.saturating_sub(1).clamp(0, 6) as u32;
    Duration::from_secs(5 * 2u64.pow(doublings)).min(Duration::from_secs(300))
}

/// Checks payments still `processing` whose time has come (a lost gateway answer, a crash):
/// sends each one's charge again with its gateway key and records the answer. A payment the
/// gateway cannot be asked about now is checked again later, backing off. Safe with several
/// instances: a pass claims its payments by moving their next check past its own end.
/// Returns how many payments it resolved.
pub async fn reconcile(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
) -> Result<usize> {
    let lease = config.reconcile_timeout + Duration::from_secs(5);
    let due = sqlx::query!(
        r#"UPDATE payments p SET next_gateway_check_at = now() + make_interval(secs => $1)
           FROM (SELECT id FROM payments WHERE status = 'processing' AND next_gateway_check_at <= now()
                 ORDER BY next_gateway_check_at LIMIT 100 FOR UPDATE SKIP LOCKED) d
           WHERE p.id = d.id
           RETURNING p.id AS "id: PaymentId", COALESCE(p.gateway_key, p.idempotency_key::text) AS "gateway_key!",
               (SELECT gateway_token FROM payment_methods m WHERE m.id = p.method_id) AS "token?",
               p.amount, p.currency::text AS "currency!", p.gateway_checks"#,
        lease.as_secs_f64()
    )
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for p in due {
        let answer = match p.token {
            None => Err(GatewayError::Refused("the payment method is gone".into())),
            Some(token) => {
                let amount = Money::new(p.amount, currency(&p.currency)?);
                within(
                    config.reconcile_timeout,
                    gateway.charge(&token, amount, &p.gateway_key),
                )
                .await
            }
        };
        let resolution = match &answer {
            Ok(charge) => Resolution::Charged(charge),
            Err(GatewayError::Refused(reason)) => Resolution::Refused(reason),
            Err(e) => {
                let checks = p.gateway_checks + 1;
                let wait = backoff(checks);
                tracing::warn!(payment_id = %p.id, checks, error = %e, retry_in_secs = wait.as_secs(), "reconcile: gateway not reachable");
                sqlx::query!(
                    "UPDATE payments SET gateway_checks = gateway_checks + 1, last_gateway_error = $2, \
                         next_gateway_check_at = now() + make_interval(secs => $3) \
                     WHERE id = $1 AND status = 'processing'",
                    p.id as PaymentId,
                    e.to_string(),
                    wait.as_secs_f64()
                )
                .execute(pool)
                .await?;
                continue;
            }
        };
        match resolve(pool, p.id, resolution).await {
            // A refusal is an answer too: the payment is resolved (failed).
            Ok(_) | Err(Error::App(AppError::Invalid(_))) => done += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// A payment Settle keeps asking the gateway about, as staff see it (System → Awaiting
/// gateway): read by [`awaiting_gateway`] and by the ACH sync's list of unknown debits.
pub(super) struct AwaitingRow {
    pub(super) id: PaymentId,
    pub(super) number: String,
    pub(super) code: String,
    pub(super) name: String,
    pub(super) amount: Decimal,
    pub(super) currency: String,
    pub(super) method_label: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) age_seconds: f64,
    pub(super) gateway_checks: i32,
    pub(super) last_gateway_error: Option<String>,
    pub(super) next_gateway_check_at: Option<DateTime<Utc>>,
}

/// Payments whose gateway answer is overdue, oldest first: what Settle is still asking the
/// gateway about (the latest 200).
pub async fn awaiting_gateway(pool: &PgPool, _staff: &Staff) -> Result<Vec<AwaitingGateway>> {
    sqlx::query_as!(
        AwaitingRow,
        r#"SELECT p.id AS "id: PaymentId", p.number, c.code, c.name, p.amount,
                  p.currency::text AS "currency!", p.method_label, p.created_at,
                  extract(epoch FROM now() - p.created_at)::float8 AS "age_seconds!",
                  p.gateway_checks, p.last_gateway_error, p.next_gateway_check_at
           FROM payments p JOIN companies c ON c.id = p.company_id
           WHERE p.status = 'processing' AND p.gateway_answer_due_at <= now()
           ORDER BY p.created_at LIMIT 200"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(AwaitingRow::into_awaiting)
    .collect()
}

impl AwaitingRow {
    pub(super) fn into_awaiting(self) -> Result<AwaitingGateway> {
        Ok(AwaitingGateway {
            payment_id: self.id,
            number: self.number,
            company_code: CompanyCode::parse(&self.code)?,
            company_name: self.name,
            amount: Money::new(self.amount, currency(&self.currency)?),
            method: self.method_label.unwrap_or_default(),
            started_at: self.created_at,
            age_seconds: self.age_seconds as i64,
            checks: self.gateway_checks,
            last_error: self.last_gateway_error,
            next_check_at: self.next_gateway_check_at,
        })
    }
}

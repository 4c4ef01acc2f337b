//! The payment engine. A payment happens exactly once:
//!
//! 1. **Start** (one transaction): claim the idempotency key (a replay of the same key gets
//!    the first outcome; the same key with other content is refused), lock the invoices in id
//!    order and check them again, check the method, record the payment as `processing` and
//!    take its lines off the balances (so no one else can pay the same money meanwhile).
//! 2. **Charge** the gateway with the same key, outside any transaction.
//! 3. **Finish** (one transaction): approved → `approved` (card) or `pending` (ACH);
//!    declined → `declined` and the balances restored. The outcome is stored with the key.
//!
//! A crash between 1 and 3 leaves a `processing` payment; [`reconcile`] (at start-up and
//! periodically) asks the gateway by key and finishes it, or fails it and restores the
//! balances when the gateway never saw the charge. Never a charge without a record, never
//! two charges.

use crate::audit::{self, Actor, Event};
use crate::gateway::{Charge, ChargeStatus, GatewayError, PaymentGateway};
use crate::methods::{MethodRow, METHOD_SELECT};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::auth::SessionUser;
use shared::company::CompanyCode;
use shared::money::{Currency, Money};
use shared::payment::{
    amount_field, check_line_against_balance, Consent, ConsentChannel, MethodKind, PaymentOutcome,
    PaymentRequest, PaymentStatus, Receipt, ReceiptLine,
};
use shared::AppError;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

/// How long a replay of a key still being processed waits for the first request's outcome.
const REPLAY_WAIT: Duration = Duration::from_secs(30);

fn request_hash(req: &PaymentRequest, company_id: i64) -> Vec<u8> {
    let canonical = json!({
        "company": company_id,
        "method": req.method_id,
        "lines": req.lines.iter().map(|l| json!([l.invoice_id, l.amount.amount().to_string(), l.short_pay_reason])).collect::<Vec<_>>(),
        "consent": [req.consent.channel.as_db(), req.consent.reference],
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

fn parse_key(req: &PaymentRequest) -> Result<Uuid> {
    Uuid::parse_str(req.idempotency_key.as_str()).map_err(|_| {
        AppError::invalid(
            "idempotency_key",
            "This payment form is out of date. Close it and open it again.",
        )
        .into()
    })
}

/// A payment recorded as `processing`, ready to be charged.
#[derive(Debug)]
pub struct Started {
    pub payment_id: i64,
    pub key: Uuid,
    pub token: String,
    pub amount: Money,
    pub kind: MethodKind,
}

/// How long ago a payment must have started before the reconciler may touch it.
pub fn stuck_after(config: &crate::Config) -> Duration {
    config.gateway_timeout * 2 + Duration::from_secs(5)
}

/// What [`start`] found.
#[derive(Debug)]
pub enum StartOutcome {
    /// A new payment, to be charged.
    New(Started),
    /// The key was used before: here is its outcome.
    Replay(PaymentOutcome),
}

/// Pays `req` for `company_id` on behalf of (or as) `user`, exactly once per key.
pub async fn pay<G: PaymentGateway>(
    pool: &PgPool,
    gateway: &G,
    user: &SessionUser,
    company_id: i64,
    req: &PaymentRequest,
) -> Result<PaymentOutcome> {
    let started = match start(pool, user, company_id, req).await? {
        StartOutcome::Replay(outcome) => return Ok(outcome),
        StartOutcome::New(s) => s,
    };
    match gateway
        .charge(&started.token, started.amount, &started.key.to_string())
        .await
    {
        Ok(charge) => finish(pool, started.payment_id, &charge).await,
        Err(GatewayError::Refused(reason)) => {
            fail(pool, started.payment_id, &reason).await?;
            Err(AppError::invalid(
                "method",
                "The payment gateway refused this payment method. Choose another.",
            )
            .into())
        }
        Err(e) => {
            // The charge may or may not have happened: leave it to the reconciler, which asks
            // the gateway by key. The balances stay held meanwhile.
            tracing::warn!(payment_id = started.payment_id, error = %e, "gateway did not answer; payment left for reconciliation");
            Err(AppError::invalid(
                "method",
                "The payment gateway did not answer. The payment is being checked and will show in the Payments tab; do not pay again.",
            )
            .into())
        }
    }
}

/// Step 1: claim the key, check everything under lock, record the payment as `processing`
/// and hold its amounts off the balances.
pub async fn start(
    pool: &PgPool,
    user: &SessionUser,
    company_id: i64,
    req: &PaymentRequest,
) -> Result<StartOutcome> {
    let key = parse_key(req)?;
    let hash = request_hash(req, company_id);
    let mut tx = pool.begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (key, user_id, scope, request_hash) VALUES ($1, $2, 'payment', $3) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(user.id)
    .bind(&hash)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        tx.rollback().await?;
        return replay(pool, key, &hash).await.map(StartOutcome::Replay);
    }

    // Lock the invoices in id order (no deadlocks between payments) and check them again.
    let ids: Vec<i64> = req.lines.iter().map(|l| l.invoice_id).collect();
    let invoices: Vec<(i64, String, Decimal, i64, String)> = sqlx::query_as(
        "SELECT id, number, balance, company_id, currency::text FROM invoices WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let currency = Currency::USD;
    for line in &req.lines {
        let Some((_, number, balance, owner, _)) = invoices.iter().find(|i| i.0 == line.invoice_id)
        else {
            return Err(AppError::invalid(
                "invoices",
                "An invoice in this payment does not exist. Reload the page.",
            )
            .into());
        };
        if *owner != company_id {
            return Err(AppError::invalid(
                "invoices",
                "An invoice in this payment does not exist. Reload the page.",
            )
            .into());
        }
        let balance = Money::new(*balance, currency);
        if balance.is_zero() {
            return Err(AppError::invalid(
                amount_field(line.invoice_id),
                format!(
                    "The balance changed: {number} has just been paid in full. Reload to see it."
                ),
            )
            .into());
        }
        if line.amount.amount() > balance.amount() {
            return Err(AppError::invalid(
                amount_field(line.invoice_id),
                format!(
                    "The balance changed: {number} now has {} left to pay. Enter at most that.",
                    balance.display()
                ),
            )
            .into());
        }
        // What is left (a short payment needs its reason) is the same rule the form applies.
        check_line_against_balance(line, balance)?;
    }

    // The method: this company's, active, not expired. Locked so a deactivation waits for us
    // (or we see it).
    let method: Option<MethodRow> = sqlx::query_as(&format!(
        "{METHOD_SELECT} WHERE m.id = $1 AND m.company_id = $2 FOR SHARE"
    ))
    .bind(req.method_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(method) = method else {
        return Err(
            AppError::invalid("method", "Choose one of this company's payment methods.").into(),
        );
    };
    if !method.active {
        return Err(AppError::invalid(
            "method",
            "This payment method is inactive. Choose another.",
        )
        .into());
    }
    let token = method.gateway_token.clone();
    let option = method.into_option();
    if option.is_expired(crate::companies::today()) {
        return Err(AppError::invalid(
            "method",
            "This card has expired. Choose another payment method.",
        )
        .into());
    }

    let amount = req.total();
    let (payment_id, number): (i64, String) = sqlx::query_as(
        "INSERT INTO payments (company_id, method_id, method_label, currency, amount, status, idempotency_key, \
             initiated_by, consent_channel, consent_reference, request_hash) \
         VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10) RETURNING id, number",
    )
    .bind(company_id)
    .bind(option.id)
    .bind(option.label())
    .bind(amount.currency().code())
    .bind(amount.amount())
    .bind(key)
    .bind(user.id)
    .bind(req.consent.channel.as_db())
    .bind(&req.consent.reference)
    .bind(&hash)
    .fetch_one(&mut *tx)
    .await?;
    for line in &req.lines {
        let after: Decimal = sqlx::query_scalar(
            "UPDATE invoices SET balance = balance - $2, updated_at = now() WHERE id = $1 RETURNING balance",
        )
        .bind(line.invoice_id)
        .bind(line.amount.amount())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO payment_allocations (payment_id, invoice_id, amount, short_pay_reason, balance_after) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(payment_id)
        .bind(line.invoice_id)
        .bind(line.amount.amount())
        .bind(&line.short_pay_reason)
        .bind(after)
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        Event {
            actor: Actor::user(user.id, user.role),
            on_behalf_company_id: Some(company_id),
            action: "payment.started",
            entity_type: "payment",
            entity_id: Some(number.clone()),
            details: json!({
                "amount": amount.amount().to_string(),
                "method": option.label(),
                "consent_channel": req.consent.channel.as_db(),
                "consent_reference": req.consent.reference,
                "invoices": req.lines.iter().map(|l| json!({"invoice_id": l.invoice_id, "amount": l.amount.amount().to_string(), "short_pay_reason": l.short_pay_reason})).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StartOutcome::New(Started {
        payment_id,
        key,
        token,
        amount,
        kind: option.kind,
    }))
}

/// The outcome of a key used before, waiting (up to 30 s) while its first request finishes.
async fn replay(pool: &PgPool, key: Uuid, hash: &[u8]) -> Result<PaymentOutcome> {
    let deadline = tokio::time::Instant::now() + REPLAY_WAIT;
    loop {
        let row: Option<(Vec<u8>, Option<serde_json::Value>)> =
            sqlx::query_as("SELECT request_hash, response FROM idempotency_keys WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?;
        let Some((stored_hash, response)) = row else {
            return Err(Error::Other("idempotency key vanished".into()));
        };
        if stored_hash != hash {
            return Err(AppError::invalid(
                "idempotency_key",
                "This payment form was already used for a different payment. Close it and open it again.",
            )
            .into());
        }
        if let Some(response) = response {
            return serde_json::from_value(response)
                .map_err(|e| Error::Other(format!("stored outcome: {e}")));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AppError::invalid(
                "method",
                "This payment is still being processed. Check the Payments tab before trying again.",
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Step 3: records the gateway's answer. Idempotent: a payment already finished is left as
/// it is and its stored outcome returned.
pub async fn finish(pool: &PgPool, payment_id: i64, charge: &Charge) -> Result<PaymentOutcome> {
    let mut tx = pool.begin().await?;
    let row: Option<(String, Uuid, i64, i64, String)> = sqlx::query_as(
        "SELECT status, idempotency_key, company_id, initiated_by, number FROM payments WHERE id = $1 FOR UPDATE",
    )
    .bind(payment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status, key, company_id, initiated_by, number)) = row else {
        return Err(Error::Other(format!("payment {payment_id} not found")));
    };
    if status != "processing" {
        tx.rollback().await?;
        return stored_outcome(pool, key).await;
    }
    let (new_status, action) = match charge.status {
        ChargeStatus::Approved => (PaymentStatus::Approved, "payment.approved"),
        ChargeStatus::Pending => (PaymentStatus::Pending, "payment.pending"),
        ChargeStatus::Settled => (PaymentStatus::Settled, "payment.settled"),
        ChargeStatus::Declined => (PaymentStatus::Declined, "payment.declined"),
        ChargeStatus::Returned => (PaymentStatus::Returned, "payment.returned"),
    };
    sqlx::query(
        "UPDATE payments SET status = $2, gateway_charge_id = $3, failure_code = $4, failure_message = $5, \
             updated_at = now() WHERE id = $1",
    )
    .bind(payment_id)
    .bind(new_status.as_db())
    .bind(&charge.id)
    .bind(&charge.code)
    .bind(&charge.message)
    .execute(&mut *tx)
    .await?;
    if !new_status.reduces_balance() {
        restore_balances(&mut tx, payment_id).await?;
    }
    let role = sqlx::query_scalar::<_, String>("SELECT role FROM users WHERE id = $1")
        .bind(initiated_by)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            actor: Actor {
                user_id: Some(initiated_by),
                role: shared::auth::Role::from_db(&role),
            },
            on_behalf_company_id: Some(company_id),
            action,
            entity_type: "payment",
            entity_id: Some(number.clone()),
            details: json!({ "gateway_charge_id": charge.id, "code": charge.code, "message": charge.message }),
        },
    )
    .await?;
    let outcome = if new_status.reduces_balance() {
        PaymentOutcome::Paid(receipt_in(&mut tx, payment_id).await?)
    } else {
        PaymentOutcome::Declined {
            payment_number: number,
            code: charge.code.clone().unwrap_or_else(|| "declined".into()),
            message: charge
                .message
                .clone()
                .unwrap_or_else(|| "The payment was declined.".into()),
        }
    };
    sqlx::query("UPDATE idempotency_keys SET response = $2, completed_at = now() WHERE key = $1")
        .bind(key)
        .bind(serde_json::to_value(&outcome).map_err(|e| Error::Other(e.to_string()))?)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A payment the gateway never charged: `failed`, balances restored.
async fn fail(pool: &PgPool, payment_id: i64, reason: &str) -> Result<()> {
    let charge = Charge {
        id: format!("none_{payment_id}"),
        status: ChargeStatus::Declined,
        code: Some("not_charged".into()),
        message: Some(format!("Not charged: {reason}")),
    };
    finish(pool, payment_id, &charge).await?;
    sqlx::query("UPDATE payments SET status = 'failed', gateway_charge_id = NULL WHERE id = $1")
        .bind(payment_id)
        .execute(pool)
        .await?;
    Ok(())
}

async fn restore_balances(conn: &mut PgConnection, payment_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE invoices i SET balance = i.balance + a.amount, updated_at = now() \
         FROM (SELECT invoice_id, amount FROM payment_allocations WHERE payment_id = $1 ORDER BY invoice_id) a \
         WHERE i.id = a.invoice_id",
    )
    .bind(payment_id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn stored_outcome(pool: &PgPool, key: Uuid) -> Result<PaymentOutcome> {
    let response: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT response FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
    let response =
        response.ok_or_else(|| Error::Other("finished payment without a stored outcome".into()))?;
    serde_json::from_value(response).map_err(|e| Error::Other(format!("stored outcome: {e}")))
}

/// Finishes payments left `processing` longer than `older_than` (a crash, a lost gateway
/// answer): asks the gateway by key; a charge it has is recorded, one it never saw is failed
/// and its balances restored. Returns how many payments it finished.
pub async fn reconcile<G: PaymentGateway>(
    pool: &PgPool,
    gateway: &G,
    older_than: Duration,
) -> Result<usize> {
    let stuck: Vec<(i64, Uuid)> = sqlx::query_as(
        "SELECT id, idempotency_key FROM payments WHERE status = 'processing' \
         AND created_at < now() - make_interval(secs => $1) ORDER BY id",
    )
    .bind(older_than.as_secs_f64())
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for (payment_id, key) in stuck {
        match gateway.find_charge(&key.to_string()).await {
            Ok(Some(charge)) => {
                finish(pool, payment_id, &charge).await?;
                done += 1;
            }
            Ok(None) => {
                fail(
                    pool,
                    payment_id,
                    "the gateway has no charge for this payment",
                )
                .await?;
                done += 1;
            }
            Err(e) => {
                tracing::warn!(payment_id, error = %e, "reconcile: gateway unavailable; will retry")
            }
        }
    }
    Ok(done)
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    id: i64,
    number: String,
    status: String,
    code: String,
    name: String,
    amount: Decimal,
    currency: String,
    method_label: Option<String>,
    memo: Option<String>,
    created_at: DateTime<Utc>,
    user_name: Option<String>,
    user_role: Option<String>,
    consent_channel: Option<String>,
    consent_reference: Option<String>,
    failure_message: Option<String>,
}

async fn receipt_in(conn: &mut PgConnection, payment_id: i64) -> Result<Receipt> {
    receipts_in(conn, &[payment_id])
        .await?
        .pop()
        .ok_or_else(|| Error::Other(format!("payment {payment_id} not found")))
}

/// The receipts of `ids`, newest first, in two queries whatever their number.
async fn receipts_in(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<Receipt>> {
    let rows: Vec<ReceiptRow> = sqlx::query_as(
        "SELECT p.id, p.number, p.status, c.code, c.name, p.amount, p.currency::text AS currency, p.method_label, \
                p.memo, p.created_at, u.name AS user_name, u.role AS user_role, p.consent_channel, \
                p.consent_reference, p.failure_message \
         FROM payments p JOIN companies c ON c.id = p.company_id LEFT JOIN users u ON u.id = p.initiated_by \
         WHERE p.id = ANY($1) ORDER BY p.created_at DESC, p.id DESC",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines: Vec<(i64, String, Decimal, Option<Decimal>)> = sqlx::query_as(
        "SELECT a.payment_id, i.number, a.amount, a.balance_after FROM payment_allocations a \
         JOIN invoices i ON i.id = a.invoice_id WHERE a.payment_id = ANY($1) ORDER BY i.due_date, i.number",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let currency: Currency = r
                .currency
                .parse()
                .map_err(|e: shared::money::UnknownCurrency| Error::Other(e.to_string()))?;
            let status = PaymentStatus::from_db(&r.status)
                .ok_or_else(|| Error::Other(format!("status {}", r.status)))?;
            let consent = match (
                r.consent_channel
                    .as_deref()
                    .and_then(ConsentChannel::from_db),
                r.consent_reference,
            ) {
                (Some(channel), Some(reference)) => Some(Consent { channel, reference }),
                _ => None,
            };
            let on_behalf = r
                .user_role
                .as_deref()
                .is_some_and(|role| role != "customer");
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut lines)
                .into_iter()
                .partition(|l| l.0 == r.id);
            lines = rest;
            Ok(Receipt {
                payment_id: r.id,
                number: r.number,
                status,
                company_code: CompanyCode::parse(&r.code)?,
                company_name: r.name,
                amount: Money::new(r.amount, currency),
                method: r
                    .method_label
                    .or(r.memo)
                    .unwrap_or_else(|| "Recorded outside Settle".into()),
                lines: mine
                    .into_iter()
                    .map(|(_, invoice_number, applied, after)| ReceiptLine {
                        invoice_number,
                        applied: Money::new(applied, currency),
                        new_balance: Money::new(after.unwrap_or_default(), currency),
                    })
                    .collect(),
                at: r.created_at,
                taken_by: r.user_name.unwrap_or_else(|| "ERP import".into()),
                on_behalf,
                consent,
                failure_message: r.failure_message,
            })
        })
        .collect()
}

/// A company's payments, newest first (the latest 200).
pub async fn history(pool: &PgPool, company_id: i64) -> Result<Vec<Receipt>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM payments WHERE company_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    receipts_in(&mut conn, &ids).await
}

/// One payment's receipt, if it is `company_id`'s.
pub async fn receipt(pool: &PgPool, payment_id: i64, company_id: i64) -> Result<Receipt> {
    let mine: Option<i64> =
        sqlx::query_scalar("SELECT id FROM payments WHERE id = $1 AND company_id = $2")
            .bind(payment_id)
            .bind(company_id)
            .fetch_optional(pool)
            .await?;
    let Some(id) = mine else {
        return Err(AppError::NotFound("Payment".into()).into());
    };
    let mut conn = pool.acquire().await?;
    receipt_in(&mut conn, id).await
}

/// Moves ACH payments on as the gateway settles or returns them: settled → `settled`;
/// returned → `returned` with the invoices' balances re-opened. Returns how many moved.
pub async fn sync_ach(
    pool: &PgPool,
    gateway: &crate::gateway::SandboxGateway,
    older_than: Duration,
) -> Result<usize> {
    let moved = gateway
        .advance_ach(older_than)
        .await
        .map_err(|e| Error::Other(e.to_string()))?;
    let mut done = 0;
    for charge in moved {
        let mut tx = pool.begin().await?;
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, company_id, number FROM payments WHERE gateway_charge_id = $1 AND status = 'pending' FOR UPDATE",
        )
        .bind(&charge.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((payment_id, company_id, number)) = row else {
            continue;
        };
        let returned = charge.status == ChargeStatus::Returned;
        sqlx::query("UPDATE payments SET status = $2, failure_code = $3, failure_message = $4, updated_at = now() WHERE id = $1")
            .bind(payment_id)
            .bind(if returned { "returned" } else { "settled" })
            .bind(&charge.code)
            .bind(&charge.message)
            .execute(&mut *tx)
            .await?;
        if returned {
            restore_balances(&mut tx, payment_id).await?;
        }
        audit::record(
            &mut tx,
            Event {
                actor: Actor::SYSTEM,
                on_behalf_company_id: Some(company_id),
                action: if returned {
                    "payment.returned"
                } else {
                    "payment.settled"
                },
                entity_type: "payment",
                entity_id: Some(number),
                details: json!({ "gateway_charge_id": charge.id, "code": charge.code }),
            },
        )
        .await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Every 30 s: finish payments stuck in `processing` and move ACH payments on.
pub fn spawn_housekeeping(state: crate::AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        let stuck_after = stuck_after(&state.config);
        loop {
            tick.tick().await;
            match reconcile(&state.pool, state.gateway.as_ref(), stuck_after).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(payments = n, "reconciled payments left processing"),
                Err(e) => tracing::warn!(error = %e, "reconciling payments"),
            }
            if let Err(e) = sync_ach(&state.pool, &state.gateway, Duration::from_secs(60)).await {
                tracing::warn!(error = %e, "syncing ACH payments");
            }
            match crate::methods::clear_unattached_documents(&state.pool).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(documents = n, "cleared uploads never attached to a method")
                }
                Err(e) => tracing::warn!(error = %e, "clearing unattached uploads"),
            }
        }
    });
}

//! The payment engine. A payment happens exactly once:
//!
//! 1. **Start** (one transaction): claim the idempotency key (a replay of the same key gets
//!    the first answer; the same key with other content is refused, unless its first attempt
//!    was refused by the gateway, which gives the key back), lock the invoices in id order and
//!    check them again, check the method, record the payment as `processing` and take its
//!    lines off the balances (so no one else can pay the same money meanwhile).
//! 2. **Charge** the gateway with the payment's gateway key, outside any transaction, waiting
//!    at most `SETTLE_GATEWAY_TIMEOUT_MS`.
//! 3. **Resolve** (one transaction): approved → `approved` (card) or `pending` (ACH);
//!    declined → `declined`; refused (nothing charged) → `failed`; the balances restored when
//!    no money moves, an audit row, and the answer stored with the key.
//!
//! A payment left `processing` (the gateway did not answer in time, a crash) is checked again
//! by [`reconcile`]: it sends the same charge with the same gateway key, which a gateway
//! answers with the charge it already has or makes now. So the answer is always definite and
//! never a second charge, and no check has to wait for a charge that may still be in flight.
//! Checks that cannot reach the gateway back off (5 s doubling to 5 min); meanwhile the
//! payment shows as "Checking with the gateway".

use crate::audit::{self, Actor, Event};
use crate::gateway::{within, Charge, ChargeStatus, GatewayError, PaymentGateway, LOOKUP_TIMEOUT};
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
    amount_field, check_line_against_balance, AwaitingGateway, Consent, ConsentChannel, MethodKind,
    PaymentOutcome, PaymentRequest, PaymentStatus, Receipt, ReceiptLine,
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
    /// The idempotency key the gateway gets: the form's key, and for a later attempt under a
    /// key whose first attempt was refused, the key and the attempt's number.
    pub gateway_key: String,
    pub token: String,
    pub amount: Money,
    pub kind: MethodKind,
}

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

/// What [`start`] found.
#[derive(Debug)]
pub enum StartOutcome {
    /// A new payment, to be charged.
    New(Started),
    /// The key was used before: here is its first answer.
    Replay(PaymentOutcome),
}

/// The answer to a gateway that refused the method itself (an unknown or revoked token):
/// nothing was charged, and the same form may pay with another method.
fn refusal() -> AppError {
    AppError::invalid(
        "method",
        "The payment gateway refused this payment method. Nothing was charged; choose another.",
    )
}

/// Pays `req` for `company_id` on behalf of (or as) `user`, exactly once per key.
pub async fn pay(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
    user: &SessionUser,
    company_id: i64,
    req: &PaymentRequest,
) -> Result<PaymentOutcome> {
    let started = match start(pool, config, user, company_id, req).await? {
        StartOutcome::Replay(outcome) => return Ok(outcome),
        StartOutcome::New(s) => s,
    };
    let charging = gateway.charge(&started.token, started.amount, &started.gateway_key);
    match within(config.gateway_timeout, charging).await {
        Ok(charge) => resolve(pool, started.payment_id, Resolution::Charged(&charge)).await,
        Err(GatewayError::Refused(reason)) => {
            resolve(pool, started.payment_id, Resolution::Refused(&reason)).await
        }
        Err(e) => {
            // The charge may or may not have happened: the reconciler asks again with the same
            // key. The balances stay held meanwhile.
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
    config: &crate::Config,
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
    // A key whose first attempt the gateway refused is free for another request (another
    // method); the same request again gets the refusal replayed.
    let claimed = claimed
        || sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $2, user_id = $3, refusal = NULL, response = NULL, \
                 completed_at = NULL WHERE key = $1 AND refusal IS NOT NULL AND request_hash <> $2",
        )
        .bind(key)
        .bind(&hash)
        .bind(user.id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
    if !claimed {
        tx.rollback().await?;
        return replay(pool, key, &hash).await.map(StartOutcome::Replay);
    }
    let earlier_attempts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments WHERE idempotency_key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
    let gateway_key = if earlier_attempts == 0 {
        key.to_string()
    } else {
        format!("{key}.{}", earlier_attempts + 1)
    };

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
             initiated_by, consent_channel, consent_reference, request_hash, gateway_key, gateway_answer_due_at, \
             next_gateway_check_at) \
         VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12), \
             now() + make_interval(secs => $12)) \
         RETURNING id, number",
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
    .bind(&gateway_key)
    .bind(first_check_after(config).as_secs_f64())
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
        gateway_key,
        token,
        amount,
        kind: option.kind,
    }))
}

/// The outcome of a key used before, waiting (up to 30 s) while its first request finishes.
async fn replay(pool: &PgPool, key: Uuid, hash: &[u8]) -> Result<PaymentOutcome> {
    let deadline = tokio::time::Instant::now() + REPLAY_WAIT;
    loop {
        let row: Option<(
            Vec<u8>,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        )> = sqlx::query_as(
            "SELECT request_hash, response, refusal FROM idempotency_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await?;
        let Some((stored_hash, response, refusal)) = row else {
            return Err(Error::Other("idempotency key vanished".into()));
        };
        if stored_hash != hash {
            return Err(AppError::invalid(
                "idempotency_key",
                "This payment form was already used for a different payment. Close it and open it again.",
            )
            .into());
        }
        if response.is_some() || refusal.is_some() {
            return stored_answer(response, refusal);
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

/// What the gateway said about a charge.
#[derive(Clone, Copy, Debug)]
pub enum Resolution<'a> {
    /// It has the charge (approved, declined, pending…).
    Charged(&'a Charge),
    /// It refused the request itself (e.g. an unknown token): nothing was charged.
    Refused(&'a str),
}

/// Step 3: records the gateway's answer — status, balances, audit row and the key's stored
/// answer in one transaction. Idempotent: a payment already resolved is left as it is and
/// its stored answer returned.
pub async fn finish(pool: &PgPool, payment_id: i64, charge: &Charge) -> Result<PaymentOutcome> {
    resolve(pool, payment_id, Resolution::Charged(charge)).await
}

/// [`finish`] for any [`Resolution`]; a refusal answers with the refusal error.
pub async fn resolve(
    pool: &PgPool,
    payment_id: i64,
    resolution: Resolution<'_>,
) -> Result<PaymentOutcome> {
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
    let (new_status, action, charge_id, code, message) = match resolution {
        Resolution::Charged(charge) => {
            let (status, action) = match charge.status {
                ChargeStatus::Approved => (PaymentStatus::Approved, "payment.approved"),
                ChargeStatus::Pending => (PaymentStatus::Pending, "payment.pending"),
                ChargeStatus::Settled => (PaymentStatus::Settled, "payment.settled"),
                ChargeStatus::Declined => (PaymentStatus::Declined, "payment.declined"),
                ChargeStatus::Returned => (PaymentStatus::Returned, "payment.returned"),
            };
            (
                status,
                action,
                Some(charge.id.clone()),
                charge.code.clone(),
                charge.message.clone(),
            )
        }
        Resolution::Refused(reason) => (
            PaymentStatus::Failed,
            "payment.failed",
            None,
            Some("refused".to_string()),
            Some(format!(
                "Not charged: the gateway refused the method ({reason})."
            )),
        ),
    };
    sqlx::query(
        "UPDATE payments SET status = $2, gateway_charge_id = $3, failure_code = $4, failure_message = $5, \
             next_gateway_check_at = NULL, last_gateway_error = NULL, updated_at = now() WHERE id = $1",
    )
    .bind(payment_id)
    .bind(new_status.as_db())
    .bind(&charge_id)
    .bind(&code)
    .bind(&message)
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
            details: json!({ "gateway_charge_id": charge_id, "code": code, "message": message }),
        },
    )
    .await?;
    let answer = match resolution {
        Resolution::Refused(_) => Err(refusal()),
        Resolution::Charged(_) if new_status.reduces_balance() => {
            Ok(PaymentOutcome::Paid(receipt_in(&mut tx, payment_id).await?))
        }
        Resolution::Charged(_) => Ok(PaymentOutcome::Declined {
            payment_number: number,
            code: code.unwrap_or_else(|| "declined".into()),
            message: message.unwrap_or_else(|| "The payment was declined.".into()),
        }),
    };
    let (response, refused) = match &answer {
        Ok(outcome) => (Some(to_json(outcome)?), None),
        Err(e) => (None, Some(to_json(e)?)),
    };
    sqlx::query(
        "UPDATE idempotency_keys SET response = $2, refusal = $3, completed_at = now() WHERE key = $1",
    )
    .bind(key)
    .bind(response)
    .bind(refused)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    answer.map_err(Error::from)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::Other(e.to_string()))
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
    let (response, refusal): (Option<serde_json::Value>, Option<serde_json::Value>) =
        sqlx::query_as("SELECT response, refusal FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
    stored_answer(response, refusal)
}

/// A key's stored first answer: an outcome, or the refusal error.
fn stored_answer(
    response: Option<serde_json::Value>,
    refusal: Option<serde_json::Value>,
) -> Result<PaymentOutcome> {
    let stored = |e: serde_json::Error| Error::Other(format!("stored answer: {e}"));
    match (response, refusal) {
        (Some(response), _) => serde_json::from_value(response).map_err(stored),
        (None, Some(refusal)) => Err(serde_json::from_value::<AppError>(refusal)
            .map_err(stored)?
            .into()),
        (None, None) => Err(Error::Other(
            "finished payment without a stored answer".into(),
        )),
    }
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
    let due: Vec<(i64, String, Option<String>, Decimal, String, i32)> = sqlx::query_as(
        "UPDATE payments p SET next_gateway_check_at = now() + make_interval(secs => $1) \
         FROM (SELECT id FROM payments WHERE status = 'processing' AND next_gateway_check_at <= now() \
               ORDER BY next_gateway_check_at LIMIT 100 FOR UPDATE SKIP LOCKED) d \
         WHERE p.id = d.id \
         RETURNING p.id, COALESCE(p.gateway_key, p.idempotency_key::text), \
             (SELECT gateway_token FROM payment_methods m WHERE m.id = p.method_id), p.amount, \
             p.currency::text, p.gateway_checks",
    )
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await?;
    let mut done = 0;
    for (payment_id, gateway_key, token, amount, currency, checks) in due {
        let currency: Currency = currency
            .parse()
            .map_err(|e: shared::money::UnknownCurrency| Error::Other(e.to_string()))?;
        let answer = match token {
            None => Err(GatewayError::Refused("the payment method is gone".into())),
            Some(token) => {
                let charging = gateway.charge(&token, Money::new(amount, currency), &gateway_key);
                within(config.reconcile_timeout, charging).await
            }
        };
        let resolution = match &answer {
            Ok(charge) => Resolution::Charged(charge),
            Err(GatewayError::Refused(reason)) => Resolution::Refused(reason),
            Err(e) => {
                let wait = backoff(checks + 1);
                tracing::warn!(payment_id, checks = checks + 1, error = %e, retry_in_secs = wait.as_secs(), "reconcile: gateway not reachable");
                sqlx::query(
                    "UPDATE payments SET gateway_checks = gateway_checks + 1, last_gateway_error = $2, \
                         next_gateway_check_at = now() + make_interval(secs => $3) \
                     WHERE id = $1 AND status = 'processing'",
                )
                .bind(payment_id)
                .bind(e.to_string())
                .bind(wait.as_secs_f64())
                .execute(pool)
                .await?;
                continue;
            }
        };
        match resolve(pool, payment_id, resolution).await {
            // A refusal is an answer too: the payment is resolved (failed).
            Ok(_) | Err(Error::App(AppError::Invalid(_))) => done += 1,
            Err(e) => return Err(e),
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
    checking: bool,
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
                p.consent_reference, p.failure_message, \
                (p.status = 'processing' AND p.gateway_answer_due_at <= now()) AS checking \
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
                checking_with_gateway: r.checking,
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

#[derive(sqlx::FromRow)]
struct AwaitingRow {
    id: i64,
    number: String,
    code: String,
    name: String,
    amount: Decimal,
    currency: String,
    method_label: Option<String>,
    created_at: DateTime<Utc>,
    age_seconds: f64,
    gateway_checks: i32,
    last_gateway_error: Option<String>,
    next_gateway_check_at: Option<DateTime<Utc>>,
}

/// Payments whose gateway answer is overdue, oldest first: what Settle is still asking the
/// gateway about (the latest 200).
pub async fn awaiting_gateway(pool: &PgPool) -> Result<Vec<AwaitingGateway>> {
    let rows: Vec<AwaitingRow> = sqlx::query_as(
        "SELECT p.id, p.number, c.code, c.name, p.amount, p.currency::text AS currency, p.method_label, \
                p.created_at, extract(epoch FROM now() - p.created_at)::float8 AS age_seconds, \
                p.gateway_checks, p.last_gateway_error, p.next_gateway_check_at \
         FROM payments p JOIN companies c ON c.id = p.company_id \
         WHERE p.status = 'processing' AND p.gateway_answer_due_at <= now() \
         ORDER BY p.created_at LIMIT 200",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let currency: Currency = r
                .currency
                .parse()
                .map_err(|e: shared::money::UnknownCurrency| Error::Other(e.to_string()))?;
            Ok(AwaitingGateway {
                payment_id: r.id,
                number: r.number,
                company_code: CompanyCode::parse(&r.code)?,
                company_name: r.name,
                amount: Money::new(r.amount, currency),
                method: r.method_label.unwrap_or_default(),
                started_at: r.created_at,
                age_seconds: r.age_seconds as i64,
                checks: r.gateway_checks,
                last_error: r.last_gateway_error,
                next_check_at: r.next_gateway_check_at,
            })
        })
        .collect()
}

/// Records how pending ACH payments ended at the gateway: each one is read again by its
/// gateway key until its end (settled, or returned with the invoices re-opened) is recorded in
/// its own transaction. A failure leaves that payment pending for the next pass and the others
/// go on: nothing the gateway reported is lost. Returns how many it recorded, and how many
/// it could not.
pub async fn sync_ach(pool: &PgPool, gateway: &dyn PaymentGateway) -> Result<AchSync> {
    let pending: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, COALESCE(gateway_key, idempotency_key::text) FROM payments \
         WHERE status = 'pending' AND idempotency_key IS NOT NULL ORDER BY created_at LIMIT 500",
    )
    .fetch_all(pool)
    .await?;
    let mut report = AchSync::default();
    for (payment_id, gateway_key) in pending {
        let charge = match within(LOOKUP_TIMEOUT, gateway.find_charge(&gateway_key)).await {
            Ok(Some(charge)) => charge,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(payment_id, error = %e, "ACH sync: gateway not reachable; will read again");
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
        match record_ach_end(pool, payment_id, &charge).await {
            Ok(true) => report.recorded += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(payment_id, error = %e, "ACH sync: could not record; will read again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// What one [`sync_ach`] pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AchSync {
    pub recorded: usize,
    pub failed: usize,
}

/// Records a pending ACH payment's end; `false` when it was no longer pending.
async fn record_ach_end(pool: &PgPool, payment_id: i64, charge: &Charge) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT company_id, number FROM payments WHERE id = $1 AND status = 'pending' FOR UPDATE",
    )
    .bind(payment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((company_id, number)) = row else {
        return Ok(false);
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
    Ok(true)
}

/// Background work: payments the gateway has not answered for, checked every
/// `SETTLE_RECONCILE_EVERY_MS` (the first pass at start-up, so a crash is recovered as soon as
/// its payments are due); and every 30 s the sandbox's own clock for ACH, the ACH sync and the
/// clearing of uploads never attached to a method.
pub fn spawn_housekeeping(state: crate::AppState) {
    let reconciling = state.clone();
    tokio::spawn(async move {
        let state = reconciling;
        let mut tick = tokio::time::interval(state.config.reconcile_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match reconcile(&state.pool, state.gateway.as_ref(), &state.config).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(payments = n, "reconciled payments left processing"),
                Err(e) => tracing::warn!(error = %e, "reconciling payments"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            // The sandbox's books move on by themselves, as a bank network's would.
            if let Some(sandbox) = &state.sandbox {
                if let Err(e) = sandbox.advance_ach(Duration::from_secs(60)).await {
                    tracing::warn!(error = %e, "sandbox ACH clock");
                }
            }
            match sync_ach(&state.pool, state.gateway.as_ref()).await {
                Ok(AchSync {
                    recorded: 0,
                    failed: 0,
                }) => {}
                Ok(r) => tracing::info!(recorded = r.recorded, failed = r.failed, "ACH sync"),
                Err(e) => tracing::warn!(error = %e, "syncing ACH payments"),
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

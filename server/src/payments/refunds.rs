//! Money given back, exactly once and never past what was paid:
//!
//! - A **refund** of a card payment (or a settled debit), per invoice line. Asked for under the
//!   payment's row lock: each line gives back at most what is left on it (what it paid less
//!   the refunds that hold: awaiting approval, pending, succeeded), so concurrent requests of
//!   the same line add up to it at most. Carried out in three steps as a payment is: the
//!   refund is recorded `pending` with its invoices reopened (one transaction), the gateway is
//!   asked under the refund's own key, and its answer recorded (another). A gateway that does
//!   not answer leaves it `pending`; [`sync_refunds`] asks again by the same key and never
//!   makes it twice. A refund that fails closes its invoices again, as far as they are still
//!   open (an invoice paid again meanwhile keeps the difference open and says so).
//! - Above the seller's approval limit, a refund waits (`awaiting_approval`, its lines held)
//!   until an admin other than the requester approves it (carried out once) or refuses it.
//! - A **reversal** of a payment recorded in the ERP: no money moves, its lines are reopened
//!   at once, audited.
//!
//! The ledger identity ([`crate::ledger`]) counts each line's `reopened` amount: per invoice,
//! total − balance = what counting payments applied − what their refunds and reversals hold
//! reopened.

use super::reconcile::{backoff, first_check_after};
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::{Admin, Staff};
use crate::companies::currency;
use crate::gateway::{within, GatewayError, PaymentGateway, Refund, RefundStatus as AtGateway};
use crate::idempotency;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use shared::money::Money;
use shared::payment::PaymentStatus;
use shared::reason::ReasonKind;
use shared::refund::{
    line_field, RefundAllowance, RefundKind, RefundLine, RefundRequest, RefundStatus, RefundView,
    ON_ACCOUNT_LINE,
};
use shared::{AppError, CompanyId, PaymentId, RefundId, UserId};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

/// How long a claimed check of a pending refund is kept from other instances.
const CHECK_LEASE: Duration = Duration::from_secs(120);
/// How often a refund the gateway reports pending is asked about again.
const PENDING_EVERY: Duration = Duration::from_secs(60);

/// Whether `staff` may give money back, and above which amount a second person approves.
pub async fn allowance(pool: &PgPool, staff: &Staff) -> Result<RefundAllowance> {
    let mut conn = pool.acquire().await?;
    Ok(RefundAllowance {
        may_refund: may_refund(&mut conn, staff).await?,
        approval_above: approval_limit(&mut conn).await?,
    })
}

/// Above this a refund waits for a second person.
async fn approval_limit(conn: &mut PgConnection) -> Result<Money> {
    let above = sqlx::query_scalar!("SELECT refund_approval_above FROM seller_settings")
        .fetch_one(conn)
        .await?;
    Ok(Money::usd(above))
}

/// Sets the amount above which a refund waits for an admin's approval.
pub async fn set_approval_limit(pool: &PgPool, admin: &Admin, above: Money) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!(
        "UPDATE seller_settings s SET refund_approval_above = $1, updated_at = now() \
         FROM (SELECT refund_approval_above FROM seller_settings FOR UPDATE) old \
         RETURNING old.refund_approval_above",
        above.amount()
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::RefundLimitChanged,
        Entity::Settings,
        "refund_approval_above",
        json!({ "from": before.to_string(), "to": above.amount().to_string() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a clerk the permission to refund, or takes it away.
pub async fn set_may_refund(pool: &PgPool, admin: &Admin, user: UserId, may: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    let email = sqlx::query_scalar!(
        "UPDATE users SET may_refund = $2, updated_at = now() WHERE id = $1 AND role IN ('admin', 'clerk') \
         RETURNING email",
        user as UserId,
        may
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("Staff user".into()))?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::UserRefundPermission,
        Entity::User,
        email,
        json!({ "may_refund": may }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn request_hash(req: &RefundRequest, kind: RefundKind) -> Vec<u8> {
    let canonical = json!({
        "payment": req.payment_id,
        "kind": format!("{kind:?}"),
        "lines": req.lines.iter().map(|l| json!([l.invoice_number, l.amount.amount().to_string()])).collect::<Vec<_>>(),
        "reason": req.reason,
        "note": req.note,
    });
    let canonical = match req.on_account {
        Some(m) => json!([canonical, "on_account", m.amount().to_string()]),
        None => canonical,
    };
    idempotency::hash(&[canonical.to_string().as_bytes()])
}

/// The payment a refund gives back from, locked.
struct Locked {
    company: CompanyId,
    number: String,
    status: PaymentStatus,
    erp: bool,
    charge_id: Option<String>,
    currency: String,
}

async fn lock_payment(conn: &mut PgConnection, payment: PaymentId) -> Result<Locked> {
    sqlx::query_as!(
        Locked,
        r#"SELECT company_id AS "company: CompanyId", number, status AS "status: PaymentStatus",
                  source = 'erp' AS "erp!", gateway_charge_id AS charge_id, currency::text AS "currency!"
           FROM payments WHERE id = $1 FOR UPDATE"#,
        payment as PaymentId
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("Payment".into()).into())
}

/// Checks each asked line against what is left on it (under the payment's lock), and returns
/// the invoices' ids in the request's order, each with its share of the line's card surcharge
/// given back in proportion: what the line's fee is after this refund, in proportion to what
/// of the line is given back in all, less what earlier refunds gave back of it (so a line given
/// back in full gives back its whole fee, to the cent).
async fn check_lines(
    conn: &mut PgConnection,
    payment: PaymentId,
    req: &RefundRequest,
) -> Result<Vec<(i64, Decimal)>> {
    let lines = sqlx::query!(
        r#"SELECT a.invoice_id, i.number, a.amount, a.fee, h.held AS "held!", h.fee_held AS "fee_held!"
           FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
           CROSS JOIN LATERAL (SELECT COALESCE(sum(rl.amount), 0) AS held, COALESCE(sum(rl.fee), 0) AS fee_held
                               FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
                               WHERE r.payment_id = a.payment_id AND rl.invoice_id = a.invoice_id
                                 AND r.status IN ('awaiting_approval', 'pending', 'succeeded')) h
           WHERE a.payment_id = $1"#,
        payment as PaymentId
    )
    .fetch_all(conn)
    .await?;
    let mut ids = Vec::with_capacity(req.lines.len());
    for asked in &req.lines {
        let field = line_field(&asked.invoice_number);
        let Some(line) = lines.iter().find(|l| l.number == asked.invoice_number) else {
            return Err(AppError::invalid(field, "This invoice is not in this payment.").into());
        };
        let left = Money::new(line.amount - line.held, asked.amount.currency());
        if left.is_zero() {
            return Err(AppError::invalid(
                field,
                format!("{} has already been given back in full.", line.number),
            )
            .into());
        }
        if asked.amount.amount() > left.amount() {
            return Err(AppError::invalid(
                field,
                format!(
                    "Only {} is left to give back on {}. Enter at most that.",
                    left.display(),
                    line.number
                ),
            )
            .into());
        }
        let fee_after = (line.fee * (line.held + asked.amount.amount()) / line.amount)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .min(line.fee);
        ids.push((
            line.invoice_id,
            (fee_after - line.fee_held).max(Decimal::ZERO),
        ));
    }
    Ok(ids)
}

/// Checks what is asked back of the payment's credit on account against what is unapplied of
/// it (locked: an application of the credit waits, or this waits for it).
async fn check_on_account(conn: &mut PgConnection, payment: PaymentId, asked: Money) -> Result<()> {
    let left = sqlx::query_scalar!(
        "SELECT remaining FROM credits WHERE payment_id = $1 FOR UPDATE",
        payment as PaymentId
    )
    .fetch_optional(conn)
    .await?;
    match left {
        None => {
            Err(AppError::invalid(ON_ACCOUNT_LINE, "This payment put nothing on account.").into())
        }
        Some(left) if asked.amount() > left => Err(AppError::invalid(
            ON_ACCOUNT_LINE,
            if left.is_zero() {
                "Its credit on account was all applied or given back already.".to_string()
            } else {
                format!(
                    "Only {} of its credit on account is unapplied. Enter at most that.",
                    Money::new(left, asked.currency()).display()
                )
            },
        )
        .into()),
        Some(_) => Ok(()),
    }
}

/// Gives a refund's share of the credit on account back to the credit (refused, failed or
/// cancelled: nothing left the seller).
async fn release_credit(conn: &mut PgConnection, refund: RefundId) -> Result<()> {
    sqlx::query!(
        "UPDATE credits c SET remaining = c.remaining + r.on_account, updated_at = now() \
         FROM refunds r WHERE r.id = $1 AND r.on_account > 0 AND c.payment_id = r.payment_id",
        refund as RefundId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `staff` may give money back (read now, not from the session).
pub(super) async fn may_refund(conn: &mut PgConnection, staff: &Staff) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT (role = 'admin' OR may_refund) AS "may!" FROM users WHERE id = $1 AND active"#,
        staff.id() as UserId
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(false))
}

/// Refunds (through the gateway) or reverses (an ERP record) what `req` asks, once per key:
/// the same key again answers with the same refund.
pub async fn give_back(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
    staff: &Staff,
    req: &RefundRequest,
) -> Result<RefundView> {
    let key = Uuid::parse_str(req.key.as_str()).map_err(|_| {
        AppError::invalid(
            "idempotency_key",
            "This refund form is out of date. Close it and open it again.",
        )
    })?;
    let mut tx = pool.begin().await?;
    let payment = lock_payment(&mut tx, req.payment_id).await?;
    let kind = if payment.erp {
        RefundKind::Reversal
    } else {
        RefundKind::Refund
    };
    let hash = request_hash(req, kind);
    // The same key again: the same refund (asked once, whatever the number of clicks).
    if let Some(done) = sqlx::query!(
        r#"SELECT id AS "id: RefundId", request_hash FROM refunds WHERE idempotency_key = $1"#,
        key
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        tx.rollback().await?;
        if done.request_hash != hash {
            return Err(AppError::invalid(
                "idempotency_key",
                "This refund form was already sent with other amounts. Close it and open it again.",
            )
            .into());
        }
        return view(pool, done.id).await;
    }
    if !may_refund(&mut tx, staff).await? {
        return Err(AppError::invalid(
            "lines",
            "You may not give money back. An admin can allow it for you under Staff Users.",
        )
        .into());
    }
    if let Some(why) = payment.status.not_refundable() {
        return Err(AppError::invalid("lines", why).into());
    }
    crate::reasons::active_label(&mut tx, ReasonKind::Refund, &req.reason, "reason").await?;
    let cur = currency(&payment.currency)?;
    if req.lines.iter().any(|l| l.amount.currency() != cur) {
        return Err(AppError::invalid("lines", format!("Enter amounts in {}.", cur.code())).into());
    }
    let checked = check_lines(&mut tx, req.payment_id, req).await?;
    if let Some(asked) = req.on_account {
        check_on_account(&mut tx, req.payment_id, asked).await?;
    }
    let invoice_ids: Vec<i64> = checked.iter().map(|c| c.0).collect();
    let fees: Vec<Decimal> = checked.iter().map(|c| c.1).collect();
    // The lines, their share of the card surcharge, and what goes back of the credit.
    let total = Money::new(
        req.total().amount() + fees.iter().copied().sum::<Decimal>(),
        cur,
    );
    let status = if payment.erp {
        RefundStatus::Succeeded
    } else if payment.charge_id.is_none() {
        return Err(AppError::invalid(
            "lines",
            "The gateway has no charge for this payment: there is nothing to refund through it.",
        )
        .into());
    } else if total.amount() > approval_limit(&mut tx).await?.amount() {
        RefundStatus::AwaitingApproval
    } else {
        RefundStatus::Pending
    };
    let gateway_key = if payment.erp {
        format!("reversal-{key}")
    } else {
        format!("refund-{key}")
    };
    let refund = sqlx::query!(
        r#"INSERT INTO refunds (payment_id, kind, amount, status, reason, note, idempotency_key, request_hash,
               gateway_key, requested_by, next_check_at, on_account)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                   CASE WHEN $4 = 'pending' THEN now() + make_interval(secs => $11) END, $12)
           RETURNING id AS "id: RefundId", number"#,
        req.payment_id as PaymentId,
        kind as RefundKind,
        total.amount(),
        status as RefundStatus,
        req.reason,
        req.note,
        key,
        hash,
        gateway_key,
        staff.id() as UserId,
        first_check_after(config).as_secs_f64(),
        req.on_account.map_or(Decimal::ZERO, |m| m.amount())
    )
    .fetch_one(&mut *tx)
    .await?;
    let amounts: Vec<Decimal> = req.lines.iter().map(|l| l.amount.amount()).collect();
    add_lines(&mut tx, refund.id, &invoice_ids, &amounts, &fees).await?;
    // What it gives back of the credit is held off the credit from now on (given back to the
    // credit if the refund is refused or fails).
    sqlx::query!(
        "UPDATE credits c SET remaining = c.remaining - r.on_account, updated_at = now() \
         FROM refunds r WHERE r.id = $1 AND r.on_account > 0 AND c.payment_id = r.payment_id",
        refund.id as RefundId
    )
    .execute(&mut *tx)
    .await?;
    if status != RefundStatus::AwaitingApproval {
        reopen(&mut tx, refund.id).await?;
    }
    audit::record(
        &mut tx,
        Event {
            actor: staff.actor(),
            on_behalf_of: Some(payment.company),
            action: match (payment.erp, status) {
                (true, _) => Action::PaymentReversed,
                (_, RefundStatus::AwaitingApproval) => Action::RefundRequested,
                _ => Action::RefundStarted,
            },
            entity: Entity::Payment,
            entity_id: Some(payment.number.clone()),
            details: json!({
                "refund": refund.number,
                "amount": total.amount().to_string(),
                "lines": req.lines.iter().map(|l| json!({"invoice": l.invoice_number, "amount": l.amount.amount().to_string()})).collect::<Vec<_>>(),
                "on_account": req.on_account.map(|m| m.amount().to_string()),
                "reason": req.reason,
                "note": req.note,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    if status == RefundStatus::Pending {
        send(pool, gateway, config, refund.id).await?;
    }
    view(pool, refund.id).await
}

/// Records a refund's share of each invoice line and of its card surcharge (nothing reopened
/// yet).
pub(super) async fn add_lines(
    conn: &mut PgConnection,
    refund: RefundId,
    invoices: &[i64],
    amounts: &[Decimal],
    fees: &[Decimal],
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO refund_lines (refund_id, invoice_id, amount, fee) \
         SELECT $1, l.invoice_id, l.amount, COALESCE(l.fee, 0) \
         FROM unnest($2::bigint[], $3::numeric[], $4::numeric[]) AS l(invoice_id, amount, fee)",
        refund as RefundId,
        invoices,
        amounts,
        fees
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What [`close_again`] could not close, as a sentence per invoice (empty when it closed all).
pub(super) fn paid_twice(kept: &[(String, Money)]) -> String {
    kept.iter()
        .map(|(number, open)| {
            format!(
                " {number} was paid again meanwhile: {} of it is paid twice and is owed back to the customer.",
                open.display()
            )
        })
        .collect()
}

/// Reopens a refund's invoices by its lines (those still open), and notes on each line what
/// it holds reopened.
pub(super) async fn reopen(conn: &mut PgConnection, refund: RefundId) -> Result<()> {
    sqlx::query!(
        "WITH opened AS (UPDATE invoices i SET balance = i.balance + rl.amount, updated_at = now() \
                         FROM (SELECT invoice_id, amount FROM refund_lines WHERE refund_id = $1 ORDER BY invoice_id) rl \
                         WHERE i.id = rl.invoice_id AND i.status = 'open' RETURNING i.id) \
         UPDATE refund_lines rl SET reopened = rl.amount FROM opened \
         WHERE rl.refund_id = $1 AND rl.invoice_id = opened.id",
        refund as RefundId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Asks the gateway for a pending refund under its key and records the answer; a gateway that
/// does not answer leaves it pending for [`sync_refunds`].
async fn send(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
    refund: RefundId,
) -> Result<()> {
    let r = sqlx::query!(
        r#"SELECT r.amount, p.currency::text AS "currency!", p.gateway_charge_id AS "charge!", r.gateway_key
           FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1"#,
        refund as RefundId
    )
    .fetch_one(pool)
    .await?;
    let amount = Money::new(r.amount, currency(&r.currency)?);
    let asked = within(
        config.gateway_timeout,
        gateway.refund(&r.charge, amount, &r.gateway_key),
    )
    .await;
    match asked {
        Ok(answer) => record(pool, refund, &answer).await,
        Err(GatewayError::Refused(why)) => {
            let refused = Refund {
                id: String::new(),
                status: AtGateway::Failed,
                message: Some(format!("The gateway refused the refund: {why}.")),
            };
            record(pool, refund, &refused).await
        }
        Err(e) => {
            tracing::warn!(refund_id = %refund, error = %e, "gateway did not answer a refund; asked again later");
            later(pool, refund, 1, &e.to_string()).await
        }
    }
}

/// Leaves a pending refund for a later check after its `checks`' backoff.
async fn later(pool: &PgPool, refund: RefundId, checks: i32, error: &str) -> Result<()> {
    sqlx::query!(
        "UPDATE refunds SET next_check_at = now() + make_interval(secs => $2), checks = $3, last_error = $4, \
             updated_at = now() WHERE id = $1 AND status = 'pending'",
        refund as RefundId,
        backoff(checks).as_secs_f64(),
        checks,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the gateway's answer about a pending refund (once: a refund no longer pending is
/// left as it is). Succeeded keeps the invoices reopened; failed or cancelled closes them
/// again as far as they are still open.
pub async fn record(pool: &PgPool, refund: RefundId, answer: &Refund) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT r.status AS "status: RefundStatus", p.number, p.company_id AS "company: CompanyId", r.number AS refund
           FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1 FOR UPDATE OF r"#,
        refund as RefundId
    )
    .fetch_one(&mut *tx)
    .await?;
    if row.status != RefundStatus::Pending {
        tx.rollback().await?;
        return Ok(());
    }
    let gateway_id = (!answer.id.is_empty()).then_some(answer.id.as_str());
    let (status, action, message) = match answer.status {
        AtGateway::Pending => {
            sqlx::query!(
                "UPDATE refunds SET gateway_refund_id = COALESCE($2, gateway_refund_id), checks = 0, last_error = NULL, \
                     next_check_at = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1",
                refund as RefundId,
                gateway_id,
                PENDING_EVERY.as_secs_f64()
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        AtGateway::Succeeded => (RefundStatus::Succeeded, Action::RefundSucceeded, None),
        AtGateway::Failed | AtGateway::Cancelled => {
            let status = if answer.status == AtGateway::Failed {
                RefundStatus::Failed
            } else {
                RefundStatus::Cancelled
            };
            let kept = close_again(&mut tx, refund).await?;
            let said = answer
                .message
                .clone()
                .unwrap_or_else(|| "The gateway could not make the refund.".into());
            let message = format!(
                "{said} Nothing was given back; the invoices were closed again.{}",
                paid_twice(&kept)
            );
            (status, Action::RefundFailed, Some(message))
        }
    };
    sqlx::query!(
        "UPDATE refunds SET status = $2, gateway_refund_id = COALESCE($3, gateway_refund_id), failure_message = $4, \
             next_check_at = NULL, last_error = NULL, updated_at = now() WHERE id = $1",
        refund as RefundId,
        status as RefundStatus,
        gateway_id,
        message
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: Some(row.company),
            action,
            entity: Entity::Payment,
            entity_id: Some(row.number),
            details: json!({ "refund": row.refund, "gateway_refund_id": gateway_id, "message": message }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a failed refund's reopened amounts off its invoices again, as far as each open
/// invoice's balance allows; returns the invoices where some stays open (paid again meanwhile)
/// with how much.
pub(super) async fn close_again(
    conn: &mut PgConnection,
    refund: RefundId,
) -> Result<Vec<(String, Money)>> {
    release_credit(&mut *conn, refund).await?;
    let rows = sqlx::query!(
        r#"WITH l AS (SELECT rl.invoice_id, CASE WHEN i.status = 'open' THEN LEAST(rl.reopened, i.balance) ELSE 0 END AS back
                      FROM refund_lines rl JOIN invoices i ON i.id = rl.invoice_id
                      WHERE rl.refund_id = $1 ORDER BY rl.invoice_id FOR UPDATE OF i),
                closed AS (UPDATE invoices i SET balance = i.balance - l.back, updated_at = now()
                           FROM l WHERE i.id = l.invoice_id AND l.back > 0 RETURNING i.id)
           UPDATE refund_lines rl SET reopened = rl.reopened - l.back FROM l, invoices i
           WHERE rl.refund_id = $1 AND rl.invoice_id = l.invoice_id AND i.id = l.invoice_id
           RETURNING i.number, rl.reopened - l.back AS "open!", i.currency::text AS "currency!""#,
        refund as RefundId
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .filter(|r| r.open > Decimal::ZERO)
        .map(|r| Ok((r.number, Money::new(r.open, currency(&r.currency)?))))
        .collect()
}

/// Approves a refund waiting for a second person, and carries it out (once: a second approval
/// finds it decided).
pub async fn approve(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
    admin: &Admin,
    refund: RefundId,
) -> Result<RefundView> {
    let mut tx = pool.begin().await?;
    let (payment, pending) = decide(&mut tx, admin, refund).await?;
    let locked = lock_payment(&mut tx, payment).await?;
    if let Some(why) = locked.status.not_refundable() {
        return Err(AppError::invalid("refund", why).into());
    }
    sqlx::query!(
        "UPDATE refunds SET status = 'pending', decided_by = $2, decided_at = now(), \
             next_check_at = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1",
        refund as RefundId,
        admin.id() as UserId,
        first_check_after(config).as_secs_f64()
    )
    .execute(&mut *tx)
    .await?;
    reopen(&mut tx, refund).await?;
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: Some(locked.company),
            action: Action::RefundApproved,
            entity: Entity::Payment,
            entity_id: Some(locked.number),
            details: json!({ "refund": pending.number, "amount": pending.amount.to_string() }),
        },
    )
    .await?;
    tx.commit().await?;
    send(pool, gateway, config, refund).await?;
    view(pool, refund).await
}

/// Refuses a refund waiting for approval, with the reason the requester sees.
pub async fn refuse(
    pool: &PgPool,
    admin: &Admin,
    refund: RefundId,
    reason: &str,
) -> Result<RefundView> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("refusal_reason", "Say why the refund is refused.").into());
    }
    if reason.chars().count() > shared::refund::NOTE_MAX {
        return Err(AppError::invalid(
            "refusal_reason",
            format!(
                "Keep the reason to {} characters.",
                shared::refund::NOTE_MAX
            ),
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    let (payment, pending) = decide(&mut tx, admin, refund).await?;
    release_credit(&mut tx, refund).await?;
    sqlx::query!(
        "UPDATE refunds SET status = 'refused', decided_by = $2, decided_at = now(), refusal_reason = $3, \
             updated_at = now() WHERE id = $1",
        refund as RefundId,
        admin.id() as UserId,
        reason
    )
    .execute(&mut *tx)
    .await?;
    let company = sqlx::query_scalar!(
        r#"SELECT company_id AS "c: CompanyId" FROM payments WHERE id = $1"#,
        payment as PaymentId
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: Some(company),
            action: Action::RefundRefused,
            entity: Entity::Payment,
            entity_id: Some(pending.payment_number),
            details: json!({ "refund": pending.number, "reason": reason }),
        },
    )
    .await?;
    tx.commit().await?;
    view(pool, refund).await
}

struct Waiting {
    number: String,
    amount: Decimal,
    payment_number: String,
}

/// Locks a refund that waits for approval and checks `admin` may decide it: not decided yet,
/// and asked by someone else.
async fn decide(
    conn: &mut PgConnection,
    admin: &Admin,
    refund: RefundId,
) -> Result<(PaymentId, Waiting)> {
    let r = sqlx::query!(
        r#"SELECT r.payment_id AS "payment: PaymentId", r.status AS "status: RefundStatus", r.requested_by AS "by: UserId",
                  r.number, r.amount, p.number AS payment_number, d.name AS "decided_by?"
           FROM refunds r JOIN payments p ON p.id = r.payment_id LEFT JOIN users d ON d.id = r.decided_by
           WHERE r.id = $1 FOR UPDATE OF r"#,
        refund as RefundId
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("Refund".into()))?;
    if r.status != RefundStatus::AwaitingApproval {
        let by = r.decided_by.unwrap_or_else(|| "someone else".into());
        return Err(AppError::invalid(
            "refund",
            format!(
                "{} was already decided by {by}: it is {}.",
                r.number,
                r.status.label().to_lowercase()
            ),
        )
        .into());
    }
    if r.by == Some(admin.id()) {
        return Err(AppError::invalid(
            "refund",
            "You asked for this refund: another admin approves or refuses it.",
        )
        .into());
    }
    Ok((
        r.payment,
        Waiting {
            number: r.number,
            amount: r.amount,
            payment_number: r.payment_number,
        },
    ))
}

/// Asks the gateway again about pending refunds that are due (a gateway that did not answer,
/// a refund it reported pending): by the refund's key, so a refund the gateway has is never
/// made twice; one it does not have is asked for again under the same key. Returns how many
/// ended.
pub async fn sync_refunds(pool: &PgPool, gateway: &dyn PaymentGateway) -> Result<usize> {
    let due = sqlx::query!(
        r#"UPDATE refunds r SET next_check_at = now() + make_interval(secs => $1), checks = r.checks + 1
           FROM (SELECT id FROM refunds WHERE status = 'pending' AND next_check_at <= now()
                 ORDER BY next_check_at LIMIT 100 FOR UPDATE SKIP LOCKED) d, payments p
           WHERE r.id = d.id AND p.id = r.payment_id
           RETURNING r.id AS "id: RefundId", r.gateway_key, r.amount, r.checks,
                     p.gateway_charge_id AS "charge!", p.currency::text AS "currency!""#,
        CHECK_LEASE.as_secs_f64()
    )
    .fetch_all(pool)
    .await?;
    let mut ended = 0;
    for r in due {
        let amount = Money::new(r.amount, currency(&r.currency)?);
        let asked = match within(
            crate::gateway::LOOKUP_TIMEOUT,
            gateway.find_refund(&r.charge, &r.gateway_key),
        )
        .await
        {
            Ok(Some(found)) => Ok(found),
            Ok(None) => {
                within(
                    crate::gateway::LOOKUP_TIMEOUT,
                    gateway.refund(&r.charge, amount, &r.gateway_key),
                )
                .await
            }
            Err(e) => Err(e),
        };
        match asked {
            Ok(answer) => {
                if answer.status != AtGateway::Pending {
                    ended += 1;
                }
                record(pool, r.id, &answer).await?;
            }
            Err(GatewayError::Refused(why)) => {
                ended += 1;
                let refused = Refund {
                    id: String::new(),
                    status: AtGateway::Failed,
                    message: Some(format!("The gateway refused the refund: {why}.")),
                };
                record(pool, r.id, &refused).await?;
            }
            Err(e) => later(pool, r.id, r.checks, &e.to_string()).await?,
        }
    }
    Ok(ended)
}

struct ViewRow {
    id: RefundId,
    number: String,
    kind: RefundKind,
    status: RefundStatus,
    amount: Decimal,
    currency: String,
    reason: String,
    reason_label: String,
    note: Option<String>,
    requested_by: String,
    created_at: DateTime<Utc>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    refusal_reason: Option<String>,
    failure_message: Option<String>,
    last_error: Option<String>,
    on_account: Decimal,
    payment_id: PaymentId,
    payment_number: String,
    company_code: String,
    company_name: String,
}

/// The refunds of `payments` (or those waiting for approval, with `awaiting`), oldest first,
/// in two queries.
pub(super) async fn views(
    conn: &mut PgConnection,
    payments: &[PaymentId],
    awaiting: bool,
    ids: &[RefundId],
) -> Result<Vec<RefundView>> {
    let payments: Vec<i64> = payments.iter().map(|p| p.0).collect();
    let ids: Vec<i64> = ids.iter().map(|r| r.0).collect();
    let rows = sqlx::query_as!(
        ViewRow,
        r#"SELECT r.id AS "id: RefundId", r.number, r.kind AS "kind: RefundKind", r.status AS "status: RefundStatus",
                  r.amount, p.currency::text AS "currency!", r.reason,
                  COALESCE(rc.label, replace(r.reason, '_', ' ')) AS "reason_label!", r.note,
                  COALESCE(u.name, 'The card network') AS "requested_by!", r.created_at,
                  d.name AS "decided_by?", r.decided_at, r.refusal_reason, r.failure_message, r.last_error, r.on_account,
                  p.id AS "payment_id: PaymentId", p.number AS payment_number, c.code AS company_code, c.name AS company_name
           FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN companies c ON c.id = p.company_id
           LEFT JOIN users u ON u.id = r.requested_by LEFT JOIN users d ON d.id = r.decided_by
           LEFT JOIN reason_codes rc ON rc.kind = 'refund' AND rc.code = r.reason AND r.kind <> 'dispute'
           WHERE r.payment_id = ANY($1) OR ($2 AND r.status = 'awaiting_approval') OR r.id = ANY($3)
           ORDER BY r.created_at, r.id LIMIT 500"#,
        &payments,
        awaiting,
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let refund_ids: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    let mut lines = sqlx::query!(
        r#"SELECT rl.refund_id AS "refund: RefundId", i.number, rl.amount, rl.fee FROM refund_lines rl
           JOIN invoices i ON i.id = rl.invoice_id WHERE rl.refund_id = ANY($1) ORDER BY i.number"#,
        &refund_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let cur = currency(&r.currency)?;
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut lines)
                .into_iter()
                .partition(|l| l.refund == r.id);
            lines = rest;
            let fee: Decimal = mine.iter().map(|l| l.fee).sum();
            let waiting = (r.status == RefundStatus::Pending)
                .then_some(r.last_error)
                .flatten()
                .map(|_| "The gateway has not answered yet: Settle keeps asking under the same key, so the refund is never made twice.".to_string());
            Ok(RefundView {
                id: r.id,
                number: r.number,
                kind: r.kind,
                status: r.status,
                amount: Money::new(r.amount, cur),
                lines: mine
                    .into_iter()
                    .map(|l| RefundLine {
                        invoice_number: l.number,
                        amount: Money::new(l.amount, cur),
                    })
                    .chain((fee > Decimal::ZERO).then(|| RefundLine {
                        invoice_number: "Card surcharge".into(),
                        amount: Money::new(fee, cur),
                    }))
                    .chain((r.on_account > Decimal::ZERO).then(|| RefundLine {
                        invoice_number: "On account".into(),
                        amount: Money::new(r.on_account, cur),
                    }))
                    .collect(),
                reason: r.reason,
                reason_label: r.reason_label,
                note: r.note,
                requested_by: r.requested_by,
                requested_at: r.created_at,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
                refusal_reason: r.refusal_reason,
                failure_message: r.failure_message.or(waiting),
                payment_id: r.payment_id,
                payment_number: r.payment_number,
                company_code: r.company_code,
                company_name: r.company_name,
            })
        })
        .collect()
}

async fn view(pool: &PgPool, refund: RefundId) -> Result<RefundView> {
    let mut conn = pool.acquire().await?;
    views(&mut conn, &[], false, &[refund])
        .await?
        .pop()
        .ok_or_else(|| Error::Other(format!("refund {refund} not found")))
}

/// Refunds waiting for an admin's approval, oldest first.
pub async fn awaiting_approval(pool: &PgPool, _staff: &Staff) -> Result<Vec<RefundView>> {
    let mut conn = pool.acquire().await?;
    views(&mut conn, &[], true, &[]).await
}

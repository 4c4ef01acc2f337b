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
//! by [`reconcile`]; ACH payments are followed to their end by [`sync_ach`]; receipts are
//! read in [`receipts`].

mod ach;
pub mod disputes;
mod receipts;
mod reconcile;
pub mod refunds;
pub mod report;
pub mod voids;

pub use ach::{
    end_debit, record_end, record_late_return, sync_ach, unknown_ach, AchSync, DebitEnd,
    UNKNOWN_FLAG_AGE,
};
pub use receipts::{history, receipt, receipt_by_link};
pub use reconcile::{awaiting_gateway, backoff, first_check_after, reconcile};

use crate::audit::Action;
use crate::authority::CompanyScope;
use crate::gateway::{within, Charge, ChargeStatus, GatewayError, PaymentGateway};
use crate::idempotency;
use crate::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;
use shared::auth::Role;
use shared::method::MethodKind;
use shared::money::Money;
use shared::payment::{
    amount_field, check_line_against_balance, reason_field, PaymentLine, PaymentOutcome,
    PaymentRequest, PaymentStatus,
};
use shared::reason::ReasonKind;
use shared::surcharge;
use shared::{ApiKeyId, AppError, CompanyId, InvoiceId, MethodId, PayLinkId, PaymentId, UserId};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

fn request_hash(req: &PaymentRequest, company: CompanyId) -> Vec<u8> {
    let canonical = json!({
        "company": company,
        "method": req.method_id,
        "lines": req.lines.iter().map(|l| {
            let mut line = json!([l.invoice_id, l.amount.amount().to_string(), l.short_pay_reason]);
            if let (Some(code), Some(parts)) = (&l.short_pay_code, line.as_array_mut()) {
                parts.push(json!(code));
            }
            line
        }).collect::<Vec<_>>(),
        "consent": [req.consent.channel.as_str(), req.consent.reference],
    });
    let canonical = match &req.policy_override {
        Some(why) => json!([canonical, why]),
        None => canonical,
    };
    let canonical = match &req.on_account {
        Some(extra) => json!([canonical, "on_account", extra.amount().to_string()]),
        None => canonical,
    };
    let canonical = if req.surcharge_seen.is_zero() {
        canonical
    } else {
        json!([
            canonical,
            "surcharge",
            req.surcharge_seen.amount().to_string()
        ])
    };
    idempotency::hash(&[canonical.to_string().as_bytes()])
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
    pub payment_id: PaymentId,
    pub key: Uuid,
    /// The idempotency key the gateway gets: the form's key, and for a later attempt under a
    /// key whose first attempt was refused, the key and the attempt's number.
    pub gateway_key: String,
    pub token: String,
    pub amount: Money,
    pub kind: MethodKind,
}

/// What [`start`] found.
#[derive(Debug)]
pub enum StartOutcome {
    /// A new payment, to be charged.
    New(Started),
    /// The key was used before: here is its first answer.
    Replay(Box<PaymentOutcome>),
}

/// The answer to a gateway that refused the method itself (an unknown or revoked token):
/// nothing was charged, and the same form may pay with another method.
fn refusal() -> AppError {
    AppError::invalid(
        "method",
        "The payment gateway refused this payment method. Nothing was charged; choose another.",
    )
}

/// Pays `req` for `company` on behalf of (or as) the acting user, exactly once per key.
pub async fn pay(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    config: &crate::Config,
    scope: &CompanyScope,
    req: &PaymentRequest,
    today: NaiveDate,
) -> Result<PaymentOutcome> {
    let started = match start(pool, config, scope, req, today).await? {
        StartOutcome::Replay(outcome) => return Ok(*outcome),
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
            tracing::warn!(payment_id = %started.payment_id, error = %e, "gateway did not answer; payment left for reconciliation");
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
    scope: &CompanyScope,
    req: &PaymentRequest,
    today: NaiveDate,
) -> Result<StartOutcome> {
    let company = scope.id();
    let key = parse_key(req)?;
    let hash = request_hash(req, company);
    // Whose key it is: the signed-in user's, or the pay link's (nobody signed in there).
    let (user, link) = (scope.initiator(), scope.pay_link().map(|l| l.id()));
    let mut tx = pool.begin().await?;
    let owner = idempotency::Owner { user, link };
    let claim = idempotency::claim_payment(&mut tx, key, owner, &hash).await?;
    if claim == idempotency::Claim::Used {
        tx.rollback().await?;
        return idempotency::replay_payment(pool, key, &hash)
            .await
            .map(|o| StartOutcome::Replay(Box::new(o)));
    }
    // A fresh key has no earlier attempt; a refused one taken again has.
    let earlier_attempts = if claim == idempotency::Claim::Fresh {
        0
    } else {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM payments WHERE idempotency_key = $1"#,
            key
        )
        .fetch_one(&mut *tx)
        .await?
    };
    let gateway_key = if earlier_attempts == 0 {
        key.to_string()
    } else {
        format!("{key}.{}", earlier_attempts + 1)
    };

    // Through a pay link: the link must still be payable, for its own invoices only, with no
    // other payment through it under way (its row lock orders two tabs paying at once).
    if let Some(link) = scope.pay_link() {
        crate::pay_links::check_in_payment(&mut tx, link, req).await?;
    }

    // Lock the invoices in id order (no deadlocks between payments) and check them again.
    let ids: Vec<i64> = req.lines.iter().map(|l| l.invoice_id.0).collect();
    let invoices = sqlx::query!(
        r#"SELECT id AS "id: InvoiceId", number, balance, company_id AS "company: CompanyId",
                  currency::text AS "currency!"
           FROM invoices WHERE id = ANY($1) ORDER BY id FOR UPDATE"#,
        &ids
    )
    .fetch_all(&mut *tx)
    .await?;
    let currency = req.total().currency();
    // Each line with its invoice's balance now, for the company's payment policy below.
    let mut balances: Vec<(&PaymentLine, Money)> = Vec::with_capacity(req.lines.len());
    for line in &req.lines {
        let Some(invoice) = invoices
            .iter()
            .find(|i| i.id == line.invoice_id && i.company == company)
        else {
            return Err(AppError::invalid(
                "invoices",
                "An invoice in this payment does not exist. Reload the page.",
            )
            .into());
        };
        if crate::companies::currency(&invoice.currency)? != currency {
            return Err(AppError::invalid(
                amount_field(line.invoice_id),
                format!("{} is billed in {}.", invoice.number, invoice.currency),
            )
            .into());
        }
        let balance = Money::new(invoice.balance, currency);
        if balance.is_zero() {
            return Err(AppError::invalid(
                amount_field(line.invoice_id),
                format!(
                    "The balance changed: {} has just been paid in full. Reload to see it.",
                    invoice.number
                ),
            )
            .into());
        }
        if line.amount.amount() > balance.amount() {
            return Err(AppError::invalid(
                amount_field(line.invoice_id),
                format!(
                    "The balance changed: {} now has {} left to pay. Enter at most that.",
                    invoice.number,
                    balance.display()
                ),
            )
            .into());
        }
        // What is left (a short payment needs its reason) is the same rule the form applies.
        check_line_against_balance(line, balance)?;
        balances.push((line, balance));
    }
    // Each short-pay reason one the seller offers (asked only when a line has one).
    let codes: Vec<String> = req
        .lines
        .iter()
        .filter_map(|l| l.short_pay_code.clone())
        .collect();
    if !codes.is_empty() {
        let offered = crate::reasons::active_among(&mut tx, ReasonKind::ShortPay, &codes).await?;
        if let Some(line) = req.lines.iter().find(|l| {
            l.short_pay_code
                .as_ref()
                .is_some_and(|c| !offered.contains(c))
        }) {
            return Err(crate::reasons::not_offered(&reason_field(line.invoice_id)).into());
        }
    }

    // The method: this company's, active, not expired. Locked so a deactivation waits for us
    // (or we see it).
    let Some(method) = crate::methods::lock_for_payment(&mut tx, req.method_id, company).await?
    else {
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
    let option = method.option;
    if option.is_expired(today) {
        return Err(AppError::invalid(
            "method",
            "This card has expired. Choose another payment method.",
        )
        .into());
    }

    let amount = req.total();
    // The company's payment policy (its own, else the seller's), whoever pays; staff may pay
    // outside it with a reason where the seller allows it.
    let policy = crate::policies::read(&mut tx, Some(company)).await?;
    let in_force = policy.in_force();
    let checked = in_force
        .check_on_account(req.on_account)
        .and_then(|()| in_force.check(option.kind(), amount, &balances));
    let policy_override = match checked {
        Ok(()) => None,
        Err(refusal) => match &req.policy_override {
            Some(why) if scope.is_staff() && policy.staff_may_override => Some(why.clone()),
            _ => return Err(AppError::Invalid(refusal).into()),
        },
    };
    // A credit card's surcharge on the invoices paid (never on what goes on account), spread
    // over the lines to the cent; the payer must have been shown the same fee.
    let lines_total =
        Money::sum(currency, req.lines.iter().map(|l| &l.amount)).unwrap_or(Money::zero(currency));
    let rate = policy
        .surcharge
        .rate_for(&option)
        .filter(|_| !req.lines.is_empty());
    let fee = rate.map_or(Money::zero(currency), |r| surcharge::fee(lines_total, r));
    let rate = rate.filter(|_| fee.is_positive());
    if fee != req.surcharge_seen {
        return Err(AppError::invalid(
            "method",
            match rate {
                Some(r) => format!(
                    "This payment carries a {}. Review the total and pay again.",
                    surcharge::line(r, fee)
                ),
                None => "This payment carries no card surcharge any more. Review the total and pay again.".to_string(),
            },
        )
        .into());
    }
    let fees = surcharge::spread(fee, &req.lines.iter().map(|l| l.amount).collect::<Vec<_>>());
    let charged = Money::new(amount.amount() + fee.amount(), currency);
    // The payment, every line off its balance and recorded as an allocation, what goes on
    // account as the company's credit (applicable once the payment clears, never an
    // invoice's), and the audit row: one statement (one round trip, one run of the
    // company-figures trigger).
    let line_amounts: Vec<Decimal> = req.lines.iter().map(|l| l.amount.amount()).collect();
    let line_codes: Vec<Option<String>> =
        req.lines.iter().map(|l| l.short_pay_code.clone()).collect();
    let line_reasons: Vec<Option<String>> = req
        .lines
        .iter()
        .map(|l| l.short_pay_reason.clone())
        .collect();
    let line_fees: Vec<Decimal> = fees.iter().map(Money::amount).collect();
    let actor = scope.actor();
    let details = json!({
        "amount": amount.amount().to_string(),
        "method": option.label(),
        "consent_channel": req.consent.channel.as_str(),
        "consent_reference": req.consent.reference,
        "policy_override": policy_override,
        "on_account": req.on_account.map(|m| m.amount().to_string()),
        "surcharge": rate.map(|r| json!({"percent": r.to_string(), "amount": fee.amount().to_string()})),
        "invoices": req.lines.iter().map(|l| json!({"invoice_id": l.invoice_id, "amount": l.amount.amount().to_string(), "short_pay_code": l.short_pay_code, "short_pay_reason": l.short_pay_reason})).collect::<Vec<_>>(),
    });
    let payment = sqlx::query!(
        r#"WITH p AS (
               INSERT INTO payments (company_id, method_id, method_label, currency, amount, status,
                   idempotency_key, initiated_by, consent_channel, consent_reference, request_hash,
                   gateway_key, gateway_answer_due_at, next_gateway_check_at, pay_link_id,
                   policy_override, on_account, surcharge, surcharge_percent)
               VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10, $11,
                   now() + make_interval(secs => $12), now() + make_interval(secs => $12), $13, $14,
                   COALESCE($15::numeric, 0), $16, $17)
               RETURNING id, number),
           line AS (
               SELECT * FROM unnest($18::bigint[], $19::numeric[], $20::text[], $21::text[], $22::numeric[])
                   AS l(invoice_id, amount, code, reason, fee)),
           taken AS (
               UPDATE invoices i SET balance = i.balance - line.amount, updated_at = now()
               FROM line WHERE i.id = line.invoice_id RETURNING i.id, i.balance),
           allocated AS (
               INSERT INTO payment_allocations (payment_id, invoice_id, amount, short_pay_code,
                                                short_pay_reason, balance_after, fee)
               SELECT p.id, line.invoice_id, line.amount, line.code, line.reason, taken.balance, line.fee
               FROM p, line JOIN taken ON taken.id = line.invoice_id
               RETURNING invoice_id),
           credit AS (
               INSERT INTO credits (company_id, currency, payment_id, amount, remaining)
               SELECT $1, $4, p.id, $15, $15 FROM p WHERE $15::numeric IS NOT NULL),
           audit AS (
               INSERT INTO audit_events (actor_user_id, actor_role, on_behalf_company_id, action,
                                         entity_type, entity_id, details, actor_api_key_id)
               SELECT $23, $24, $1, $25, 'payment', p.number, $26, $27 FROM p)
           SELECT p.id AS "id: PaymentId", p.number, (SELECT count(*) FROM allocated) AS "allocated!"
           FROM p"#,
        company as CompanyId,
        option.id as MethodId,
        option.label(),
        amount.currency().code(),
        charged.amount(),
        key,
        user as Option<UserId>,
        req.consent.channel.as_str(),
        req.consent.reference,
        hash,
        gateway_key,
        first_check_after(config).as_secs_f64(),
        link as Option<PayLinkId>,
        policy_override.as_deref(),
        req.on_account.map(|m| m.amount()),
        fee.amount(),
        rate,
        &ids,
        &line_amounts,
        &line_codes as &[Option<String>],
        &line_reasons as &[Option<String>],
        &line_fees,
        actor.user_id as Option<UserId>,
        actor.role as Option<Role>,
        Action::PaymentStarted as Action,
        details,
        actor.api_key_id as Option<ApiKeyId>
    )
    .fetch_one(&mut *tx)
    .await?;
    if payment.allocated != req.lines.len() as i64 {
        return Err(AppError::invalid(
            "invoices",
            "An invoice in this payment does not exist. Reload the page.",
        )
        .into());
    }
    tx.commit().await?;
    Ok(StartOutcome::New(Started {
        payment_id: payment.id,
        key,
        gateway_key,
        token: method.token,
        amount: charged,
        kind: option.kind(),
    }))
}

/// What the gateway said about a charge.
#[derive(Clone, Copy, Debug)]
pub enum Resolution<'a> {
    /// It has the charge (approved, declined, pending…).
    Charged(&'a Charge),
    /// It refused the request itself (e.g. an unknown token): nothing was charged.
    Refused(&'a str),
}

/// Step 3: records the gateway's answer. Idempotent: a payment already resolved is left as
/// it is and its stored answer returned.
pub async fn finish(pool: &PgPool, payment: PaymentId, charge: &Charge) -> Result<PaymentOutcome> {
    resolve(pool, payment, Resolution::Charged(charge)).await
}

/// What a resolution makes of a payment: its status, the audit action, and the gateway's
/// charge id, code and message.
struct Outcome {
    status: PaymentStatus,
    action: Action,
    charge_id: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

impl Outcome {
    fn of(resolution: Resolution<'_>) -> Self {
        match resolution {
            Resolution::Charged(charge) => {
                let (status, action) = match charge.status {
                    ChargeStatus::Approved => (PaymentStatus::Approved, Action::PaymentApproved),
                    ChargeStatus::Pending => (PaymentStatus::Pending, Action::PaymentPending),
                    ChargeStatus::Settled => (PaymentStatus::Settled, Action::PaymentSettled),
                    ChargeStatus::Declined => (PaymentStatus::Declined, Action::PaymentDeclined),
                    ChargeStatus::Returned => (PaymentStatus::Returned, Action::PaymentReturned),
                    ChargeStatus::Voided => (PaymentStatus::Voided, Action::PaymentVoided),
                };
                Outcome {
                    status,
                    action,
                    charge_id: Some(charge.id.clone()),
                    code: charge.code.clone(),
                    message: charge.message.clone(),
                }
            }
            Resolution::Refused(reason) => Outcome {
                status: PaymentStatus::Failed,
                action: Action::PaymentFailed,
                charge_id: None,
                code: Some("refused".to_string()),
                message: Some(format!(
                    "Not charged: the gateway refused the method ({reason})."
                )),
            },
        }
    }
}

/// [`finish`] for any [`Resolution`]: status, balances, audit row and the key's stored answer
/// at once. A refusal answers with the refusal error.
///
/// Money moved (approved, pending, settled): the answer is the payment's receipt, read first
/// (its lines were written when it started and do not change while it is processing), and one
/// statement records the rest. No money moved: the same statement, then the balances given
/// back, a decline counted against its pay link and the answer, in one transaction.
pub async fn resolve(
    pool: &PgPool,
    payment: PaymentId,
    resolution: Resolution<'_>,
) -> Result<PaymentOutcome> {
    let outcome = Outcome::of(resolution);
    if outcome.status.reduces_balance() {
        let (answer, recorded) = {
            let mut conn = pool.acquire().await?;
            let receipt = receipts::as_resolved(&mut conn, payment, outcome.status).await?;
            let answer = Ok(PaymentOutcome::Paid(receipt));
            let recorded = record(&mut conn, payment, &outcome, Some(&answer)).await?;
            (answer, recorded)
        };
        return match recorded {
            Some(_) => answer.map_err(Error::from),
            None => resolved_before(pool, payment).await,
        };
    }
    let mut tx = pool.begin().await?;
    let Some(row) = record(&mut tx, payment, &outcome, None).await? else {
        tx.rollback().await?;
        return resolved_before(pool, payment).await;
    };
    restore_balances(&mut tx, payment).await?;
    if outcome.status == PaymentStatus::Declined {
        // A decline through a pay link counts against it (the fifth locks it).
        crate::pay_links::count_decline(&mut tx, payment).await?;
    }
    let answer = match resolution {
        Resolution::Refused(_) => Err(refusal()),
        Resolution::Charged(_) => Ok(PaymentOutcome::Declined {
            payment_number: row.number,
            code: outcome.code.unwrap_or_else(|| "declined".into()),
            message: outcome
                .message
                .unwrap_or_else(|| "The payment was declined.".into()),
        }),
    };
    idempotency::store_payment(&mut tx, row.key, &answer).await?;
    tx.commit().await?;
    answer.map_err(Error::from)
}

/// A payment [`record`] has resolved: its number and idempotency key.
struct Recorded {
    number: String,
    key: Uuid,
}

/// One statement: the payment's new status (only while it is `processing`: a resolution that
/// comes second finds nothing and gets `None`), the pay link spent by a payment that moved
/// money, the audit row (as [`crate::audit::record`] writes it, by whoever started the payment), and
/// `answer`, when given, stored with the payment's key.
async fn record(
    conn: &mut PgConnection,
    payment: PaymentId,
    o: &Outcome,
    answer: Option<&std::result::Result<PaymentOutcome, AppError>>,
) -> Result<Option<Recorded>> {
    let (response, refusal) = match answer {
        Some(answer) => idempotency::stored_values(answer)?,
        None => (None, None),
    };
    let details = json!({ "gateway_charge_id": o.charge_id, "code": o.code, "message": o.message });
    Ok(sqlx::query_as!(
        Recorded,
        r#"WITH p AS (
               UPDATE payments SET status = $2, gateway_charge_id = $3, failure_code = $4,
                   failure_message = $5, next_gateway_check_at = NULL, last_gateway_error = NULL,
                   updated_at = now(), ach_next_check_at = CASE WHEN $2 = 'pending' THEN now() END
               WHERE id = $1 AND status = 'processing'
               RETURNING id, number, company_id, initiated_by, pay_link_id, idempotency_key),
           spent AS (
               UPDATE pay_links l SET paid_at = now(), payment_id = p.id FROM p
               WHERE $6 AND l.id = p.pay_link_id AND l.paid_at IS NULL),
           audit AS (
               INSERT INTO audit_events (actor_user_id, actor_role, on_behalf_company_id, action,
                                         entity_type, entity_id, details)
               SELECT p.initiated_by, u.role, p.company_id, $7, 'payment', p.number, $8
               FROM p LEFT JOIN users u ON u.id = p.initiated_by),
           answer AS (
               UPDATE idempotency_keys k SET response = $9, refusal = $10, completed_at = now()
               FROM p WHERE $11 AND k.key = p.idempotency_key)
           SELECT p.number, p.idempotency_key AS "key!" FROM p"#,
        payment as PaymentId,
        o.status as PaymentStatus,
        o.charge_id,
        o.code,
        o.message,
        o.status.reduces_balance(),
        o.action as Action,
        details,
        response,
        refusal,
        answer.is_some()
    )
    .fetch_optional(conn)
    .await?)
}

/// The answer stored for a payment resolved before.
async fn resolved_before(pool: &PgPool, payment: PaymentId) -> Result<PaymentOutcome> {
    let key = sqlx::query_scalar!(
        r#"SELECT idempotency_key AS "key!" FROM payments WHERE id = $1"#,
        payment as PaymentId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::Other(format!("payment {payment} not found")))?;
    idempotency::stored_payment(pool, key).await
}

/// Puts a payment's lines back on its invoices' balances (no money moved, or it came back):
/// each line's amount less what its refunds already reopened; and what its credit on account
/// was applied to (that credit no longer counts).
async fn restore_balances(conn: &mut PgConnection, payment: PaymentId) -> Result<()> {
    sqlx::query!(
        "UPDATE invoices i SET balance = i.balance + x.amount, updated_at = now() \
         FROM (SELECT ca.invoice_id, sum(ca.amount) AS amount FROM credit_applications ca \
               JOIN credits c ON c.id = ca.credit_id WHERE c.payment_id = $1 \
               GROUP BY ca.invoice_id ORDER BY ca.invoice_id) x \
         WHERE i.id = x.invoice_id AND i.status = 'open'",
        payment as PaymentId
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE invoices i SET balance = i.balance + a.amount, updated_at = now() \
         FROM (SELECT a.invoice_id, a.amount - COALESCE((SELECT sum(rl.reopened) FROM refund_lines rl \
                   JOIN refunds r ON r.id = rl.refund_id WHERE r.payment_id = a.payment_id \
                   AND rl.invoice_id = a.invoice_id), 0) AS amount \
               FROM payment_allocations a WHERE a.payment_id = $1 ORDER BY a.invoice_id) a \
         WHERE i.id = a.invoice_id AND a.amount > 0",
        payment as PaymentId
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

//! ACH payments after they are accepted: each `pending` one is read again from the gateway
//! by its key until its end — settled, or returned with its invoices re-opened — is recorded
//! in its own transaction. Each keeps its own next check (`ach_next_check_at`): a pass takes
//! the oldest due first (however many are pending, each comes round), asks a few at a time,
//! and backs off one the gateway cannot be asked about. A debit the gateway does not know is
//! asked about again, and once it is older than [`UNKNOWN_FLAG_AGE`] it is flagged to staff
//! (System → Awaiting gateway), never skipped silently. A failure leaves that one for a later
//! pass; nothing the gateway reported is lost.

use super::reconcile::{backoff, AwaitingRow};
use super::restore_balances;
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::Staff;
use crate::gateway::{within, Charge, ChargeStatus, PaymentGateway, LOOKUP_TIMEOUT};
use crate::Result;
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use shared::event::WireName;
use shared::payment::{AwaitingGateway, PaymentStatus};
use shared::{CompanyId, PaymentId};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// What one [`sync_ach`] pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AchSync {
    /// Ends (settled, returned) recorded.
    pub recorded: usize,
    /// Still pending at the gateway: asked again later.
    pub pending: usize,
    /// Unknown to the gateway.
    pub unknown: usize,
    /// The gateway could not be asked, or the end could not be recorded.
    pub failed: usize,
}

/// Debits taken per pass, and asked about at once.
const PER_PASS: i64 = 500;
const AT_ONCE: usize = 8;
/// A pending debit this old that the gateway does not know is shown to staff.
pub const UNKNOWN_FLAG_AGE: Duration = Duration::from_secs(3600);

/// What one debit's check found.
enum Found {
    Ended,
    Pending,
    Unknown,
    Failed(String),
}

/// Records how the pending ACH debits that are due ended at the gateway: the oldest due first
/// (up to 500 a pass, 8 asked at once), each given its next check. `every` is the normal wait
/// between two checks of a debit still pending.
pub async fn sync_ach(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    every: Duration,
) -> Result<AchSync> {
    // Claimed by moving their next check past this pass (another instance takes others).
    let lease = LOOKUP_TIMEOUT * 4 + Duration::from_secs(60);
    let due = sqlx::query!(
        r#"UPDATE payments p SET ach_next_check_at = now() + make_interval(secs => $1)
           FROM (SELECT id FROM payments WHERE status = 'pending' AND ach_next_check_at <= now()
                 ORDER BY ach_next_check_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) d
           WHERE p.id = d.id
           RETURNING p.id AS "id: PaymentId", COALESCE(p.gateway_key, p.idempotency_key::text) AS "gateway_key?",
                     p.ach_checks"#,
        lease.as_secs_f64(),
        PER_PASS
    )
    .fetch_all(pool)
    .await?;
    let checks = stream::iter(due)
        .map(|p| async move {
            let found = match p.gateway_key {
                None => Found::Unknown,
                Some(key) => match within(LOOKUP_TIMEOUT, gateway.find_charge(&key)).await {
                    Ok(None) => Found::Unknown,
                    Ok(Some(charge))
                        if matches!(
                            charge.status,
                            ChargeStatus::Settled | ChargeStatus::Returned | ChargeStatus::Voided
                        ) =>
                    {
                        match record_end(pool, p.id, &charge).await {
                            Ok(_) => Found::Ended,
                            Err(e) => Found::Failed(format!("could not record the end: {e}")),
                        }
                    }
                    Ok(Some(_)) => Found::Pending,
                    Err(e) => Found::Failed(e.to_string()),
                },
            };
            (p.id, p.ach_checks, found)
        })
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    if let Err(e) = schedule(pool, &checks, every).await {
        tracing::warn!(error = %e, "ACH sync: could not schedule the next checks; each is taken again when its claim ends");
    }
    let mut report = AchSync::default();
    for (id, _, found) in checks {
        match found {
            Found::Ended => report.recorded += 1,
            Found::Pending => report.pending += 1,
            Found::Unknown => {
                tracing::warn!(payment_id = %id, "ACH sync: the gateway does not know this debit; asked again later");
                report.unknown += 1;
            }
            Found::Failed(e) => {
                tracing::warn!(payment_id = %id, error = %e, "ACH sync: gateway not reachable; will read again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Sets each checked debit's next check after what its check found, in one statement
/// (nothing for one that ended): still pending, after `every`; unknown, after `every` or its
/// backoff, remembering since when; not reachable, after its backoff, with the error.
async fn schedule(
    pool: &PgPool,
    checks: &[(PaymentId, i32, Found)],
    every: Duration,
) -> Result<()> {
    let mut ids = Vec::new();
    let mut waits = Vec::new();
    let mut counts = Vec::new();
    let mut errors: Vec<Option<String>> = Vec::new();
    let mut unknown = Vec::new();
    for (id, checks, found) in checks {
        let (wait, count, error, is_unknown) = match found {
            Found::Ended => continue,
            Found::Pending => (every, 0, None, false),
            Found::Unknown => (every.max(backoff(checks + 1)), checks + 1, None, true),
            Found::Failed(e) => (backoff(checks + 1), checks + 1, Some(e.clone()), false),
        };
        ids.push(id.0);
        waits.push(wait.as_secs_f64());
        counts.push(count);
        errors.push(error);
        unknown.push(is_unknown);
    }
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE payments p SET ach_next_check_at = now() + make_interval(secs => n.wait), \
             ach_checks = n.checks, ach_last_error = n.error, \
             ach_unknown_since = CASE WHEN n.unknown THEN COALESCE(p.ach_unknown_since, now()) END \
         FROM unnest($1::bigint[], $2::float8[], $3::int[], $4::text[], $5::bool[]) \
              AS n(id, wait, checks, error, unknown) \
         WHERE p.id = n.id AND p.status = 'pending'",
        &ids,
        &waits,
        &counts,
        &errors as &[Option<String>],
        &unknown
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Pending ACH debits the gateway does not know, older than [`UNKNOWN_FLAG_AGE`]: for staff
/// to look into (oldest first, at most 200).
pub async fn unknown_ach(pool: &PgPool, _staff: &Staff) -> Result<Vec<AwaitingGateway>> {
    sqlx::query_as!(
        AwaitingRow,
        r#"SELECT p.id AS "id: PaymentId", p.number, c.code, c.name, p.amount,
                  p.currency::text AS "currency!", p.method_label, p.created_at,
                  extract(epoch FROM now() - p.created_at)::float8 AS "age_seconds!",
                  p.ach_checks AS gateway_checks,
                  COALESCE(p.ach_last_error, 'The gateway does not know this debit.') AS last_gateway_error,
                  p.ach_next_check_at AS next_gateway_check_at
           FROM payments p JOIN companies c ON c.id = p.company_id
           WHERE p.status = 'pending' AND p.ach_unknown_since IS NOT NULL
             AND p.created_at <= now() - make_interval(secs => $1)
           ORDER BY p.created_at LIMIT 200"#,
        UNKNOWN_FLAG_AGE.as_secs_f64()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(AwaitingRow::into_awaiting)
    .collect()
}

/// Records a pending ACH payment's end; `false` when it was no longer pending.
pub async fn record_end(pool: &PgPool, payment: PaymentId, charge: &Charge) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let status = match charge.status {
        ChargeStatus::Returned => PaymentStatus::Returned,
        ChargeStatus::Voided => PaymentStatus::Voided,
        _ => PaymentStatus::Settled,
    };
    let ended = end_debit(
        &mut tx,
        payment,
        &[PaymentStatus::Pending],
        DebitEnd {
            status,
            code: charge.code.as_deref(),
            message: charge.message.as_deref(),
            details: json!({ "gateway_charge_id": charge.id, "code": charge.code }),
            actor: Actor::SYSTEM,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ended.is_some())
}

/// Returns the network lets a consumer's bank send up to 60 days after settlement (the
/// debit was not authorized); any other return is due within 2 banking days.
const CONSUMER_LATE_CODES: [&str; 4] = ["R05", "R07", "R10", "R51"];

/// Records a return the bank sent after the debit of `charge_id` had settled: the payment is
/// returned, its invoices reopened (less what its refunds already reopened) and the payer's
/// contacts told, as an early return is. A return outside the network's window for the
/// account (an unauthorized return on a business account, or past 60 days) is recorded all
/// the same — the money is gone — and says that the seller may dishonor it with its bank.
/// Returns the payment's number, or `None` when no settled payment has the charge.
pub async fn record_late_return(
    pool: &PgPool,
    charge_id: &str,
    code: &str,
    message: &str,
) -> Result<Option<String>> {
    let mut tx = pool.begin().await?;
    let Some(p) = sqlx::query!(
        r#"SELECT p.id AS "id: PaymentId", m.holder_type, (now() - p.created_at) > interval '60 days' AS "old!"
           FROM payments p LEFT JOIN payment_methods m ON m.id = p.method_id
           WHERE p.gateway_charge_id = $1"#,
        charge_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let within = CONSUMER_LATE_CODES.contains(&code)
        && p.holder_type.as_deref() == Some("personal")
        && !p.old;
    let message = if within {
        format!("{message} Returned after it had settled.")
    } else {
        format!(
            "{message} Returned after it had settled, outside the network's window for this account: the seller may dishonor the return through its bank within 5 banking days."
        )
    };
    let ended = end_debit(
        &mut tx,
        p.id,
        &[PaymentStatus::Settled],
        DebitEnd {
            status: PaymentStatus::Returned,
            code: Some(code),
            message: Some(&message),
            details: json!({ "gateway_charge_id": charge_id, "code": code, "late": true, "within_window": within }),
            actor: Actor::SYSTEM,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ended.map(|(number, _)| number))
}

/// How an ACH debit ended.
pub struct DebitEnd<'a> {
    /// Settled, returned or voided.
    pub status: PaymentStatus,
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
    /// What the audit row keeps about where the end came from.
    pub details: serde_json::Value,
    /// Who ended it: the system (the gateway or the bank said so), or who voided it.
    pub actor: Actor,
}

/// Ends an ACH debit in `conn`'s transaction when its payment's status is one of `from`:
/// its status, code and message; a return or a void reopens its invoices by what it paid.
/// Audited as `end.actor`'s act. Returns the payment's number and earlier status, or `None` when its status
/// was not one of `from` (nothing changed).
pub async fn end_debit(
    conn: &mut PgConnection,
    payment: PaymentId,
    from: &[PaymentStatus],
    end: DebitEnd<'_>,
) -> Result<Option<(String, PaymentStatus)>> {
    // Locked, checked and changed in one statement; the status it had comes back with it.
    let from: Vec<&str> = from.iter().map(|s| s.wire()).collect();
    let row = sqlx::query!(
        r#"WITH before AS (SELECT id, status FROM payments WHERE id = $1 FOR UPDATE)
           UPDATE payments p SET status = $2, failure_code = $3, failure_message = $4, updated_at = now()
           FROM before WHERE p.id = before.id AND before.status = ANY($5)
           RETURNING p.company_id AS "company: CompanyId", p.number, before.status AS "status: PaymentStatus""#,
        payment as PaymentId,
        end.status as PaymentStatus,
        end.code,
        end.message,
        &from as &[&str]
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if !end.status.reduces_balance() {
        restore_balances(&mut *conn, payment).await?;
    }
    audit::record(
        &mut *conn,
        Event {
            actor: end.actor,
            on_behalf_of: Some(row.company),
            action: match end.status {
                PaymentStatus::Returned => Action::PaymentReturned,
                PaymentStatus::Voided => Action::PaymentVoided,
                _ => Action::PaymentSettled,
            },
            entity: Entity::Payment,
            entity_id: Some(row.number.clone()),
            details: end.details,
        },
    )
    .await?;
    Ok(Some((row.number, row.status)))
}

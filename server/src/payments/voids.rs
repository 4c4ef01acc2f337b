//! Voiding an ACH debit before it settles, as its rail allows: taken out where it has not
//! reached the bank (the sandbox; a NACHA entry in no file yet; a Stripe intent not yet
//! confirmed), reversed by a credit of the same amount in the next file where a NACHA file
//! sent it (an erroneous entry only, within the rules' five banking days), refused with the
//! reason where the rail allows neither (a Stripe debit `processing`: refunded once settled).
//!
//! The gateway is asked first, with no lock held (a void is the same void asked again, under
//! a key of the payment's); the payment is then ended `voided` under its row lock, its
//! invoices reopened, only if it is still pending. A crash between the two leaves the debit
//! voided at the gateway, which [`super::sync_ach`] reads and records; a return or a
//! settlement recorded first wins, and the void says so.

use super::ach::{end_debit, DebitEnd};
use super::refunds::may_refund;
use crate::authority::Staff;
use crate::gateway::{within, GatewayError, PaymentGateway, VoidOffer, Voided, LOOKUP_TIMEOUT};
use crate::{Error, Result};
use serde_json::json;
use shared::payment::PaymentStatus;
use shared::reason::ReasonKind;
use shared::refund::{label_in, VoidChoice, VoidInput, REVERSAL_REASONS};
use shared::{AppError, PaymentId, UserId};
use sqlx::PgPool;

/// The payment a void is about.
struct Debit {
    number: String,
    status: PaymentStatus,
    charge_id: Option<String>,
    gateway_key: String,
}

async fn debit(pool: &PgPool, payment: PaymentId) -> Result<Debit> {
    sqlx::query_as!(
        Debit,
        r#"SELECT number, status AS "status: PaymentStatus", gateway_charge_id AS charge_id,
                  COALESCE(gateway_key, idempotency_key::text) AS "gateway_key!"
           FROM payments WHERE id = $1"#,
        payment as PaymentId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Payment".into()).into())
}

/// Why a payment in `status` cannot be voided, if so.
fn not_voidable(status: PaymentStatus) -> Option<&'static str> {
    match status {
        PaymentStatus::Pending => None,
        PaymentStatus::Settled => {
            Some("This debit has settled: it can no longer be voided, only refunded.")
        }
        PaymentStatus::Voided => Some("This debit has already been voided."),
        _ => Some("Only an ACH debit that has not settled can be voided."),
    }
}

/// What `staff` may do now about `payment`, as its rail says.
pub async fn choice(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    staff: &Staff,
    payment: PaymentId,
) -> Result<VoidChoice> {
    let d = debit(pool, payment).await?;
    if let Some(why) = not_voidable(d.status) {
        return Ok(VoidChoice::No(why.into()));
    }
    if !may_refund(&mut *pool.acquire().await?, staff).await? {
        return Ok(VoidChoice::No(NOT_ALLOWED.into()));
    }
    let Some(charge) = d.charge_id else {
        return Ok(VoidChoice::No(
            "The gateway has no debit for this payment yet.".into(),
        ));
    };
    Ok(
        match within(LOOKUP_TIMEOUT, gateway.void_offer(&charge)).await {
            Ok(VoidOffer::Cancel) => VoidChoice::Cancel,
            Ok(VoidOffer::Reverse { until }) => VoidChoice::Reverse { until },
            Ok(VoidOffer::No(why)) | Err(GatewayError::Refused(why)) => VoidChoice::No(why),
            Err(e) => return Err(unreachable(e)),
        },
    )
}

const NOT_ALLOWED: &str =
    "You may not give money back. An admin can allow it for you under Staff Users.";

fn unreachable(e: GatewayError) -> Error {
    AppError::invalid(
        "void",
        format!("{e}. Nothing was changed: try again in a minute."),
    )
    .into()
}

/// Voids the debit as `input` asks (taken out, or reversed); the same void asked again
/// answers as the first. Returns the sentence that says what was done.
pub async fn void(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    staff: &Staff,
    input: &VoidInput,
) -> Result<String> {
    let (reason, note) = input.check()?;
    let label = if input.reverse {
        label_in(&REVERSAL_REASONS, &reason)
    } else {
        let mut conn = pool.acquire().await?;
        crate::reasons::active_label(&mut conn, ReasonKind::Refund, &reason, "reason").await?
    };
    let d = debit(pool, input.payment_id).await?;
    if d.status == PaymentStatus::Voided {
        return Ok(format!("{} was already voided.", d.number));
    }
    if let Some(why) = not_voidable(d.status) {
        return Err(AppError::invalid("void", why).into());
    }
    if !may_refund(&mut *pool.acquire().await?, staff).await? {
        return Err(AppError::invalid("void", NOT_ALLOWED).into());
    }
    let charge = d.charge_id.ok_or_else(|| {
        AppError::invalid("void", "The gateway has no debit for this payment yet.")
    })?;
    let key = format!("void-{}", d.gateway_key);
    let how = match within(LOOKUP_TIMEOUT, gateway.void(&charge, input.reverse, &key)).await {
        Ok(how) => how,
        Err(GatewayError::Refused(why)) => return Err(AppError::invalid("void", why).into()),
        Err(GatewayError::Timeout) => {
            return Err(AppError::invalid(
                "void",
                "The gateway did not answer in time. If it voided the debit, Settle records it within minutes; otherwise try again.",
            )
            .into())
        }
        Err(e) => return Err(unreachable(e)),
    };
    let who = sqlx::query_scalar!("SELECT name FROM users WHERE id = $1", staff.id() as UserId)
        .fetch_one(pool)
        .await?;
    let (code, what) = match how {
        Voided::Cancelled => ("voided", "taken out before it reached the bank"),
        Voided::Reversed => ("reversed", "reversed by a credit in the next file"),
    };
    let message = match &note {
        Some(note) => format!("Voided by {who}, {what}: {label}. {note}"),
        None => format!("Voided by {who}, {what}: {label}."),
    };
    let mut tx = pool.begin().await?;
    let ended = end_debit(
        &mut tx,
        input.payment_id,
        &[PaymentStatus::Pending],
        DebitEnd {
            status: PaymentStatus::Voided,
            code: Some(code),
            message: Some(&message),
            details: json!({ "gateway_charge_id": charge, "how": code, "reason": reason, "note": note }),
            actor: staff.actor(),
        },
    )
    .await?;
    tx.commit().await?;
    match ended {
        Some(_) => Ok(format!(
            "{} is voided ({what}); its invoices are open again.",
            d.number
        )),
        None => {
            let now = debit(pool, input.payment_id).await?;
            Ok(match now.status {
                PaymentStatus::Voided => format!("{} was already voided.", d.number),
                other => format!(
                    "{} was {} meanwhile: nothing was voided in Settle.",
                    d.number,
                    other.label().to_lowercase()
                ),
            })
        }
    }
}

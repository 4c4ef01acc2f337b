//! Receipts: what a payment was, what each invoice got, and who took it on whose behalf.

use crate::authority::{CompanyScope, Principal};
use crate::companies::currency;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Role;
use shared::company::CompanyCode;
use shared::money::Money;
use shared::payment::{
    Consent, ConsentChannel, OnAccount, PaymentStatus, Receipt, ReceiptLine, SurchargeLine,
};
use shared::reason::short_pay_text;
use shared::refund::RefundStatus;
use shared::{AppError, CompanyId, PaymentId};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

struct ReceiptRow {
    id: PaymentId,
    number: String,
    status: PaymentStatus,
    code: String,
    name: String,
    amount: Decimal,
    currency: String,
    method_label: Option<String>,
    memo: Option<String>,
    created_at: DateTime<Utc>,
    user_name: Option<String>,
    user_role: Option<Role>,
    consent_channel: Option<ConsentChannel>,
    consent_reference: Option<String>,
    failure_message: Option<String>,
    checking: bool,
    dispute_amount: Option<Decimal>,
    dispute_reason: Option<String>,
    dispute_status: Option<String>,
    dispute_due: Option<DateTime<Utc>>,
    erp: bool,
    surcharge: Decimal,
    surcharge_percent: Option<Decimal>,
    lines: Json<Vec<LineRow>>,
    credit_number: Option<String>,
    credit_amount: Option<Decimal>,
    credit_remaining: Option<Decimal>,
}

pub(super) async fn receipt_in(conn: &mut PgConnection, payment: PaymentId) -> Result<Receipt> {
    one_receipt(conn, payment, true, None).await
}

/// The receipt of a processing payment as it will read once resolved with `status` (read
/// before the statement that records it): nothing can have been given back yet, so the
/// refunds are not looked up.
pub(super) async fn as_resolved(
    conn: &mut PgConnection,
    payment: PaymentId,
    status: PaymentStatus,
) -> Result<Receipt> {
    one_receipt(conn, payment, false, Some(status)).await
}

async fn one_receipt(
    conn: &mut PgConnection,
    payment: PaymentId,
    given_back: bool,
    resolved: Option<PaymentStatus>,
) -> Result<Receipt> {
    receipts_in(conn, &[payment], given_back, resolved)
        .await?
        .pop()
        .ok_or_else(|| Error::Other(format!("payment {payment} not found")))
}

/// A dispute as the receipt says it: amount, reason, where it stands and, while evidence
/// is wanted, by when.
fn dispute_line(amount: Money, reason: &str, status: &str, due: Option<DateTime<Utc>>) -> String {
    let reason = reason.replace('_', " ");
    let stands = match status {
        "won" => "won: the money stays with you".to_string(),
        "lost" => "lost: the cardholder's bank took the money back".to_string(),
        "under_review" => "under review by the cardholder's bank".to_string(),
        "warning_closed" => "closed (it was an inquiry)".to_string(),
        other => other.replace('_', " "),
    };
    let wants_evidence = matches!(status, "needs_response" | "warning_needs_response");
    match due {
        Some(day) if wants_evidence => format!(
            "Disputed {} ({reason}): {stands}, evidence due {}",
            amount.display(),
            shared::format::date(day.date_naive())
        ),
        _ => format!("Disputed {} ({reason}): {stands}", amount.display()),
    }
}

/// One invoice's line of a receipt, as [`receipts_in`] reads it (amounts as text: exact).
#[derive(serde::Deserialize)]
struct LineRow {
    number: String,
    amount: Decimal,
    balance_after: Option<Decimal>,
    fee: Decimal,
    short_pay_label: Option<String>,
    short_pay_reason: Option<String>,
    left: Decimal,
}

/// The receipts of `ids`, newest first, in one query whatever their number (each payment's
/// lines and credit on account in its row); `given_back` adds the refunds (a second query;
/// a payment being resolved has none). `resolved` reads a payment as it will be once
/// resolved with that status (the statement recording it runs after the read).
async fn receipts_in(
    conn: &mut PgConnection,
    ids: &[PaymentId],
    given_back: bool,
    resolved: Option<PaymentStatus>,
) -> Result<Vec<Receipt>> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut rows = sqlx::query_as!(
        ReceiptRow,
        r#"SELECT p.id AS "id: PaymentId", p.number, p.status AS "status: PaymentStatus", c.code,
                  c.name, p.amount, p.currency::text AS "currency!", p.method_label, p.memo,
                  p.created_at, COALESCE(u.name, lc.name) AS "user_name?", u.role AS "user_role?: Role",
                  p.consent_channel AS "consent_channel: ConsentChannel", p.consent_reference,
                  p.failure_message,
                  (p.status = 'processing' AND p.gateway_answer_due_at <= now()) AS "checking!",
                  d.amount AS "dispute_amount?", d.reason AS "dispute_reason?",
                  d.status AS "dispute_status?", d.evidence_due_by AS "dispute_due?",
                  p.source = 'erp' AS "erp!", p.surcharge, p.surcharge_percent,
                  COALESCE((SELECT json_agg(json_build_object(
                                'number', i.number, 'amount', a.amount::text,
                                'balance_after', a.balance_after::text, 'fee', a.fee::text,
                                'short_pay_label', rc.label, 'short_pay_reason', a.short_pay_reason,
                                'left', (a.amount - (SELECT COALESCE(sum(rl.amount), 0) FROM refund_lines rl
                                                     JOIN refunds r ON r.id = rl.refund_id
                                                     WHERE r.payment_id = a.payment_id AND rl.invoice_id = a.invoice_id
                                                       AND r.status IN ('awaiting_approval', 'pending', 'succeeded')))::text)
                                ORDER BY i.due_date, i.number)
                            FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
                            LEFT JOIN reason_codes rc ON rc.kind = 'short_pay' AND rc.code = a.short_pay_code
                            WHERE a.payment_id = p.id), '[]') AS "lines!: Json<Vec<LineRow>>",
                  cr.number AS "credit_number?", cr.amount AS "credit_amount?", cr.remaining AS "credit_remaining?"
           FROM payments p JOIN companies c ON c.id = p.company_id
           LEFT JOIN users u ON u.id = p.initiated_by
           LEFT JOIN pay_links l ON l.id = p.pay_link_id LEFT JOIN contacts lc ON lc.id = l.contact_id
           LEFT JOIN LATERAL (SELECT amount, reason, status, evidence_due_by FROM payment_disputes
                              WHERE payment_id = p.id ORDER BY opened_at DESC LIMIT 1) d ON true
           LEFT JOIN LATERAL (SELECT number, amount, remaining FROM credits
                              WHERE payment_id = p.id ORDER BY id LIMIT 1) cr ON true
           WHERE p.id = ANY($1) ORDER BY p.created_at DESC, p.id DESC"#,
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    if let Some(status) = resolved {
        for r in &mut rows {
            r.status = status;
            r.checking = false;
        }
    }
    let payment_ids: Vec<PaymentId> = ids.iter().map(|id| PaymentId(*id)).collect();
    let mut refunds = if given_back {
        super::refunds::views(&mut *conn, &payment_ids, false, &[]).await?
    } else {
        Vec::new()
    };
    rows.into_iter()
        .map(|r| {
            let cur = currency(&r.currency)?;
            let consent = match (r.consent_channel, r.consent_reference) {
                (Some(channel), Some(reference)) => Some(Consent { channel, reference }),
                _ => None,
            };
            let on_behalf = r.user_role.is_some_and(Role::is_staff);
            let (given, others): (Vec<_>, Vec<_>) = std::mem::take(&mut refunds)
                .into_iter()
                .partition(|g| g.payment_id == r.id);
            refunds = others;
            let may_give_back =
                matches!(r.status, PaymentStatus::Approved | PaymentStatus::Settled);
            let on_account = match (r.credit_number, r.credit_amount, r.credit_remaining) {
                (Some(credit_number), Some(amount), Some(remaining)) => Some(OnAccount {
                    credit_number,
                    amount: Money::new(amount, cur),
                    unapplied: Money::new(remaining, cur),
                    refundable: may_give_back.then(|| Money::new(remaining, cur)),
                }),
                _ => None,
            };
            Ok(Receipt {
                payment_id: r.id,
                number: r.number,
                status: r.status,
                company_code: CompanyCode::parse(&r.code)?,
                company_name: r.name,
                amount: Money::new(r.amount, cur),
                method: r
                    .method_label
                    .or(r.memo)
                    .unwrap_or_else(|| "Recorded outside Settle".into()),
                lines: r
                    .lines
                    .0
                    .into_iter()
                    .map(|l| ReceiptLine {
                        invoice_number: l.number,
                        applied: Money::new(l.amount, cur),
                        new_balance: Money::new(l.balance_after.unwrap_or_default(), cur),
                        refundable: may_give_back.then(|| Money::new(l.left, cur)),
                        short_pay: short_pay_text(
                            l.short_pay_label.as_deref(),
                            l.short_pay_reason.as_deref(),
                        ),
                        fee: (l.fee > Decimal::ZERO).then(|| Money::new(l.fee, cur)),
                    })
                    .collect(),
                at: r.created_at,
                taken_by: r.user_name.unwrap_or_else(|| "ERP import".into()),
                on_behalf,
                consent,
                failure_message: r.failure_message,
                checking_with_gateway: r.checking,
                dispute: match (r.dispute_amount, r.dispute_reason, r.dispute_status) {
                    (Some(amount), Some(reason), Some(status)) => Some(dispute_line(
                        Money::new(amount, cur),
                        &reason,
                        &status,
                        r.dispute_due,
                    )),
                    _ => None,
                },
                recorded_in_erp: r.erp,
                refunds: given,
                on_account,
                surcharge: r.surcharge_percent.map(|percent| SurchargeLine {
                    percent,
                    amount: Money::new(r.surcharge, cur),
                }),
            })
        })
        .collect()
}

/// A receipt as the payer sees it: the refunds that gave or give money back, without staff's
/// notes, names or approvals.
fn for_payer(mut r: Receipt) -> Receipt {
    r.refunds.retain(|g| {
        !matches!(
            g.status,
            RefundStatus::AwaitingApproval | RefundStatus::Refused
        )
    });
    for g in &mut r.refunds {
        g.note = None;
        g.requested_by = String::new();
        g.decided_by = None;
        g.refusal_reason = None;
        g.failure_message = None;
    }
    for l in &mut r.lines {
        l.refundable = None;
    }
    r
}

/// A company's payments, newest first (the latest 200).
pub async fn history(pool: &PgPool, scope: &CompanyScope) -> Result<Vec<Receipt>> {
    let company = scope.id();
    let ids = sqlx::query_scalar!(
        r#"SELECT id AS "id: PaymentId" FROM payments WHERE company_id = $1
           ORDER BY created_at DESC, id DESC LIMIT 200"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    let all = receipts_in(&mut conn, &ids, true, None).await?;
    Ok(if scope.is_staff() {
        all
    } else {
        all.into_iter().map(for_payer).collect()
    })
}

/// One payment's receipt, if the user may see it: staff any, a customer their own company's.
pub async fn receipt(pool: &PgPool, who: &Principal, payment: PaymentId) -> Result<Receipt> {
    let owner = sqlx::query_scalar!(
        r#"SELECT company_id AS "company: CompanyId" FROM payments WHERE id = $1"#,
        payment as PaymentId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Payment".into()))?;
    who.reach(owner, "Payment")?;
    let id = payment;
    let mut conn = pool.acquire().await?;
    let r = receipt_in(&mut conn, id).await?;
    Ok(if who.is_staff() { r } else { for_payer(r) })
}

/// A payment's receipt for whoever holds its signed link (the one in the receipt email).
pub async fn receipt_by_link(
    pool: &PgPool,
    config: &crate::Config,
    token: &str,
) -> Result<Receipt> {
    let mut conn = pool.acquire().await?;
    let key = crate::links::key(&mut conn, config).await?;
    let not_found = || Error::from(AppError::NotFound("Receipt".into()));
    let today = crate::companies::today();
    let number = match crate::links::receipt_number(
        &key,
        token.trim(),
        today,
        config.receipt_link_days,
    ) {
        crate::links::ReceiptLink::Open(number) => number,
        crate::links::ReceiptLink::Expired => {
            return Err(AppError::invalid(
                "token",
                format!(
                    "This receipt link has expired (links work for {} days). Sign in to see your payments, or ask the seller for the receipt.",
                    config.receipt_link_days
                ),
            )
            .into())
        }
        crate::links::ReceiptLink::Unknown => return Err(not_found()),
    };
    let id = sqlx::query_scalar!(
        r#"SELECT id AS "id: PaymentId" FROM payments WHERE number = $1"#,
        number
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)?;
    receipt_in(&mut conn, id).await.map(for_payer)
}

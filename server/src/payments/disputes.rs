//! Disputes the gateway reports (Stripe's `charge.dispute.*` events, the sandbox's clock),
//! each recorded once per change on its payment. When the card network takes the money
//! (`needs_response`, `under_review`, `lost`) the payment's invoices reopen by the disputed
//! amount — as far as the payment's lines still hold it after its refunds, oldest due first —
//! through a row of `refunds` of kind `dispute`, so the ledger identity counts it as any money
//! given back. A dispute won gives the money back: the invoices close again as far as they are
//! still open. One lost keeps them open. An inquiry (`warning_*`) takes nothing.
//!
//! Staff see the open disputes with the days left to answer, and download an evidence pack:
//! one zip with the receipt, the invoices, the payer's consent, the ACH authorization where
//! there is one, the dispute and the payment's audit trail.

use super::refunds::{add_lines, close_again, paid_twice, reopen};
use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::Staff;
use crate::companies::currency;
use crate::gateway::DisputeNotice;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use shared::money::Money;
use shared::refund::{DisputeView, RefundStatus};
use shared::{AppError, CompanyId, PaymentId, RefundId};
use sqlx::{PgConnection, PgPool};
use std::io::Write;

/// Whether the network has the money while the dispute stands in `status`.
fn money_taken(status: &str) -> bool {
    matches!(
        status,
        "needs_response" | "under_review" | "lost" | "charge_refunded"
    )
}

fn closes(status: &str) -> bool {
    matches!(
        status,
        "won" | "lost" | "warning_closed" | "charge_refunded"
    )
}

/// Records what the gateway reports about a dispute (again: nothing changes twice). Returns
/// the payment it is on, or `None` when no payment of Settle's has the charge.
pub async fn report(pool: &PgPool, n: &DisputeNotice) -> Result<Option<PaymentId>> {
    let mut tx = pool.begin().await?;
    // The payment's lock orders this with its refunds and returns.
    let Some(p) = sqlx::query!(
        r#"SELECT id AS "id: PaymentId", number, company_id AS "company: CompanyId" FROM payments
           WHERE gateway_charge_id = $1 FOR UPDATE"#,
        n.charge_id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let before = sqlx::query_scalar!(
        "SELECT status FROM payment_disputes WHERE id = $1 FOR UPDATE",
        n.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO payment_disputes (id, payment_id, amount, reason, status, evidence_due_by, opened_at, closed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END)
         ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, reason = EXCLUDED.reason,
             status = EXCLUDED.status, evidence_due_by = EXCLUDED.evidence_due_by,
             closed_at = COALESCE(payment_disputes.closed_at, EXCLUDED.closed_at), updated_at = now()",
        n.id,
        p.id as PaymentId,
        n.amount.amount(),
        n.reason,
        n.status,
        n.evidence_due_by,
        n.opened_at,
        closes(&n.status)
    )
    .execute(&mut *tx)
    .await?;
    if before.as_deref() == Some(n.status.as_str()) {
        tx.commit().await?;
        return Ok(Some(p.id));
    }
    let hold = sqlx::query!(
        r#"SELECT id AS "id: RefundId", status AS "status: RefundStatus" FROM refunds
           WHERE dispute_id = $1 FOR UPDATE"#,
        n.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let mut reopened = None;
    match hold {
        None if money_taken(&n.status) => {
            reopened = take(&mut tx, p.id, n).await?;
        }
        Some(h) if h.status == RefundStatus::Pending && n.status == "won" => {
            let kept = close_again(&mut tx, h.id).await?;
            let message = format!(
                "The dispute was won: the money is back and the invoices were closed again.{}",
                paid_twice(&kept)
            );
            sqlx::query!(
                "UPDATE refunds SET status = 'cancelled', failure_message = $2, updated_at = now() WHERE id = $1",
                h.id as RefundId,
                message
            )
            .execute(&mut *tx)
            .await?;
        }
        Some(h) if h.status == RefundStatus::Pending && n.status == "lost" => {
            sqlx::query!(
                "UPDATE refunds SET status = 'succeeded', updated_at = now() WHERE id = $1",
                h.id as RefundId
            )
            .execute(&mut *tx)
            .await?;
        }
        _ => {}
    }
    audit::record(
        &mut tx,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: Some(p.company),
            action: match (before.is_none(), n.status.as_str()) {
                (true, _) => Action::DisputeOpened,
                (false, "won") => Action::DisputeWon,
                (false, "lost") => Action::DisputeLost,
                _ => Action::DisputeUpdated,
            },
            entity: Entity::Payment,
            entity_id: Some(p.number),
            details: json!({
                "dispute": n.id, "status": n.status, "reason": n.reason,
                "amount": n.amount.amount().to_string(),
                "reopened": reopened.map(|m: Decimal| m.to_string()),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(p.id))
}

/// The network took the disputed amount: the payment's lines reopen by it, oldest due first,
/// each at most by what is still held on it. Returns what was reopened.
async fn take(
    conn: &mut PgConnection,
    payment: PaymentId,
    n: &DisputeNotice,
) -> Result<Option<Decimal>> {
    let lines = sqlx::query!(
        r#"SELECT a.invoice_id, a.amount - (SELECT COALESCE(sum(rl.amount), 0) FROM refund_lines rl
                  JOIN refunds r ON r.id = rl.refund_id
                  WHERE r.payment_id = a.payment_id AND rl.invoice_id = a.invoice_id
                    AND r.status IN ('awaiting_approval', 'pending', 'succeeded')) AS "left!"
           FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
           WHERE a.payment_id = $1 ORDER BY i.due_date, i.number"#,
        payment as PaymentId
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut still = n.amount.amount();
    let (mut ids, mut amounts) = (Vec::new(), Vec::new());
    for l in lines {
        let share = l.left.min(still);
        if share > Decimal::ZERO {
            ids.push(l.invoice_id);
            amounts.push(share);
            still -= share;
        }
    }
    let total: Decimal = amounts.iter().sum();
    if total.is_zero() {
        return Ok(None);
    }
    let status = if n.status == "lost" {
        "succeeded"
    } else {
        "pending"
    };
    let reason: String = n.reason.chars().take(40).collect();
    let hold = sqlx::query_scalar!(
        r#"INSERT INTO refunds (payment_id, kind, amount, status, reason, idempotency_key, request_hash,
               gateway_key, dispute_id)
           VALUES ($1, 'dispute', $2, $3, $4, gen_random_uuid(), '\x', 'dispute-' || $5, $5)
           RETURNING id AS "id: RefundId""#,
        payment as PaymentId,
        total,
        status,
        if reason.is_empty() { "general".to_string() } else { reason },
        n.id
    )
    .fetch_one(&mut *conn)
    .await?;
    add_lines(&mut *conn, hold, &ids, &amounts, &[]).await?;
    reopen(&mut *conn, hold).await?;
    Ok(Some(total))
}

struct Row {
    id: String,
    payment_id: PaymentId,
    payment_number: String,
    company_code: String,
    company_name: String,
    amount: Decimal,
    currency: String,
    reason: String,
    status: String,
    evidence_due_by: Option<DateTime<Utc>>,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    reopened: Decimal,
}

impl Row {
    fn into_view(self) -> Result<DisputeView> {
        let cur = currency(&self.currency)?;
        let mut view = DisputeView {
            id: self.id,
            payment_id: self.payment_id,
            payment_number: self.payment_number,
            company_code: self.company_code,
            company_name: self.company_name,
            amount: Money::new(self.amount, cur),
            reason: self.reason,
            status: self.status,
            evidence_due_by: self.evidence_due_by,
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            reopened: Money::new(self.reopened, cur),
            days_left: None,
        };
        view.days_left = view.days_left_at(Utc::now());
        Ok(view)
    }
}

/// Disputes for staff: the open ones (evidence due soonest first), then those closed in the
/// last 90 days, newest first.
pub async fn list(pool: &PgPool, _staff: &Staff) -> Result<Vec<DisputeView>> {
    sqlx::query_as!(
        Row,
        r#"SELECT d.id, p.id AS "payment_id: PaymentId", p.number AS payment_number, c.code AS company_code,
                  c.name AS company_name, d.amount, p.currency::text AS "currency!", d.reason, d.status,
                  d.evidence_due_by, d.opened_at, d.closed_at,
                  (SELECT COALESCE(sum(rl.reopened), 0) FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id
                   WHERE r.dispute_id = d.id) AS "reopened!"
           FROM payment_disputes d JOIN payments p ON p.id = d.payment_id JOIN companies c ON c.id = p.company_id
           WHERE d.closed_at IS NULL OR d.closed_at > now() - interval '90 days'
           ORDER BY d.closed_at IS NOT NULL, d.evidence_due_by NULLS LAST, d.closed_at DESC, d.id
           LIMIT 500"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Row::into_view)
    .collect()
}

/// The evidence pack of a dispute: one zip with what the seller answers a dispute with — the
/// receipt, the invoices paid, the payer's consent, the ACH authorization where there is one,
/// the dispute as reported and the payment's audit trail. Its download is audited.
pub async fn evidence_pack(
    pool: &PgPool,
    staff: &Staff,
    dispute: &str,
) -> Result<(String, Vec<u8>)> {
    let d = sqlx::query!(
        r#"SELECT d.id, d.amount, d.reason, d.status, d.evidence_due_by, d.opened_at, d.closed_at,
                  p.id AS "payment: PaymentId", p.number, p.company_id AS "company: CompanyId", p.method_id,
                  p.consent_channel, p.consent_reference, p.created_at
           FROM payment_disputes d JOIN payments p ON p.id = d.payment_id WHERE d.id = $1"#,
        dispute
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Dispute".into()))?;
    let mut conn = pool.acquire().await?;
    let receipt = super::receipts::receipt_in(&mut conn, d.payment).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    let mut text = format!(
        "Dispute {}\nPayment {}\nAmount disputed: {}\nReason: {}\nStatus: {}\nOpened: {}\n",
        d.id,
        d.number,
        Money::new(d.amount, receipt.amount.currency()).display(),
        d.reason.replace('_', " "),
        d.status.replace('_', " "),
        d.opened_at.format("%Y-%m-%d %H:%M UTC"),
    );
    if let Some(due) = d.evidence_due_by {
        text.push_str(&format!(
            "Evidence due by: {}\n",
            due.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(closed) = d.closed_at {
        text.push_str(&format!(
            "Closed: {}\n",
            closed.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    files.push(("dispute.txt".into(), text.into_bytes()));

    let mut r = format!(
        "Receipt {}\nCompany: {} ({})\nAmount: {}\nMethod: {}\nDate: {}\nTaken by: {}{}\nStatus: {}\n\nInvoices paid:\n",
        receipt.number,
        receipt.company_name,
        receipt.company_code,
        receipt.amount.display(),
        receipt.method,
        receipt.at.format("%Y-%m-%d %H:%M UTC"),
        receipt.taken_by,
        if receipt.on_behalf { " (on the company's behalf)" } else { "" },
        receipt.status.label(),
    );
    for l in &receipt.lines {
        r.push_str(&format!(
            "  {}: {}\n",
            l.invoice_number,
            l.applied.display()
        ));
    }
    if !receipt.refunds.is_empty() {
        r.push_str("\nMoney given back:\n");
        for g in &receipt.refunds {
            r.push_str(&format!(
                "  {} {} {} ({})\n",
                g.title(),
                g.amount.display(),
                g.status.label(),
                g.reason_label
            ));
        }
    }
    files.push(("receipt.txt".into(), r.into_bytes()));

    let consent =
        format!(
        "How the payer authorized payment {}\nChannel: {}\nReference: {}\nAt: {}\nTaken by: {}\n",
        d.number,
        d.consent_channel.as_deref().unwrap_or("recorded outside Settle"),
        d.consent_reference.as_deref().unwrap_or("—"),
        d.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        receipt.taken_by,
    );
    files.push(("consent.txt".into(), consent.into_bytes()));

    let mut invoices = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Other(format!("writing the evidence pack: {e}"));
    invoices
        .write_record([
            "Invoice",
            "PO",
            "Issued",
            "Due",
            "Total",
            "Paid by this payment",
            "Balance now",
        ])
        .map_err(io)?;
    for i in sqlx::query!(
        r#"SELECT i.number, i.po_number, i.issue_date, i.due_date, i.total, a.amount, i.balance
           FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
           WHERE a.payment_id = $1 ORDER BY i.due_date, i.number"#,
        d.payment as PaymentId
    )
    .fetch_all(&mut *conn)
    .await?
    {
        invoices
            .write_record([
                i.number,
                i.po_number.unwrap_or_default(),
                i.issue_date.to_string(),
                i.due_date.to_string(),
                i.total.to_string(),
                i.amount.to_string(),
                i.balance.to_string(),
            ])
            .map_err(io)?;
    }
    files.push((
        "invoices.csv".into(),
        invoices
            .into_inner()
            .map_err(|e| Error::Other(e.to_string()))?,
    ));

    if let Some(method) = d.method_id {
        if let Some(doc) = sqlx::query!(
            r#"SELECT doc.file_name, doc.content FROM payment_methods m JOIN documents doc ON doc.id = m.authorization_document_id
               WHERE m.id = $1"#,
            method
        )
        .fetch_optional(&mut *conn)
        .await?
        {
            files.push((format!("authorization/{}", safe_name(&doc.file_name)), doc.content));
        }
    }

    let mut audit_csv = csv::Writer::from_writer(Vec::new());
    audit_csv
        .write_record(["At (UTC)", "Action", "By", "Role", "Details"])
        .map_err(io)?;
    for a in sqlx::query!(
        r#"SELECT e.at, e.action, u.name AS "name?", e.actor_role, e.details FROM audit_events e
           LEFT JOIN users u ON u.id = e.actor_user_id
           WHERE e.entity_type = 'payment' AND e.entity_id = $1 ORDER BY e.at, e.id"#,
        d.number
    )
    .fetch_all(&mut *conn)
    .await?
    {
        audit_csv
            .write_record([
                a.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                a.action,
                a.name.unwrap_or_else(|| "Settle".into()),
                a.actor_role.unwrap_or_default(),
                a.details.to_string(),
            ])
            .map_err(io)?;
    }
    files.push((
        "audit-trail.csv".into(),
        audit_csv
            .into_inner()
            .map_err(|e| Error::Other(e.to_string()))?,
    ));

    let zip = write_zip(&files)?;
    let mut tx = pool.begin().await?;
    audit::record(
        &mut tx,
        Event {
            actor: staff.actor(),
            on_behalf_of: Some(d.company),
            action: Action::DisputeEvidenceDownloaded,
            entity: Entity::Payment,
            entity_id: Some(d.number.clone()),
            details: json!({ "dispute": d.id, "files": files.iter().map(|f| &f.0).collect::<Vec<_>>() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((format!("evidence-{}-{}.zip", d.number, d.id), zip))
}

/// A stored document's name as a path inside the zip: no directories, no odd characters.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "authorization".into()
    } else {
        cleaned
    }
}

fn write_zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let fail = |e: zip::result::ZipError| Error::Other(format!("writing the evidence pack: {e}"));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).map_err(fail)?;
        zip.write_all(bytes)
            .map_err(|e| Error::Other(format!("writing the evidence pack: {e}")))?;
    }
    Ok(zip.finish().map_err(fail)?.into_inner())
}

//! Invoices: a company's open ones, and one invoice with the payments applied to it.

use crate::acting::Acting;
use crate::companies::currency;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::invoice::{days_overdue, InvoiceDetail, InvoicePayment, OpenInvoice};
use shared::money::Money;
use shared::payment::PaymentStatus;
use shared::{AppError, CompanyId, InvoiceId, PaymentId};
use sqlx::PgPool;

struct InvoiceRow {
    id: InvoiceId,
    number: String,
    po_number: Option<String>,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    currency: String,
    total: Decimal,
    balance: Decimal,
}

impl InvoiceRow {
    fn into_invoice(self, today: NaiveDate) -> Result<OpenInvoice> {
        let cur = currency(&self.currency)?;
        Ok(OpenInvoice {
            id: self.id,
            number: self.number,
            po_number: self.po_number,
            issue_date: self.issue_date,
            due_date: self.due_date,
            days_overdue: days_overdue(self.due_date, today),
            total: Money::new(self.total, cur),
            balance: Money::new(self.balance, cur),
        })
    }
}

/// Every invoice of a company with a balance above zero, oldest due date first.
pub async fn open(pool: &PgPool, company: CompanyId, today: NaiveDate) -> Result<Vec<OpenInvoice>> {
    sqlx::query_as!(
        InvoiceRow,
        r#"SELECT id AS "id: InvoiceId", number, po_number, issue_date, due_date,
                  currency::text AS "currency!", total, balance
           FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date, number"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| r.into_invoice(today))
    .collect()
}

struct PaidRow {
    payment_id: PaymentId,
    number: String,
    at: DateTime<Utc>,
    amount: Decimal,
    status: PaymentStatus,
}

/// One invoice (open or paid) with the payments applied to it, if the user may see it: staff
/// any, a customer their own company's. Any other is "not found".
pub async fn detail(
    pool: &PgPool,
    acting: &Acting,
    invoice: InvoiceId,
    today: NaiveDate,
) -> Result<InvoiceDetail> {
    let row = sqlx::query_as!(
        InvoiceRow,
        r#"SELECT id AS "id: InvoiceId", number, po_number, issue_date, due_date,
                  currency::text AS "currency!", total, balance
           FROM invoices WHERE id = $1 AND ($2::bigint IS NULL OR company_id = $2)"#,
        invoice as InvoiceId,
        acting.only() as Option<CompanyId>
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Err(AppError::NotFound("Invoice".into()).into());
    };
    let invoice_row = row.into_invoice(today)?;
    let cur = invoice_row.total.currency();
    let paid = sqlx::query_as!(
        PaidRow,
        r#"SELECT p.id AS "payment_id: PaymentId", p.number, p.created_at AS at, a.amount,
                  p.status AS "status: PaymentStatus"
           FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE a.invoice_id = $1
           ORDER BY p.created_at DESC, p.id DESC"#,
        invoice as InvoiceId
    )
    .fetch_all(pool)
    .await?;
    Ok(InvoiceDetail {
        invoice: invoice_row,
        payments: paid
            .into_iter()
            .map(|p| InvoicePayment {
                payment_id: p.payment_id,
                number: p.number,
                at: p.at,
                applied: Money::new(p.amount, cur),
                status: p.status,
            })
            .collect(),
    })
}

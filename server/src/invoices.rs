//! Invoices: a company's open ones, and one invoice with the payments applied to it.

use crate::authority::{CompanyScope, Principal};
use crate::companies::currency;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::invoice::{
    days_overdue, InvoiceDetail, InvoicePage, InvoicePayment, InvoiceSearch, InvoiceSort,
    OpenInvoice,
};
use shared::money::Money;
use shared::page::{last_page, Page};
use shared::payment::PaymentStatus;
use shared::{AppError, CompanyId, InvoiceId, PaymentId};
use sqlx::PgPool;

#[derive(sqlx::FromRow)]
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

struct Matching {
    n: i64,
    balance: Decimal,
    currency: String,
}

/// A company's open invoices (balance above zero) matching `search`: one page of `per_page`
/// in the order asked for, with the count and balance of all that match. Unfiltered, those
/// figures are the kept ones (`company_balances`); filtered, they add up the matching
/// index range only. Each page reads one range of an index on (company, sort column).
///
/// The one query here built at run time: its ORDER BY is the column the user sorts by.
pub async fn search(
    pool: &PgPool,
    scope: &CompanyScope,
    search: &InvoiceSearch,
    per_page: i64,
    today: NaiveDate,
) -> Result<InvoicePage> {
    let company = scope.id();
    let (from, to) = search
        .aging
        .map(|b| b.due_range(today))
        .unwrap_or((None, None));
    let pattern = search.q.as_deref().map(crate::companies::contains_pattern);
    let matching = if search.filters() {
        sqlx::query_as!(
            Matching,
            r#"SELECT count(i.id) AS "n!", COALESCE(sum(i.balance), 0) AS "balance!",
                      min(c.currency)::text AS "currency!"
               FROM companies c LEFT JOIN invoices i ON i.company_id = c.id AND i.balance > 0
                    AND ($2::date IS NULL OR i.due_date >= $2) AND ($3::date IS NULL OR i.due_date <= $3)
                    AND ($4::text IS NULL OR i.number ILIKE $4 OR i.po_number ILIKE $4)
               WHERE c.id = $1"#,
            company as CompanyId,
            from,
            to,
            pattern
        )
        .fetch_one(pool)
        .await?
    } else {
        sqlx::query_as!(
            Matching,
            r#"SELECT COALESCE(b.open_invoices, 0) AS "n!", COALESCE(b.open_balance, 0) AS "balance!",
                      c.currency::text AS "currency!"
               FROM companies c LEFT JOIN company_balances b ON b.company_id = c.id WHERE c.id = $1"#,
            company as CompanyId
        )
        .fetch_one(pool)
        .await?
    };
    let page = search.page.clamp(1, last_page(matching.n, per_page));
    let (dir, reverse) = if search.descending {
        ("DESC", "ASC")
    } else {
        ("ASC", "DESC")
    };
    let order = match search.sort {
        InvoiceSort::Number => format!("number {dir}"),
        InvoiceSort::Due => format!("due_date {dir}, number {dir}"),
        // The most days overdue is the earliest due date.
        InvoiceSort::DaysOverdue => format!("due_date {reverse}, number {reverse}"),
        InvoiceSort::Balance => format!("balance {dir}, number {dir}"),
    };
    let rows: Vec<InvoiceRow> = sqlx::query_as(&format!(
        "SELECT id, number, po_number, issue_date, due_date, currency::text AS currency, total, balance \
         FROM invoices WHERE company_id = $1 AND balance > 0 \
           AND ($2::date IS NULL OR due_date >= $2) AND ($3::date IS NULL OR due_date <= $3) \
           AND ($4::text IS NULL OR number ILIKE $4 OR po_number ILIKE $4) \
         ORDER BY {order} LIMIT $5 OFFSET $6"
    ))
    .bind(company)
    .bind(from)
    .bind(to)
    .bind(&pattern)
    .bind(per_page)
    .bind((page - 1) * per_page)
    // Planned for these values every time: a plan kept for any company (PostgreSQL's generic
    // plan) sorts all of a large company's invoices where this one walks the index.
    .persistent(false)
    .fetch_all(pool)
    .await?;
    Ok(InvoicePage {
        page: Page {
            items: rows
                .into_iter()
                .map(|r| r.into_invoice(today))
                .collect::<Result<_>>()?,
            total: matching.n,
            total_is: shared::page::Total::Exact,
            page,
            per_page,
        },
        balance: Money::new(matching.balance, currency(&matching.currency)?),
    })
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
    who: &Principal,
    invoice: InvoiceId,
    today: NaiveDate,
) -> Result<InvoiceDetail> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: InvoiceId", company_id AS "company: CompanyId", number, po_number,
                  issue_date, due_date, currency::text AS "currency!", total, balance
           FROM invoices WHERE id = $1"#,
        invoice as InvoiceId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Invoice".into()))?;
    who.reach(row.company, "Invoice")?;
    let invoice_row = InvoiceRow {
        id: row.id,
        number: row.number,
        po_number: row.po_number,
        issue_date: row.issue_date,
        due_date: row.due_date,
        currency: row.currency,
        total: row.total,
        balance: row.balance,
    }
    .into_invoice(today)?;
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

//! Companies, their key figures and their open invoices.

use crate::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::company::{CompanyCode, CompanyDetail, CompanySearch, CompanySummary, Contact};
use shared::invoice::{days_overdue, InvoiceDetail, InvoicePayment, OpenInvoice};
use shared::money::{Currency, Money};
use shared::page::{last_page, Page, PAGE_SIZE};
use shared::payment::PaymentStatus;
use shared::AppError;
use sqlx::PgPool;

/// Today's date where the seller works (the server's local date).
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn currency(code: &str) -> Result<Currency> {
    code.parse::<Currency>()
        .map_err(|e| crate::Error::Other(e.to_string()))
}

/// A pattern for ILIKE that matches `text` anywhere, with LIKE's wildcards escaped.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    code: String,
    name: String,
    currency: String,
    open_balance: Decimal,
    open_invoices: i64,
    overdue: Decimal,
}

impl SummaryRow {
    fn into_summary(self) -> Result<CompanySummary> {
        let cur = currency(&self.currency)?;
        Ok(CompanySummary {
            code: CompanyCode::parse(&self.code)?,
            name: self.name,
            open_balance: Money::new(self.open_balance, cur),
            open_invoices: self.open_invoices,
            overdue: Money::new(self.overdue, cur),
        })
    }
}

/// The open balance, open count and overdue amount of one company, as SQL over `c`.
const FIGURES: &str = "LEFT JOIN LATERAL ( \
        SELECT COALESCE(sum(i.balance), 0) AS open_balance, count(*) AS open_invoices, \
               COALESCE(sum(i.balance) FILTER (WHERE i.due_date < $1), 0) AS overdue \
        FROM invoices i WHERE i.company_id = c.id AND i.balance > 0) f ON true";

/// CRM → Companies: companies whose Company ID or name contains `search`, by name, one page.
pub async fn search(
    pool: &PgPool,
    search: &CompanySearch,
    page: i64,
    today: NaiveDate,
) -> Result<Page<CompanySummary>> {
    let per_page = PAGE_SIZE;
    let pattern = contains_pattern(search.as_str());
    // Two shapes, so each gets its own plan: the whole book walks the name index; a search
    // uses the trigram indexes on Company ID and name.
    let total: i64 = if search.is_empty() {
        sqlx::query_scalar("SELECT count(*) FROM companies")
            .fetch_one(pool)
            .await?
    } else {
        sqlx::query_scalar(
            "SELECT count(*) FROM companies c WHERE c.code ILIKE $1 OR c.name ILIKE $1",
        )
        .bind(&pattern)
        .fetch_one(pool)
        .await?
    };
    let page = page.clamp(1, last_page(total, per_page));
    let offset = (page - 1) * per_page;
    // Pick the page's companies first, then add up the figures of those companies only.
    let rows: Vec<SummaryRow> = if search.is_empty() {
        sqlx::query_as(&format!(
            "SELECT c.code, c.name, c.currency::text AS currency, f.open_balance, f.open_invoices, f.overdue \
             FROM (SELECT id, code, name, currency FROM companies \
                   ORDER BY lower(name), code LIMIT $2 OFFSET $3) c \
             {FIGURES} ORDER BY lower(c.name), c.code"
        ))
        .bind(today)
        .bind(per_page)
        .bind(offset)
        .fetch_all(pool)
        .await?
    } else {
        // A search equal to a Company ID puts that company first.
        sqlx::query_as(&format!(
            "SELECT c.code, c.name, c.currency::text AS currency, f.open_balance, f.open_invoices, f.overdue \
             FROM (SELECT id, code, name, currency, code = upper($2) AS exact FROM companies \
                   WHERE code ILIKE $3 OR name ILIKE $3 \
                   ORDER BY exact DESC, lower(name), code LIMIT $4 OFFSET $5) c \
             {FIGURES} ORDER BY c.exact DESC, lower(c.name), c.code"
        ))
        .bind(today)
        .bind(search.as_str())
        .bind(&pattern)
        .bind(per_page)
        .bind(offset)
        .fetch_all(pool)
        .await?
    };
    let items = rows
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

/// The internal id of a company by its Company ID.
pub async fn id_of(pool: &PgPool, code: &CompanyCode) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM companies WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound("Company".into()).into())
}

/// The internal id of a company by a Company ID as a caller sent it: a malformed one cannot
/// name a company, so it is "not found" like an unknown one.
pub async fn id_of_raw(pool: &PgPool, raw: &str) -> Result<i64> {
    let code = CompanyCode::parse(raw).map_err(|_| AppError::NotFound("Company".into()))?;
    id_of(pool, &code).await
}

/// A company's header figures and contacts.
pub async fn detail(pool: &PgPool, company_id: i64, today: NaiveDate) -> Result<CompanyDetail> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "SELECT c.code, c.name, c.currency::text AS currency, f.open_balance, f.open_invoices, f.overdue \
         FROM companies c {FIGURES} WHERE c.id = $2"
    ))
    .bind(today)
    .bind(company_id)
    .fetch_optional(pool)
    .await?;
    let summary = row
        .ok_or_else(|| AppError::NotFound("Company".into()))?
        .into_summary()?;
    let contacts: Vec<ContactRow> = sqlx::query_as(
        "SELECT name, title, email, phone FROM contacts WHERE company_id = $1 ORDER BY id",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    Ok(CompanyDetail {
        code: summary.code,
        name: summary.name,
        open_balance: summary.open_balance,
        open_invoices: summary.open_invoices,
        overdue: summary.overdue,
        contacts: contacts
            .into_iter()
            .map(|c| Contact {
                name: c.name,
                title: c.title,
                email: c.email,
                phone: c.phone,
            })
            .collect(),
    })
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    name: String,
    title: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: i64,
    number: String,
    po_number: Option<String>,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    currency: String,
    total: Decimal,
    balance: Decimal,
}

/// Every invoice of a company with a balance above zero, oldest due date first.
pub async fn open_invoices(
    pool: &PgPool,
    company_id: i64,
    today: NaiveDate,
) -> Result<Vec<OpenInvoice>> {
    let rows: Vec<InvoiceRow> = sqlx::query_as(
        "SELECT id, number, po_number, issue_date, due_date, currency::text AS currency, total, balance \
         FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date, number",
    )
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|r| r.into_invoice(today)).collect()
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

#[derive(sqlx::FromRow)]
struct PaidRow(i64, String, chrono::DateTime<chrono::Utc>, Decimal, String);

/// One of `company_id`'s invoices (open or paid) with the payments applied to it. Another
/// company's invoice is "not found".
pub async fn invoice_detail(
    pool: &PgPool,
    invoice_id: i64,
    company_id: i64,
    today: NaiveDate,
) -> Result<InvoiceDetail> {
    let row: Option<InvoiceRow> = sqlx::query_as(
        "SELECT id, number, po_number, issue_date, due_date, currency::text AS currency, total, balance \
         FROM invoices WHERE id = $1 AND company_id = $2",
    )
    .bind(invoice_id)
    .bind(company_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Err(AppError::NotFound("Invoice".into()).into());
    };
    let invoice = row.into_invoice(today)?;
    let cur = invoice.total.currency();
    let paid: Vec<PaidRow> = sqlx::query_as(
        "SELECT p.id, p.number, p.created_at, a.amount, p.status FROM payment_allocations a \
             JOIN payments p ON p.id = a.payment_id WHERE a.invoice_id = $1 \
             ORDER BY p.created_at DESC, p.id DESC",
    )
    .bind(invoice_id)
    .fetch_all(pool)
    .await?;
    let payments = paid
        .into_iter()
        .map(|PaidRow(payment_id, number, at, amount, status)| {
            Ok(InvoicePayment {
                payment_id,
                number,
                at,
                applied: Money::new(amount, cur),
                status: PaymentStatus::from_db(&status)
                    .ok_or_else(|| Error::Other(format!("unknown payment status {status}")))?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(InvoiceDetail { invoice, payments })
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(contains_pattern("acme"), "%acme%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}

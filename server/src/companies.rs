//! Companies and their key figures: the CRM list and search, a company's header and contacts.

use crate::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::company::{CompanyCode, CompanyDetail, CompanySearch, CompanySummary, Contact};
use shared::money::{Currency, Money};
use shared::page::{last_page, Page, PAGE_SIZE};
use shared::{AppError, CompanyId};
use sqlx::PgPool;

/// Today's date where the seller works (the server's local date).
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// A currency code from the database.
pub(crate) fn currency(code: &str) -> Result<Currency> {
    code.parse::<Currency>()
        .map_err(|e| Error::Other(e.to_string()))
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

/// A company with its figures (`company_figures`), as every query here reads it.
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
    let total = if search.is_empty() {
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM companies"#)
            .fetch_one(pool)
            .await?
    } else {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM companies c WHERE c.code ILIKE $1 OR c.name ILIKE $1"#,
            pattern
        )
        .fetch_one(pool)
        .await?
    };
    let page = page.clamp(1, last_page(total, per_page));
    let offset = (page - 1) * per_page;
    // Pick the page's companies first, then add up the figures of those companies only.
    let rows = if search.is_empty() {
        sqlx::query_as!(
            SummaryRow,
            r#"SELECT c.code, c.name, c.currency::text AS "currency!", f.open_balance AS "open_balance!",
                      f.open_invoices AS "open_invoices!", f.overdue AS "overdue!"
               FROM (SELECT id, code, name, currency FROM companies
                     ORDER BY lower(name), code LIMIT $2 OFFSET $3) c
               CROSS JOIN LATERAL company_figures(c.id, $1) f
               ORDER BY lower(c.name), c.code"#,
            today,
            per_page,
            offset
        )
        .fetch_all(pool)
        .await?
    } else {
        // A search equal to a Company ID puts that company first.
        sqlx::query_as!(
            SummaryRow,
            r#"SELECT c.code, c.name, c.currency::text AS "currency!", f.open_balance AS "open_balance!",
                      f.open_invoices AS "open_invoices!", f.overdue AS "overdue!"
               FROM (SELECT id, code, name, currency, code = upper($2) AS exact FROM companies
                     WHERE code ILIKE $3 OR name ILIKE $3
                     ORDER BY exact DESC, lower(name), code LIMIT $4 OFFSET $5) c
               CROSS JOIN LATERAL company_figures(c.id, $1) f
               ORDER BY c.exact DESC, lower(c.name), c.code"#,
            today,
            search.as_str(),
            pattern,
            per_page,
            offset
        )
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
pub async fn id_of(pool: &PgPool, code: &CompanyCode) -> Result<CompanyId> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: CompanyId" FROM companies WHERE code = $1"#,
        code.as_str()
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Company".into()).into())
}

/// The plans (`EXPLAIN (ANALYZE, BUFFERS)`) of [`search`]'s two statements for `search`, for
/// the benchmark's output: the same SQL as the macros above, as text.
pub async fn explain_search(
    pool: &PgPool,
    search: &CompanySearch,
    page: i64,
    today: NaiveDate,
) -> Result<Vec<String>> {
    let offset = (page.max(1) - 1) * PAGE_SIZE;
    let pattern = contains_pattern(search.as_str());
    let (count, rows) = if search.is_empty() {
        (
            "SELECT count(*) FROM companies".to_string(),
            format!(
                "SELECT c.code, f.open_balance FROM (SELECT id, code, name, currency FROM companies \
                 ORDER BY lower(name), code LIMIT {PAGE_SIZE} OFFSET {offset}) c \
                 CROSS JOIN LATERAL company_figures(c.id, '{today}') f ORDER BY lower(c.name), c.code"
            ),
        )
    } else {
        let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let (text, pattern) = (quoted(search.as_str()), quoted(&pattern));
        (
            format!("SELECT count(*) FROM companies c WHERE c.code ILIKE {pattern} OR c.name ILIKE {pattern}"),
            format!(
                "SELECT c.code, f.open_balance FROM (SELECT id, code, name, currency, code = upper({text}) AS exact \
                 FROM companies WHERE code ILIKE {pattern} OR name ILIKE {pattern} \
                 ORDER BY exact DESC, lower(name), code LIMIT {PAGE_SIZE} OFFSET {offset}) c \
                 CROSS JOIN LATERAL company_figures(c.id, '{today}') f ORDER BY c.exact DESC, lower(c.name), c.code"
            ),
        )
    };
    let mut out = Vec::new();
    for sql in [count, rows] {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(pool)
            .await?;
        out.extend(plan);
    }
    Ok(out)
}

/// A company's header figures and contacts.
pub async fn detail(pool: &PgPool, company: CompanyId, today: NaiveDate) -> Result<CompanyDetail> {
    let summary = sqlx::query_as!(
        SummaryRow,
        r#"SELECT c.code, c.name, c.currency::text AS "currency!", f.open_balance AS "open_balance!",
                  f.open_invoices AS "open_invoices!", f.overdue AS "overdue!"
           FROM companies c CROSS JOIN LATERAL company_figures(c.id, $1) f WHERE c.id = $2"#,
        today,
        company as CompanyId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Company".into()))?
    .into_summary()?;
    let contacts = sqlx::query_as!(
        Contact,
        "SELECT name, title, email, phone FROM contacts WHERE company_id = $1 ORDER BY id",
        company as CompanyId
    )
    .fetch_all(pool)
    .await?;
    Ok(CompanyDetail {
        code: summary.code,
        name: summary.name,
        open_balance: summary.open_balance,
        open_invoices: summary.open_invoices,
        overdue: summary.overdue,
        contacts,
    })
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

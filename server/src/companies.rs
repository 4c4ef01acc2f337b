//! Companies and their key figures: the CRM list and search, a company's header and contacts.

use crate::authority::{CompanyScope, Staff};
use crate::{Error, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::company::{CompanyCode, CompanyDetail, CompanySearch, CompanySummary, Contact};
use shared::money::{Currency, Money};
use shared::page::{last_page, Page, Total, PAGE_SIZE};
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

/// Past this many matches a search stops counting ("5,000+"): a count of every company that
/// contains two common letters would read a large part of the book for one figure.
pub const SEARCH_COUNT_LIMIT: i64 = 5_000;

/// Past this many companies the whole book's total is the database's estimate ("about
/// 100,040") rather than a count of every row on every page view.
const ESTIMATE_ABOVE: f32 = 10_000.0;

/// CRM → Companies: companies whose Company ID or name contains `search`, by name, one page;
/// a company whose Company ID is the search comes first.
///
/// Every kind of search reads an index: the whole book and deep pages walk the covering sort
/// index (`sort_name, code`) alone; a search of three letters or more reads the trigram index
/// on `search_text`, or walks the sort index while matches are common; counts stop at
/// [`SEARCH_COUNT_LIMIT`].
pub async fn search(
    pool: &PgPool,
    _staff: &Staff,
    search: &CompanySearch,
    page: i64,
    today: NaiveDate,
) -> Result<Page<CompanySummary>> {
    let per_page = PAGE_SIZE;
    if search.is_empty() {
        let total = sqlx::query!(
            r#"SELECT COALESCE((SELECT reltuples::bigint FROM pg_class
                                WHERE oid = 'companies'::regclass AND reltuples > $1),
                               (SELECT count(*) FROM companies)) AS "n!",
                      EXISTS (SELECT 1 FROM pg_class WHERE oid = 'companies'::regclass AND reltuples > $1) AS "about!""#,
            ESTIMATE_ABOVE
        )
        .fetch_one(pool)
        .await?;
        let page = page.clamp(1, last_page(total.n, per_page));
        // The page's ids from the sort index alone, then those companies and their figures.
        let rows = sqlx::query_as!(
            SummaryRow,
            r#"SELECT c.code, c.name, c.currency::text AS "currency!", f.open_balance AS "open_balance!",
                      f.open_invoices AS "open_invoices!", f.overdue AS "overdue!"
               FROM (SELECT id FROM companies ORDER BY sort_name, code LIMIT $2 OFFSET $3) p
               JOIN companies c ON c.id = p.id
               CROSS JOIN LATERAL company_figures(c.id, $1) f
               ORDER BY c.sort_name, c.code"#,
            today,
            per_page,
            (page - 1) * per_page
        )
        .fetch_all(pool)
        .await?;
        return summaries(
            rows,
            total.n,
            if total.about {
                Total::About
            } else {
                Total::Exact
            },
            page,
        );
    }
    let pattern = contains_pattern(&search.as_str().to_lowercase());
    let (n, exact) = count_matches(pool, search, &pattern).await?;
    let (total, total_is) = if n > SEARCH_COUNT_LIMIT {
        (SEARCH_COUNT_LIMIT, Total::AtLeast)
    } else {
        (n, Total::Exact)
    };
    let page = page.clamp(1, last_page(total, per_page));
    let offset = (page - 1) * per_page;
    // The exact Company ID first (on the first page), then the others by name.
    let exact = i64::from(exact);
    let (rest_limit, rest_offset) = if page == 1 {
        (per_page - exact, 0)
    } else {
        (per_page, offset - exact)
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(&matches_sql(total_is == Total::Exact))
        .bind(today)
        .bind(search.as_str())
        .bind(page == 1)
        .bind(&pattern)
        .bind(rest_limit)
        .bind(rest_offset)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    summaries(rows, total, total_is, page)
}

/// How many companies match a search (up to the limit, $3) and whether one's Company ID is
/// the search. Built at run time and planned for its values each time (as is
/// [`matches_sql`]): a plan kept for any pattern cannot know whether the trigram index helps.
const COUNT_MATCHES: &str = "SELECT (SELECT count(*) FROM (SELECT 1 FROM companies WHERE search_text LIKE $1 LIMIT $3) m), \
     EXISTS (SELECT 1 FROM companies WHERE code = upper($2))";

/// [`COUNT_MATCHES`] for a search: (matches up to the limit + 1, an exact Company ID exists).
async fn count_matches(
    pool: &PgPool,
    search: &CompanySearch,
    pattern: &str,
) -> Result<(i64, bool)> {
    Ok(sqlx::query_as(COUNT_MATCHES)
        .bind(pattern)
        .bind(search.as_str())
        .bind(SEARCH_COUNT_LIMIT + 1)
        .persistent(false)
        .fetch_one(pool)
        .await?)
}

/// One page of a search's matches: the exact Company ID first on the first page ($3), then
/// the others by name. With `few` matches (counted, at most the limit) they are all read
/// through the trigram index and sorted; with many, the sort index is walked until the page
/// is full (common matches are found within a short walk).
fn matches_sql(few: bool) -> String {
    let (with, rest) = if few {
        (
            "WITH m AS MATERIALIZED (SELECT id, code, name, currency, sort_name FROM companies \
             WHERE search_text LIKE $4 AND code <> upper($2)) ",
            "m",
        )
    } else {
        (
            "",
            "companies WHERE search_text LIKE $4 AND code <> upper($2)",
        )
    };
    format!(
        "{with}SELECT c.code, c.name, c.currency::text AS currency, f.open_balance, f.open_invoices, f.overdue \
         FROM (SELECT id, code, name, currency, 0 AS rank, sort_name FROM companies WHERE code = upper($2) AND $3 \
               UNION ALL \
               (SELECT id, code, name, currency, 1, sort_name FROM {rest} ORDER BY sort_name, code LIMIT $5 OFFSET $6)) c \
         CROSS JOIN LATERAL company_figures(c.id, $1) f \
         ORDER BY c.rank, c.sort_name, c.code"
    )
}

fn summaries(
    rows: Vec<SummaryRow>,
    total: i64,
    total_is: Total,
    page: i64,
) -> Result<Page<CompanySummary>> {
    Ok(Page {
        items: rows
            .into_iter()
            .map(SummaryRow::into_summary)
            .collect::<Result<Vec<_>>>()?,
        total,
        total_is,
        page,
        per_page: PAGE_SIZE,
    })
}

/// The plans (`EXPLAIN (ANALYZE, BUFFERS)`) of [`search`]'s statements for a search, for the
/// benchmark's output: a search's own statements with its values; the whole book's, the same
/// SQL as its macros, as text.
pub async fn explain_search(
    pool: &PgPool,
    search: &CompanySearch,
    page: i64,
    today: NaiveDate,
) -> Result<Vec<String>> {
    let offset = (page.max(1) - 1) * PAGE_SIZE;
    let statements = if search.is_empty() {
        vec![
            format!(
                "SELECT COALESCE((SELECT reltuples::bigint FROM pg_class WHERE oid = 'companies'::regclass \
                 AND reltuples > {ESTIMATE_ABOVE}), (SELECT count(*) FROM companies))"
            ),
            format!(
                "SELECT c.code, f.open_balance FROM (SELECT id FROM companies ORDER BY sort_name, code \
                 LIMIT {PAGE_SIZE} OFFSET {offset}) p JOIN companies c ON c.id = p.id \
                 CROSS JOIN LATERAL company_figures(c.id, '{today}') f ORDER BY c.sort_name, c.code"
            ),
        ]
    } else {
        let pattern = contains_pattern(&search.as_str().to_lowercase());
        let (n, _) = count_matches(pool, search, &pattern).await?;
        let mut out = Vec::new();
        for (sql, rows) in [
            (COUNT_MATCHES.to_string(), false),
            (matches_sql(n <= SEARCH_COUNT_LIMIT), true),
        ] {
            let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
            let mut q = sqlx::query_scalar::<_, String>(&explain);
            q = if rows {
                q.bind(today)
                    .bind(search.as_str())
                    .bind(offset == 0)
                    .bind(pattern.clone())
                    .bind(PAGE_SIZE)
                    .bind(offset)
            } else {
                q.bind(pattern.clone())
                    .bind(search.as_str())
                    .bind(SEARCH_COUNT_LIMIT + 1)
            };
            out.extend(q.persistent(false).fetch_all(pool).await?);
        }
        return Ok(out);
    };
    let mut out = Vec::new();
    for sql in statements {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(pool)
            .await?;
        out.extend(plan);
    }
    Ok(out)
}

/// A company's header figures and contacts.
pub async fn detail(
    pool: &PgPool,
    scope: &CompanyScope,
    today: NaiveDate,
) -> Result<CompanyDetail> {
    let company = scope.id();
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

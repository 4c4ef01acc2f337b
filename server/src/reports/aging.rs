//! The aging of receivables as of any day (migration 0025): each open invoice's balance on
//! that day is today's with what happened after the day undone, bucketed by days past due,
//! with each company's unapplied credit and disputed amount as they stood then. Staff's report,
//! its exports, and the API read it from here.

use super::defuse;
use crate::authority::{ApiKey, Staff};
use crate::companies::contains_pattern;
use crate::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::aging::{
    AgingLine, AgingQuery, AgingReport, AgingRow, AgingSort, Bucket, CompanyAging, Figures, COLUMNS,
};
use shared::money::Money;
use sqlx::PgPool;

/// The most rows the report's page shows (the totals count every company).
pub const PAGE_ROWS: i64 = 200;
/// The most rows one export holds.
pub const EXPORT_MAX: i64 = 100_000;

#[derive(sqlx::FromRow)]
struct Row {
    code: String,
    name: String,
    b0: Decimal,
    b1: Decimal,
    b2: Decimal,
    b3: Decimal,
    b4: Decimal,
    b5: Decimal,
    open: Decimal,
    unapplied: Decimal,
    disputed: Decimal,
    companies: i64,
    t0: Decimal,
    t1: Decimal,
    t2: Decimal,
    t3: Decimal,
    t4: Decimal,
    t5: Decimal,
    t_open: Decimal,
    t_unapplied: Decimal,
    t_disputed: Decimal,
}

/// Each company's figures on day $1 (of company $2, or all), matching $3, past due only when
/// $4, ordered by $5, the first $6, with the totals of every match beside each row. Sent
/// unprepared so each day and filter is planned for its values.
const REPORT: &str = r#"
WITH per AS (SELECT * FROM aging_figures($1, $2)),
cr AS (SELECT company_id, unapplied FROM aging_credit($1, $2) WHERE unapplied > 0),
dp AS (SELECT company_id, disputed FROM aging_disputed($1, $2)),
f AS (
    SELECT COALESCE(per.company_id, cr.company_id, dp.company_id) AS company_id,
           per.b0, per.b1, per.b2, per.b3, per.b4, per.b5, per.open, cr.unapplied, dp.disputed
    FROM per FULL JOIN cr ON cr.company_id = per.company_id
    FULL JOIN dp ON dp.company_id = COALESCE(per.company_id, cr.company_id)),
m AS (
    SELECT c.code, c.name,
           COALESCE(f.b0, 0) AS b0, COALESCE(f.b1, 0) AS b1, COALESCE(f.b2, 0) AS b2,
           COALESCE(f.b3, 0) AS b3, COALESCE(f.b4, 0) AS b4, COALESCE(f.b5, 0) AS b5,
           COALESCE(f.open, 0) AS open, COALESCE(f.unapplied, 0) AS unapplied,
           COALESCE(f.disputed, 0) AS disputed
    FROM f JOIN companies c ON c.id = f.company_id
    WHERE ($3::text IS NULL OR c.name ILIKE $3 OR c.code ILIKE $3)),
k AS (SELECT m.*, m.open - m.b0 AS overdue FROM m WHERE NOT $4 OR m.open > m.b0)
SELECT k.code, k.name, k.b0, k.b1, k.b2, k.b3, k.b4, k.b5, k.open, k.unapplied, k.disputed,
       count(*) OVER () AS companies,
       sum(k.b0) OVER () AS t0, sum(k.b1) OVER () AS t1, sum(k.b2) OVER () AS t2,
       sum(k.b3) OVER () AS t3, sum(k.b4) OVER () AS t4, sum(k.b5) OVER () AS t5,
       sum(k.open) OVER () AS t_open, sum(k.unapplied) OVER () AS t_unapplied,
       sum(k.disputed) OVER () AS t_disputed
FROM k
ORDER BY CASE WHEN $5 = 'name' THEN k.name END,
         CASE $5 WHEN 'open' THEN k.open WHEN 'overdue' THEN k.overdue END DESC,
         CASE WHEN $5 = 'oldest' THEN ARRAY[k.b5, k.b4, k.b3, k.b2, k.b1, k.b0] END DESC,
         k.name, k.code
LIMIT $6"#;

fn usd(d: Decimal) -> Money {
    Money::usd(d)
}

impl Row {
    /// The company's own figures.
    fn own(&self) -> Figures {
        Figures {
            buckets: [self.b0, self.b1, self.b2, self.b3, self.b4, self.b5].map(usd),
            open: usd(self.open),
            unapplied_credit: usd(self.unapplied),
            disputed: usd(self.disputed),
        }
    }

    /// The totals of every company that matched (the same on every row).
    fn totals(&self) -> Figures {
        Figures {
            buckets: [self.t0, self.t1, self.t2, self.t3, self.t4, self.t5].map(usd),
            open: usd(self.t_open),
            unapplied_credit: usd(self.t_unapplied),
            disputed: usd(self.t_disputed),
        }
    }
}

async fn rows(
    pool: &PgPool,
    as_of: NaiveDate,
    company: Option<i64>,
    q: &AgingQuery,
    limit: i64,
) -> Result<Vec<Row>> {
    // The whole book's figures group about a hundred thousand companies: room to do it in
    // memory rather than in batches on disk.
    let mut tx = pool.begin().await?;
    if company.is_none() {
        sqlx::query("SET LOCAL work_mem = '32MB'")
            .execute(&mut *tx)
            .await?;
    }
    let rows = sqlx::query_as::<_, Row>(REPORT)
        .persistent(false)
        .bind(as_of)
        .bind(company)
        .bind(q.q.as_deref().map(contains_pattern))
        .bind(q.overdue_only)
        .bind(q.sort.key())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The day asked for, or the seller's today.
async fn day(pool: &PgPool, as_of: Option<NaiveDate>) -> Result<NaiveDate> {
    match as_of {
        Some(d) => Ok(d),
        None => super::today(pool).await,
    }
}

/// The report for staff: up to `limit` companies in the query's order, and the totals of all
/// that match.
pub async fn report(
    pool: &PgPool,
    _staff: &Staff,
    q: &AgingQuery,
    limit: i64,
) -> Result<AgingReport> {
    build(pool, q, limit).await
}

/// The report for the ERP (`GET /api/v1/reports/aging`), any valid key.
pub async fn report_for_key(
    pool: &PgPool,
    _key: &ApiKey,
    q: &AgingQuery,
    limit: i64,
) -> Result<AgingReport> {
    build(pool, q, limit).await
}

pub(crate) async fn build(pool: &PgPool, q: &AgingQuery, limit: i64) -> Result<AgingReport> {
    let as_of = day(pool, q.as_of).await?;
    let rows = rows(pool, as_of, None, q, limit).await?;
    let totals = rows.first().map_or_else(Figures::zero, Row::totals);
    Ok(AgingReport {
        as_of,
        time_zone: super::time_zone(pool).await?,
        companies: rows.first().map(|r| r.companies as u64).unwrap_or(0),
        totals,
        rows: rows
            .into_iter()
            .map(|r| AgingRow {
                figures: r.own(),
                code: r.code,
                name: r.name,
            })
            .collect(),
    })
}

/// One company's aging on the day and its open invoices then, oldest due first; `None` for a
/// company that does not exist.
pub async fn company(
    pool: &PgPool,
    _staff: &Staff,
    code: &str,
    as_of: Option<NaiveDate>,
) -> Result<Option<CompanyAging>> {
    company_on(pool, code, as_of).await
}

/// Company `code`'s aging on the day; `None` for a company that does not exist.
async fn company_on(
    pool: &PgPool,
    code: &str,
    as_of: Option<NaiveDate>,
) -> Result<Option<CompanyAging>> {
    let Some(c) = Named::find(pool, code).await? else {
        return Ok(None);
    };
    Ok(Some(of(pool, c, day(pool, as_of).await?).await?))
}

/// A company as a report names it.
pub(crate) struct Named {
    pub id: i64,
    pub code: String,
    pub name: String,
}

impl Named {
    /// Company `code`, or `None` when there is none.
    pub(crate) async fn find(pool: &PgPool, code: &str) -> Result<Option<Named>> {
        Ok(sqlx::query_as!(
            Named,
            "SELECT id, code, name FROM companies WHERE code = $1",
            code
        )
        .fetch_optional(pool)
        .await?)
    }
}

/// A company's aging on the day and its open invoices then, oldest due first, for whoever was
/// let through to it (staff, or a statement of the customer's own company).
pub(crate) async fn of(pool: &PgPool, c: Named, as_of: NaiveDate) -> Result<CompanyAging> {
    let q = AgingQuery {
        as_of: Some(as_of),
        sort: AgingSort::Name,
        ..Default::default()
    };
    let lines = sqlx::query!(
        r#"SELECT i.number, i.issue_date, i.due_date, l.balance AS "balance!"
           FROM aging_lines($1, $2) l JOIN invoices i ON i.id = l.invoice_id
           ORDER BY i.due_date, i.number"#,
        as_of,
        c.id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|l| AgingLine {
        days_past_due: (as_of - l.due_date).num_days(),
        bucket: Bucket::of(as_of, l.due_date),
        number: l.number,
        issue_date: l.issue_date,
        due_date: l.due_date,
        balance: usd(l.balance),
    })
    .collect();
    let figures = rows(pool, as_of, Some(c.id), &q, 1)
        .await?
        .into_iter()
        .next()
        .map_or_else(Figures::zero, |r| r.own());
    Ok(CompanyAging {
        as_of,
        code: c.code,
        name: c.name,
        figures,
        lines,
    })
}

/// Every matching company's row for an export, and the totals row.
pub async fn all(pool: &PgPool, staff: &Staff, q: &AgingQuery) -> Result<AgingReport> {
    report(pool, staff, q, EXPORT_MAX).await
}

/// The report as CSV: a header, a row per company, a totals row (amounts as plain numbers).
pub fn csv(report: &AgingReport) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| crate::Error::Other(format!("writing CSV: {e}"));
    w.write_record(COLUMNS).map_err(io)?;
    let cells = |code: &str, name: &str, amounts: [Money; 10]| {
        let mut out = vec![defuse(code), defuse(name)];
        out.extend(amounts.iter().map(|m| m.amount().to_string()));
        out
    };
    for r in &report.rows {
        w.write_record(cells(&r.code, &r.name, r.amounts()))
            .map_err(io)?;
    }
    let totals = AgingRow {
        code: "Total".into(),
        name: format!("{} companies", report.companies),
        figures: report.totals.clone(),
    };
    w.write_record(cells(&totals.code, &totals.name, totals.amounts()))
        .map_err(io)?;
    w.into_inner()
        .map_err(|e| crate::Error::Other(format!("writing CSV: {e}")))
}

/// The export's file name.
pub fn file_name(as_of: NaiveDate, ext: &str) -> String {
    format!("settle-aging-{as_of}.{ext}")
}

/// The report as a workbook: one sheet, the header frozen and filterable, amounts as numbers
/// in a currency format, a totals row of formulas-free sums. Rows go to a temporary file as
/// they are written (constant memory), and the workbook to a spooled file ([`super::spool`])
/// to be streamed, whatever the book's size.
pub fn xlsx(report: &AgingReport) -> Result<super::Spooled> {
    use rust_xlsxwriter::{Format, Workbook, XlsxError};
    let mut file = super::spool("aging.xlsx")?;
    let mut build = || -> std::result::Result<(), XlsxError> {
        let mut wb = Workbook::new();
        let header = Format::new()
            .set_bold()
            .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
        let money = Format::new().set_num_format("$#,##0.00;[Red]-$#,##0.00");
        let total_label = Format::new()
            .set_bold()
            .set_border_top(rust_xlsxwriter::FormatBorder::Thin);
        let total_money = Format::new()
            .set_bold()
            .set_border_top(rust_xlsxwriter::FormatBorder::Thin)
            .set_num_format("$#,##0.00;[Red]-$#,##0.00");
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name("Aging")?;
        ws.set_column_width(0, 10)?;
        ws.set_column_width(1, 36)?;
        for c in 2..COLUMNS.len() as u16 {
            ws.set_column_width(c, 15)?;
        }
        ws.write_string(
            0,
            0,
            format!("Aging as of {} ({})", report.as_of, report.time_zone),
        )?;
        for (c, title) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, *title, &header)?;
        }
        let number = |m: &Money| m.amount().try_into().unwrap_or(0.0f64);
        let mut row = 2u32;
        for r in &report.rows {
            ws.write_string(row, 0, &r.code)?;
            ws.write_string(row, 1, &r.name)?;
            for (c, m) in r.amounts().iter().enumerate() {
                ws.write_number_with_format(row, c as u16 + 2, number(m), &money)?;
            }
            row += 1;
        }
        ws.write_string_with_format(row, 0, "Total", &total_label)?;
        ws.write_string_with_format(
            row,
            1,
            format!("{} companies", report.companies),
            &total_label,
        )?;
        let totals = AgingRow {
            code: String::new(),
            name: String::new(),
            figures: report.totals.clone(),
        };
        for (c, m) in totals.amounts().iter().enumerate() {
            ws.write_number_with_format(row, c as u16 + 2, number(m), &total_money)?;
        }
        ws.set_freeze_panes(2, 0)?;
        ws.autofilter(1, 0, row.saturating_sub(1).max(1), COLUMNS.len() as u16 - 1)?;
        wb.save_to_writer(&mut file)
    };
    build().map_err(|e| crate::Error::Other(format!("writing the workbook: {e}")))?;
    super::Spooled::rewound(file)
}

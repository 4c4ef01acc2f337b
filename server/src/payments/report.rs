//! Payments across all companies for staff (the Payments screen) and its CSV export: the
//! same rows, newest first, filtered by day, status and kind of method.

use crate::authority::Staff;
use crate::reports::defuse;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::auth::Role;
use shared::money::Money;
use shared::page::{Page, Total, PAGE_SIZE};
use shared::payment::{ConsentChannel, PaymentStatus};
use shared::report::{BackFilter, MethodFilter, PaymentFilter, PaymentRow, COLUMNS};
use sqlx::PgPool;

/// The most rows one CSV export holds.
pub const EXPORT_MAX: i64 = 100_000;
/// Counting stops here ("10,000+").
const COUNT_LIMIT: i64 = 10_000;

#[derive(sqlx::FromRow)]
struct Row {
    number: String,
    created_at: DateTime<Utc>,
    status: PaymentStatus,
    code: String,
    name: String,
    method: Option<String>,
    amount: Decimal,
    surcharge: Decimal,
    on_account: Decimal,
    currency: String,
    taken_by: Option<String>,
    role: Option<Role>,
    source: String,
    consent_channel: Option<ConsentChannel>,
    consent_reference: Option<String>,
    invoices: Option<Vec<String>>,
    amounts: Option<Vec<Decimal>>,
    short_pays: Option<Vec<String>>,
    refunded: Decimal,
    refunds: Option<Vec<String>>,
    dispute: Option<String>,
}

/// The filter, shared by the page and its count. Both statements are sent unprepared
/// (`persistent(false)`: the query macros cannot) so each is planned for its values: a plan
/// kept for "any day, any status" scans where one day's filter would use the index.
const FROM_WHERE: &str = "FROM payments p \
     WHERE ($1::date IS NULL OR p.created_at >= $1::date::timestamptz) \
       AND ($2::date IS NULL OR p.created_at < ($2::date + 1)::timestamptz) \
       AND ($3::text IS NULL OR p.status = $3) \
       AND ($4::text IS NULL OR ($4 = 'erp' AND p.source = 'erp') \
            OR (p.source = 'settle' AND EXISTS (SELECT 1 FROM payment_methods m WHERE m.id = p.method_id AND m.kind = $4))) \
       AND ($5::text IS NULL \
            OR ($5 = 'disputed' AND EXISTS (SELECT 1 FROM payment_disputes d WHERE d.payment_id = p.id)) \
            OR EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id AND CASE $5 \
                   WHEN 'refunded' THEN r.kind = 'refund' AND r.status IN ('pending', 'succeeded') \
                   WHEN 'reversed' THEN r.kind = 'reversal' AND r.status = 'succeeded' \
                   WHEN 'awaiting_approval' THEN r.status = 'awaiting_approval' ELSE false END))";

fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    f: &PaymentFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(f.from)
        .bind(f.to)
        .bind(f.status.map(shared::report::status_key))
        .bind(f.method.map(MethodFilter::key))
        .bind(f.back.map(BackFilter::key))
}

async fn rows(
    pool: &PgPool,
    f: &PaymentFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<PaymentRow>> {
    let sql = format!(
        "SELECT p.number, p.created_at, p.status, c.code, c.name, \
                COALESCE(p.method_label, m.card_brand || ' ' || m.last4, m.bank_name || ' ' || m.last4, p.memo) AS method, \
                p.amount, p.surcharge, p.on_account, p.currency::text AS currency, u.name AS taken_by, u.role, p.source, p.consent_channel, p.consent_reference, \
                (SELECT array_agg(i.number ORDER BY i.number) FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id WHERE a.payment_id = p.id) AS invoices, \
                (SELECT array_agg(a.amount ORDER BY i.number) FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id WHERE a.payment_id = p.id) AS amounts, \
                (SELECT array_agg(i.number || ' ' || concat_ws(' ', a.short_pay_code, '(' || a.short_pay_reason || ')') ORDER BY i.number) \
                 FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id \
                 WHERE a.payment_id = p.id AND (a.short_pay_code IS NOT NULL OR a.short_pay_reason IS NOT NULL)) AS short_pays, \
                (SELECT COALESCE(sum(r.amount), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status IN ('pending', 'succeeded')) AS refunded, \
                (SELECT array_agg(r.number || ' ' || r.kind || ' ' || r.amount || ' ' || r.status || ' (' || r.reason || ')' ORDER BY r.id) \
                 FROM refunds r WHERE r.payment_id = p.id) AS refunds, \
                (SELECT d.amount || ' ' || d.status || ' (' || d.reason || ')' FROM payment_disputes d WHERE d.payment_id = p.id \
                 ORDER BY d.opened_at DESC LIMIT 1) AS dispute \
         FROM (SELECT p.* {FROM_WHERE} ORDER BY p.created_at DESC, p.id DESC LIMIT $6 OFFSET $7) p \
         JOIN companies c ON c.id = p.company_id \
         LEFT JOIN payment_methods m ON m.id = p.method_id \
         LEFT JOIN users u ON u.id = p.initiated_by \
         ORDER BY p.created_at DESC, p.id DESC"
    );
    let rows: Vec<Row> = bind_filter(sqlx::query_as(&sql), f)
        .bind(limit)
        .bind(offset)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(to_row).collect()
}

fn to_row(r: Row) -> Result<PaymentRow> {
    let currency = crate::companies::currency(&r.currency)?;
    let invoices = r
        .invoices
        .unwrap_or_default()
        .into_iter()
        .zip(r.amounts.unwrap_or_default())
        .map(|(n, a)| (n, Money::new(a, currency)))
        .collect();
    let consent = match (r.consent_channel, r.consent_reference) {
        (Some(ConsentChannel::Portal), _) => "In the customer portal".to_string(),
        (Some(ch), Some(reference)) => format!("{} — {reference}", ch.label()),
        (Some(ch), None) => ch.label().to_string(),
        (None, _) => String::new(),
    };
    Ok(PaymentRow {
        number: r.number,
        created_at: r.created_at,
        status: r.status,
        company_code: r.code,
        company_name: r.name,
        method: match (r.source.as_str(), r.method) {
            ("erp", Some(m)) => format!("{m} (ERP)"),
            (_, Some(m)) => m,
            (_, None) => "—".into(),
        },
        invoices,
        short_pays: r.short_pays.unwrap_or_default(),
        amount: Money::new(r.amount, currency),
        surcharge: (r.surcharge > Decimal::ZERO).then(|| Money::new(r.surcharge, currency)),
        on_account: (r.on_account > Decimal::ZERO).then(|| Money::new(r.on_account, currency)),
        on_behalf: r.role.is_some_and(Role::is_staff),
        taken_by: match (r.source.as_str(), r.taken_by) {
            ("erp", _) => "ERP".into(),
            (_, Some(n)) => n,
            (_, None) => "—".into(),
        },
        consent,
        refunded: Money::new(r.refunded, currency),
        refunds: r.refunds.unwrap_or_default(),
        dispute: r.dispute,
    })
}

/// One page of payments matching `f`.
pub async fn list(pool: &PgPool, _staff: &Staff, f: &PaymentFilter) -> Result<Page<PaymentRow>> {
    let count_sql = format!("SELECT count(*) FROM (SELECT 1 {FROM_WHERE} LIMIT {COUNT_LIMIT}) x");
    let (counted,): (i64,) = bind_filter(sqlx::query_as(&count_sql), f)
        .persistent(false)
        .fetch_one(pool)
        .await?;
    let total_is = if counted >= COUNT_LIMIT {
        Total::AtLeast
    } else {
        Total::Exact
    };
    let last = shared::page::last_page(counted, PAGE_SIZE);
    let page = f.page.min(last.max(1));
    let items = rows(pool, f, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    Ok(Page {
        items,
        total: counted,
        total_is,
        page,
        per_page: PAGE_SIZE,
    })
}

/// Every payment matching `f` (at most [`EXPORT_MAX`]) as CSV, with the screen's columns.
/// A cell that a spreadsheet would run as a formula is prefixed with `'`.
pub async fn csv(pool: &PgPool, _staff: &Staff, f: &PaymentFilter) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| crate::Error::Other(format!("writing CSV: {e}"));
    w.write_record(COLUMNS).map_err(io)?;
    let mut offset = 0;
    while offset < EXPORT_MAX {
        let batch = rows(pool, f, 5_000, offset).await?;
        for r in &batch {
            w.write_record(r.cells().iter().map(|c| defuse(c)))
                .map_err(io)?;
        }
        if batch.len() < 5_000 {
            break;
        }
        offset += 5_000;
    }
    w.into_inner()
        .map_err(|e| crate::Error::Other(format!("writing CSV: {e}")))
}

/// The export's file name for the filter.
pub fn file_name(f: &PaymentFilter, today: NaiveDate) -> String {
    match (f.from, f.to) {
        (Some(a), Some(b)) => format!("settle-payments-{a}-to-{b}.csv"),
        (Some(a), None) => format!("settle-payments-from-{a}.csv"),
        (None, Some(b)) => format!("settle-payments-to-{b}.csv"),
        (None, None) => format!("settle-payments-{today}.csv"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused() {
        assert_eq!(super::defuse("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(super::defuse("P-100"), "P-100");
    }
}

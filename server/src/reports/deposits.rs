//! Deposits (migration 0029): per seller's day and rail, the money Settle moved
//! (`money_movements`) beside the gateway's own books — the sandbox's balance transactions
//! when it is the gateway — and the NACHA files' control totals beside their entries; a day's
//! line movement by movement, matched by the gateway's ids.

use crate::ach_files::nacha;
use crate::authority::{ApiKey, Staff};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::deposit::{
    Books, DepositDay, DepositItem, DepositLine, DepositsQuery, DepositsReport, Figures,
    FileTotals, Movement, Rail,
};
use sqlx::PgPool;
use std::collections::BTreeMap;

/// The most movements one day's line lists.
pub const ITEMS_MAX: i64 = 2_000;

/// Whose books each rail is compared with.
#[derive(Clone, Debug)]
pub struct Sources {
    pub card: Books,
    pub ach: Books,
}

impl Sources {
    /// The books of the gateways this instance runs with: the sandbox's when it is the
    /// gateway; NACHA files' totals (compared apart) when ACH goes to the bank in files.
    pub fn of(state: &crate::AppState) -> Sources {
        let card = if state.sandbox.is_some() {
            Books::Sandbox
        } else {
            Books::NotCompared(
                "Not compared: Settle does not read Stripe's balance transactions yet.".into(),
            )
        };
        let ach = if state.config.nacha.is_some() {
            Books::NachaFiles
        } else {
            card.clone()
        };
        Sources { card, ach }
    }
}

fn parsed<T>(raw: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(raw)
        .ok_or_else(|| crate::Error::Other(format!("an unknown movement in the books: {raw}")))
}

/// Whether `books` are the sandbox's.
fn sandbox(books: &Books) -> bool {
    matches!(books, Books::Sandbox)
}

/// The report for the days asked for (staff).
pub async fn report(
    pool: &PgPool,
    _staff: &Staff,
    query: &DepositsQuery,
    sources: &Sources,
) -> Result<DepositsReport> {
    build(pool, query, sources).await
}

/// The same report for the ERP (`GET /api/v1/reports/deposits`).
pub async fn report_for_key(
    pool: &PgPool,
    _key: &ApiKey,
    query: &DepositsQuery,
    sources: &Sources,
) -> Result<DepositsReport> {
    build(pool, query, sources).await
}

async fn build(pool: &PgPool, query: &DepositsQuery, sources: &Sources) -> Result<DepositsReport> {
    let time_zone = super::time_zone(pool).await?;
    let settle = sqlx::query!(
        r#"WITH tz AS (SELECT time_zone FROM seller_settings)
           SELECT (m.at AT TIME ZONE tz.time_zone)::date AS "day!", m.rail AS "rail!", m.kind AS "kind!",
                  sum(m.amount) AS "amount!", count(*) AS "count!"
           FROM money_movements m, tz
           WHERE m.at >= ($1::date::timestamp AT TIME ZONE tz.time_zone)
             AND m.at < (($2::date + 1)::timestamp AT TIME ZONE tz.time_zone)
           GROUP BY 1, 2, 3"#,
        query.from,
        query.to
    )
    .fetch_all(pool)
    .await?;
    let gateway = sqlx::query!(
        r#"WITH tz AS (SELECT time_zone FROM seller_settings)
           SELECT (b.created_at AT TIME ZONE tz.time_zone)::date AS "day!", t.kind AS "rail!", b.kind AS "kind!",
                  sum(b.amount) AS "amount!", sum(b.fee) AS "fee!", count(*) AS "count!"
           FROM sandbox_balance_transactions b
           JOIN sandbox_charges c ON c.id = b.charge_id
           JOIN sandbox_tokens t ON t.token = c.token, tz
           WHERE b.created_at >= ($1::date::timestamp AT TIME ZONE tz.time_zone)
             AND b.created_at < (($2::date + 1)::timestamp AT TIME ZONE tz.time_zone)
             AND ((t.kind = 'card' AND $3) OR (t.kind = 'ach' AND $4))
           GROUP BY 1, 2, 3"#,
        query.from,
        query.to,
        sandbox(&sources.card),
        sandbox(&sources.ach)
    )
    .fetch_all(pool)
    .await?;
    let compared = |rail: Rail| match rail {
        Rail::Card => sandbox(&sources.card),
        Rail::Ach => sandbox(&sources.ach),
    };
    // Each side adds to its own figures of the line of its day and rail.
    let mut lines: BTreeMap<(NaiveDate, Rail), DepositLine> = BTreeMap::new();
    let sides = settle
        .into_iter()
        .map(|r| {
            (
                r.day,
                r.rail,
                r.kind,
                r.amount,
                Decimal::ZERO,
                r.count,
                false,
            )
        })
        .chain(
            gateway
                .into_iter()
                .map(|r| (r.day, r.rail, r.kind, r.amount, r.fee, r.count, true)),
        );
    for (day, rail, kind, amount, fee, count, on_gateway) in sides {
        let (rail, kind) = (parsed(&rail, Rail::parse)?, parsed(&kind, Movement::parse)?);
        let line = lines.entry((day, rail)).or_insert_with(|| DepositLine {
            day,
            rail,
            settle: Figures::default(),
            gateway: compared(rail).then(Figures::default),
        });
        let figures = if on_gateway {
            line.gateway.as_mut()
        } else {
            Some(&mut line.settle)
        };
        if let Some(f) = figures {
            f.add(kind, amount, fee, count);
        }
    }
    let files = files(pool, query).await?;
    Ok(DepositsReport {
        from: query.from,
        to: query.to,
        time_zone,
        card_books: sources.card.clone(),
        ach_books: sources.ach.clone(),
        lines: lines.into_values().rev().collect(),
        files,
    })
}

/// The NACHA files written in the period: each control record's totals beside the entries
/// Settle put in the file.
async fn files(pool: &PgPool, query: &DepositsQuery) -> Result<Vec<FileTotals>> {
    let rows = sqlx::query!(
        r#"WITH tz AS (SELECT time_zone FROM seller_settings)
           SELECT f.id, f.name, (f.created_at AT TIME ZONE tz.time_zone)::date AS "day!", f.body,
                  COALESCE(sum(e.cents) FILTER (WHERE NOT e.credit), 0)::bigint AS "debits!",
                  COALESCE(sum(e.cents) FILTER (WHERE e.credit), 0)::bigint AS "credits!",
                  count(e.id) AS "entries!"
           FROM ach_files f LEFT JOIN ach_entries e ON e.file_id = f.id, tz
           WHERE f.created_at >= ($1::date::timestamp AT TIME ZONE tz.time_zone)
             AND f.created_at < (($2::date + 1)::timestamp AT TIME ZONE tz.time_zone)
           GROUP BY f.id, tz.time_zone ORDER BY f.created_at DESC"#,
        query.from,
        query.to
    )
    .fetch_all(pool)
    .await?;
    let cents = |c: u64| Decimal::new(i64::try_from(c).unwrap_or(i64::MAX), 2);
    Ok(rows
        .into_iter()
        .map(|r| {
            // A file whose control record cannot be read adds up to nothing: shown as a difference.
            let control = nacha::control_totals(&r.body).unwrap_or_default();
            FileTotals {
                id: r.id,
                name: r.name,
                day: r.day,
                entries: r.entries,
                file_debits: cents(control.debits),
                file_credits: cents(control.credits),
                entry_debits: Decimal::new(r.debits, 2),
                entry_credits: Decimal::new(r.credits, 2),
            }
        })
        .collect())
}

struct ItemRow {
    kind: String,
    reference: Option<String>,
    payment: Option<String>,
    code: Option<String>,
    name: Option<String>,
    settle_at: Option<DateTime<Utc>>,
    settle: Option<Decimal>,
    gateway_at: Option<DateTime<Utc>>,
    gateway: Option<Decimal>,
    fee: Decimal,
}

/// One day's line of a rail, movement by movement: Settle's beside the gateway's, matched by
/// the gateway's id of the charge, refund or dispute; a movement on one side only stands
/// alone (with its payment found by the charge when Settle knows it).
pub async fn day(
    pool: &PgPool,
    _staff: &Staff,
    day: NaiveDate,
    rail: Rail,
    sources: &Sources,
) -> Result<DepositDay> {
    let books = match rail {
        Rail::Card => sources.card.clone(),
        Rail::Ach => sources.ach.clone(),
    };
    let rows = sqlx::query_as!(
        ItemRow,
        r#"WITH tz AS (SELECT time_zone FROM seller_settings),
           bounds AS (SELECT ($1::date::timestamp AT TIME ZONE tz.time_zone) AS lo,
                             (($1::date + 1)::timestamp AT TIME ZONE tz.time_zone) AS hi FROM tz),
           s AS (SELECT m.kind, m.at, m.amount, m.payment_id,
                        CASE m.kind WHEN 'refund' THEN r.gateway_refund_id
                                    WHEN 'dispute' THEN m.dispute_id WHEN 'dispute_won' THEN m.dispute_id
                                    ELSE p.gateway_charge_id END AS reference
                 FROM money_movements m JOIN payments p ON p.id = m.payment_id
                 LEFT JOIN refunds r ON r.id = m.refund_id, bounds
                 WHERE m.rail = $2 AND m.at >= bounds.lo AND m.at < bounds.hi),
           g AS (SELECT b.kind, b.source AS reference, b.created_at AS at, b.amount, b.fee, b.charge_id
                 FROM sandbox_balance_transactions b
                 JOIN sandbox_charges c ON c.id = b.charge_id
                 JOIN sandbox_tokens t ON t.token = c.token, bounds
                 WHERE $3 AND t.kind = $2 AND b.created_at >= bounds.lo AND b.created_at < bounds.hi)
           SELECT COALESCE(s.kind, g.kind) AS "kind!", COALESCE(s.reference, g.reference) AS reference,
                  p.number AS "payment?", co.code AS "code?", co.name AS "name?",
                  s.at AS "settle_at?", s.amount AS "settle?", g.at AS "gateway_at?", g.amount AS "gateway?",
                  COALESCE(g.fee, 0) AS "fee!"
           FROM s FULL JOIN g ON g.kind = s.kind AND g.reference = s.reference
           LEFT JOIN payments p ON p.id = s.payment_id OR (s.payment_id IS NULL AND p.gateway_charge_id = g.charge_id)
           LEFT JOIN companies co ON co.id = p.company_id
           ORDER BY COALESCE(s.at, g.at), COALESCE(s.reference, g.reference)
           LIMIT $4"#,
        day,
        rail.key(),
        sandbox(&books),
        ITEMS_MAX
    )
    .fetch_all(pool)
    .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(DepositItem {
                kind: parsed(&r.kind, Movement::parse)?,
                reference: r.reference,
                payment: r.payment,
                company_code: r.code,
                company_name: r.name,
                settle_at: r.settle_at,
                settle: r.settle,
                gateway_at: r.gateway_at,
                gateway: r.gateway,
                fee: r.fee,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DepositDay {
        day,
        rail,
        time_zone: super::time_zone(pool).await?,
        books,
        items,
    })
}

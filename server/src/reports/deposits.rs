//! Deposits (migration 0029): per seller's day and rail, the money Settle moved
//! (`money_movements`) beside the gateway's own books — the sandbox's balance transactions
//! when it is the gateway, Stripe's (read from its API for the days shown) when Stripe is —
//! and the NACHA files' control totals beside their entries; a day's line movement by
//! movement, matched by the gateway's ids.

use crate::ach_files::nacha;
use crate::authority::{ApiKey, Staff};
use crate::gateway::stripe::balance::Entry;
use crate::gateway::{GatewayError, StripeGateway};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::deposit::{
    Books, DepositDay, DepositItem, DepositLine, DepositsQuery, DepositsReport, Figures,
    FileTotals, Movement, Rail,
};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The most movements one day's line lists.
pub const ITEMS_MAX: i64 = 2_000;

/// Whose books each rail is compared with.
#[derive(Clone)]
pub struct Sources {
    pub card: Books,
    pub ach: Books,
    /// Stripe, whose books are read when a rail's are [`Books::Stripe`].
    pub stripe: Option<Arc<StripeGateway>>,
}

impl Sources {
    /// The books of the gateways this instance runs with: the sandbox's or Stripe's, whichever
    /// is the gateway; NACHA files' totals (compared apart) when ACH goes to the bank in files.
    pub fn of(state: &crate::AppState) -> Sources {
        let card = if state.sandbox.is_some() {
            Books::Sandbox
        } else if state.stripe.is_some() {
            Books::Stripe
        } else {
            Books::NotCompared("Not compared: the gateway's books cannot be read.".into())
        };
        let ach = if state.config.nacha.is_some() {
            Books::NachaFiles
        } else {
            card.clone()
        };
        Sources {
            card,
            ach,
            stripe: state.stripe.clone(),
        }
    }

    fn books(&self, rail: Rail) -> &Books {
        match rail {
            Rail::Card => &self.card,
            Rail::Ach => &self.ach,
        }
    }

    /// These sources with Stripe's books, which could not be read, said to be not compared.
    fn unread(&self, why: &str) -> Sources {
        let or = |b: &Books| match b {
            Books::Stripe => Books::NotCompared(format!(
                "Not compared: Stripe's balance transactions could not be read ({why})."
            )),
            other => other.clone(),
        };
        Sources {
            card: or(&self.card),
            ach: or(&self.ach),
            stripe: None,
        }
    }
}

/// Movements read from a gateway's API (Stripe's), as columns the queries set beside the
/// sandbox's tables.
#[derive(Default)]
struct Read {
    at: Vec<DateTime<Utc>>,
    rail: Vec<String>,
    kind: Vec<String>,
    reference: Vec<String>,
    /// The PaymentIntent, or empty.
    intent: Vec<String>,
    amount: Vec<Decimal>,
    fee: Vec<Decimal>,
}

/// Stripe's movements in the seller's days `from..=to` on the rails (`only`, or all) whose
/// books are Stripe's; the sources as read (Stripe's said to be not compared when it could
/// not be read).
async fn read_stripe(
    pool: &PgPool,
    sources: &Sources,
    from: NaiveDate,
    to: NaiveDate,
    only: Option<Rail>,
) -> Result<(Read, Sources)> {
    let wanted =
        |rail: Rail| only.is_none_or(|o| o == rail) && matches!(sources.books(rail), Books::Stripe);
    let Some(stripe) = sources
        .stripe
        .as_ref()
        .filter(|_| Rail::ALL.into_iter().any(wanted))
    else {
        return Ok((Read::default(), sources.clone()));
    };
    let bounds = sqlx::query!(
        r#"SELECT ($1::date::timestamp AT TIME ZONE time_zone) AS "lo!",
                  (($2::date + 1)::timestamp AT TIME ZONE time_zone) AS "hi!"
           FROM seller_settings"#,
        from,
        to
    )
    .fetch_one(pool)
    .await?;
    let entries = match stripe.books(bounds.lo, bounds.hi).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("Stripe's balance transactions were not read: {e}");
            return Ok((Read::default(), sources.unread(&e.to_string())));
        }
    };
    let rails = match rails(pool, stripe, &entries).await? {
        Ok(r) => r,
        Err(e) => return Ok((Read::default(), sources.unread(&e.to_string()))),
    };
    let mut read = Read::default();
    for (e, rail) in entries.into_iter().zip(rails) {
        if !wanted(rail) {
            continue;
        }
        read.at.push(e.at);
        read.rail.push(rail.key().into());
        read.kind.push(e.kind.key().into());
        read.reference.push(e.reference);
        read.intent.push(e.intent.unwrap_or_default());
        read.amount.push(e.amount);
        read.fee.push(e.fee);
    }
    Ok((read, sources.clone()))
}

/// Each entry's rail: its charge's payment method; a refund's or a dispute's is its intent's,
/// known from a charge in the same books, from Settle's payment, or else asked of Stripe. A
/// movement of a charge made without an intent is a card's (Stripe's older Charges API).
/// Stripe's refusal is the inner error.
async fn rails(
    pool: &PgPool,
    stripe: &StripeGateway,
    entries: &[Entry],
) -> Result<std::result::Result<Vec<Rail>, GatewayError>> {
    let mut known: HashMap<String, Rail> = entries
        .iter()
        .filter_map(|e| Some((e.intent.clone()?, e.rail?)))
        .collect();
    let unknown: Vec<String> = entries
        .iter()
        .filter(|e| e.rail.is_none())
        .filter_map(|e| e.intent.clone())
        .filter(|i| !known.contains_key(i))
        .collect();
    if !unknown.is_empty() {
        let settle = sqlx::query!(
            r#"SELECT p.gateway_charge_id AS "intent!", m.kind
               FROM payments p JOIN payment_methods m ON m.id = p.method_id
               WHERE p.gateway_charge_id = ANY($1)"#,
            &unknown
        )
        .fetch_all(pool)
        .await?;
        for r in settle {
            if let Some(rail) = Rail::parse(&r.kind) {
                known.insert(r.intent, rail);
            }
        }
        for intent in unknown {
            if let std::collections::hash_map::Entry::Vacant(v) = known.entry(intent) {
                match stripe.intent_rail(v.key()).await {
                    Ok(rail) => v.insert(rail.unwrap_or(Rail::Card)),
                    Err(e) => return Ok(Err(e)),
                };
            }
        }
    }
    Ok(Ok(entries
        .iter()
        .map(|e| {
            e.rail
                .or_else(|| e.intent.as_ref().and_then(|i| known.get(i).copied()))
                .unwrap_or(Rail::Card)
        })
        .collect()))
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
    let (read, sources) = read_stripe(pool, sources, query.from, query.to, None).await?;
    let sources = &sources;
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
        r#"WITH tz AS (SELECT time_zone FROM seller_settings),
           g AS (SELECT b.created_at AS at, t.kind AS rail, b.kind, b.amount, b.fee
                 FROM sandbox_balance_transactions b
                 JOIN sandbox_charges c ON c.id = b.charge_id
                 JOIN sandbox_tokens t ON t.token = c.token, tz
                 WHERE b.created_at >= ($1::date::timestamp AT TIME ZONE tz.time_zone)
                   AND b.created_at < (($2::date + 1)::timestamp AT TIME ZONE tz.time_zone)
                   AND ((t.kind = 'card' AND $3) OR (t.kind = 'ach' AND $4))
                 UNION ALL
                 SELECT * FROM unnest($5::timestamptz[], $6::text[], $7::text[], $8::numeric[], $9::numeric[]))
           SELECT (g.at AT TIME ZONE tz.time_zone)::date AS "day!", g.rail AS "rail!", g.kind AS "kind!",
                  sum(g.amount) AS "amount!", sum(g.fee) AS "fee!", count(*) AS "count!"
           FROM g, tz
           GROUP BY 1, 2, 3"#,
        query.from,
        query.to,
        sandbox(&sources.card),
        sandbox(&sources.ach),
        &read.at,
        &read.rail,
        &read.kind,
        &read.amount,
        &read.fee
    )
    .fetch_all(pool)
    .await?;
    let compared = |rail: Rail| sources.books(rail).compares_movements();
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
    let (read, sources) = read_stripe(pool, sources, day, day, Some(rail)).await?;
    let books = sources.books(rail).clone();
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
                 WHERE $3 AND t.kind = $2 AND b.created_at >= bounds.lo AND b.created_at < bounds.hi
                 UNION ALL
                 SELECT u.kind, u.reference, u.at, u.amount, u.fee, NULLIF(u.intent, '')
                 FROM unnest($5::text[], $6::text[], $7::timestamptz[], $8::numeric[], $9::numeric[],
                             $10::text[], $11::text[]) AS u(kind, reference, at, amount, fee, intent, rail)
                 WHERE u.rail = $2)
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
        ITEMS_MAX,
        &read.kind,
        &read.reference,
        &read.at,
        &read.amount,
        &read.fee,
        &read.intent,
        &read.rail
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

//! The aging as of any day: generated histories of invoices, payments (some returned, failed
//! or declined later), refunds and credit, written with their real times; for any day, each
//! invoice's balance, the buckets and the totals equal what replaying the history up to the
//! end of that day (in the seller's time zone) gives, and as of today the aging is the book.

use crate::common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{fixture, Fixture};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use server::reports::aging;
use shared::aging::{AgingQuery, Bucket};
use shared::money::Money;
use sqlx::PgPool;
use std::collections::BTreeMap;

/// One invoice of a generated history.
struct Inv {
    id: i64,
    number: String,
    issue: NaiveDate,
    due: NaiveDate,
    total: Decimal,
}

/// What moved an invoice's balance, with when it started and stopped counting.
struct Move {
    invoice: i64,
    /// Negative: paid down; positive: reopened.
    delta: Decimal,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

struct History {
    code: String,
    invoices: Vec<Inv>,
    moves: Vec<Move>,
    /// Credit made (positive) or used (negative), with when.
    credit: Vec<(Decimal, DateTime<Utc>)>,
}

impl History {
    /// Each invoice's balance at `t` with what was issued by day `day`, only those above zero.
    fn balances(&self, day: NaiveDate, t: DateTime<Utc>) -> BTreeMap<i64, Decimal> {
        let mut out = BTreeMap::new();
        for i in self.invoices.iter().filter(|i| i.issue <= day) {
            let b = self
                .moves
                .iter()
                .filter(|m| m.invoice == i.id && m.from < t && m.until.is_none_or(|u| u >= t))
                .fold(i.total, |b, m| b + m.delta);
            if b > Decimal::ZERO {
                out.insert(i.id, b);
            }
        }
        out
    }

    fn credit_at(&self, t: DateTime<Utc>) -> Decimal {
        self.credit
            .iter()
            .filter(|(_, at)| *at < t)
            .map(|(a, _)| *a)
            .sum()
    }
}

fn cents(rng: &mut StdRng, max: i64) -> Decimal {
    Decimal::new(rng.gen_range(1..=max), 2)
}

/// Writes one random history for a new company, chronologically: each payment pays at most
/// what is open when it is made; some stop counting later; refunds reopen part of a counting
/// payment's line; a credit memo's credit pays invoices down.
async fn generate(f: &Fixture, rng: &mut StdRng, n: usize) -> History {
    let pool = &f.pool;
    let clerk: i64 =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'clerk@settle.example'")
            .fetch_one(pool)
            .await
            .unwrap();
    let code = format!("C9{n:03}");
    let company: i64 =
        sqlx::query_scalar("INSERT INTO companies (code, name) VALUES ($1, $2) RETURNING id")
            .bind(&code)
            .bind(format!("Aging History {n}"))
            .fetch_one(pool)
            .await
            .unwrap();
    let now = Utc::now();
    let start = now - Duration::days(200);
    let mut invoices = Vec::new();
    for k in 0..rng.gen_range(1..=6) {
        let issue = (start + Duration::days(rng.gen_range(0..190))).date_naive();
        let due = issue + Duration::days(rng.gen_range(0..=60));
        let total = cents(rng, 100_000);
        let number = format!("AG-{n}-{k}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance, created_at)
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(company)
        .bind(&number)
        .bind(issue)
        .bind(due)
        .bind(total)
        .bind(start)
        .fetch_one(pool)
        .await
        .unwrap();
        invoices.push(Inv {
            id,
            number,
            issue,
            due,
            total,
        });
    }
    // A cancelled invoice never shows.
    sqlx::query(
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance, status)
         VALUES ($1, $2, $3, $3, 50, 0, 'cancelled')",
    )
    .bind(company)
    .bind(format!("AG-{n}-X"))
    .bind(start.date_naive())
    .execute(pool)
    .await
    .unwrap();
    // A credit memo: credit from the day it was issued.
    let memo_day = start + Duration::days(rng.gen_range(0..150));
    let memo_total = cents(rng, 50_000);
    let memo: i64 = sqlx::query_scalar(
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance, status)
         VALUES ($1, $2, $3, $3, $4, 0, 'credit_memo') RETURNING id",
    )
    .bind(company)
    .bind(format!("AG-{n}-CM"))
    .bind(memo_day.date_naive())
    .bind(memo_total)
    .fetch_one(pool)
    .await
    .unwrap();
    let (credit_id, memo_from): (i64, DateTime<Utc>) = sqlx::query_as(
        "UPDATE credits SET created_at = seller_day_end($2) - interval '1 day'
         WHERE memo_invoice_id = $1 RETURNING id, created_at",
    )
    .bind(memo)
    .bind(memo_day.date_naive())
    .fetch_one(pool)
    .await
    .unwrap();
    let mut credit = vec![(memo_total, memo_from)];
    let mut credit_left = memo_total;

    // The actions, in time order.
    let mut times: Vec<DateTime<Utc>> = (0..rng.gen_range(0..=12))
        .map(|_| start + Duration::minutes(rng.gen_range(0..200 * 24 * 60 - 10)))
        .collect();
    times.sort();
    let mut moves: Vec<Move> = Vec::new();
    // Paying at most the total less every payment and credit ever made on it keeps every
    // moment's balance at or above zero, whatever stops counting when; a refund gives back at
    // most its own payment, so none goes above the total.
    let open_at = |moves: &[Move], inv: &Inv| {
        moves
            .iter()
            .filter(|m| m.invoice == inv.id && m.delta < Decimal::ZERO)
            .fold(inv.total, |b, m| b + m.delta)
    };
    for (k, t) in times.into_iter().enumerate() {
        let issued: Vec<&Inv> = invoices
            .iter()
            .filter(|i| i.issue <= t.date_naive())
            .collect();
        if issued.is_empty() {
            continue;
        }
        let inv = issued[rng.gen_range(0..issued.len())];
        let open = open_at(&moves, inv);
        if open <= Decimal::ZERO {
            continue;
        }
        match rng.gen_range(0..10) {
            // Credit from the memo pays an invoice down.
            0 | 1 if credit_left > Decimal::ZERO && memo_from <= t => {
                let amount = open.min(credit_left).min(cents(rng, 30_000));
                sqlx::query(
                    "INSERT INTO credit_applications (key, credit_id, invoice_id, amount, door, applied_by, created_at)
                     VALUES (gen_random_uuid(), $1, $2, $3, 'staff', $4, $5)",
                )
                .bind(credit_id)
                .bind(inv.id)
                .bind(amount)
                .bind(clerk)
                .bind(t)
                .execute(pool)
                .await
                .unwrap();
                credit_left -= amount;
                credit.push((-amount, t));
                moves.push(Move {
                    invoice: inv.id,
                    delta: -amount,
                    from: t,
                    until: None,
                });
            }
            _ => {
                let amount = open.min(cents(rng, 60_000));
                // Settled, approved or pending count; returned, failed and voided stop later;
                // declined never counted.
                let status = [
                    "settled", "approved", "pending", "returned", "failed", "voided", "declined",
                ][rng.gen_range(0..7)];
                let stop = matches!(status, "returned" | "failed" | "voided")
                    .then(|| t + Duration::minutes(rng.gen_range(1..30 * 24 * 60)))
                    .filter(|s| *s < now);
                let status = if stop.is_none() && matches!(status, "returned" | "failed" | "voided")
                {
                    "settled"
                } else {
                    status
                };
                // Some are ERP records with the day they were received.
                let erp = rng.gen_bool(0.3);
                let received: Option<NaiveDate> = if erp {
                    Some(
                        sqlx::query_scalar("SELECT ($1::timestamptz AT TIME ZONE time_zone)::date FROM seller_settings")
                            .bind(t)
                            .fetch_one(pool)
                            .await
                            .unwrap(),
                    )
                } else {
                    None
                };
                let payment: i64 = sqlx::query_scalar(
                    "INSERT INTO payments (company_id, amount, status, source, external_id, external_kind,
                                           received_on, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, $8)) RETURNING id",
                )
                .bind(company)
                .bind(amount)
                .bind(status)
                .bind(if erp { "erp" } else { "settle" })
                .bind(erp.then(|| format!("AG-{n}-{k}")))
                .bind(erp.then_some("check"))
                .bind(received)
                .bind(t)
                .bind(stop)
                .fetch_one(pool)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO payment_allocations (payment_id, invoice_id, amount, balance_after)
                     VALUES ($1, $2, $3, 0)",
                )
                .bind(payment)
                .bind(inv.id)
                .bind(amount)
                .execute(pool)
                .await
                .unwrap();
                if status == "declined" {
                    continue;
                }
                moves.push(Move {
                    invoice: inv.id,
                    delta: -amount,
                    from: t,
                    until: stop,
                });
                // A refund of part of it, a while later.
                let refund_at = t + Duration::minutes(rng.gen_range(1..20 * 24 * 60));
                if rng.gen_bool(0.3) && refund_at < now && stop.is_none_or(|s| refund_at < s) {
                    let back = amount.min(cents(rng, 20_000));
                    let refund: i64 = sqlx::query_scalar(
                        "INSERT INTO refunds (payment_id, kind, amount, status, reason, idempotency_key,
                                              request_hash, gateway_key, requested_by, created_at)
                         VALUES ($1, 'refund', $2, 'succeeded', 'other', gen_random_uuid(), '\\x00',
                                 'refund-' || gen_random_uuid(), $3, $4) RETURNING id",
                    )
                    .bind(payment)
                    .bind(back)
                    .bind(clerk)
                    .bind(refund_at)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                    sqlx::query(
                        "INSERT INTO refund_lines (refund_id, invoice_id, amount, reopened) VALUES ($1, $2, $3, $3)",
                    )
                    .bind(refund)
                    .bind(inv.id)
                    .bind(back)
                    .execute(pool)
                    .await
                    .unwrap();
                    moves.push(Move {
                        invoice: inv.id,
                        delta: back,
                        from: refund_at,
                        until: stop,
                    });
                }
            }
        }
    }
    // Today's figures, as the engine would have left them.
    sqlx::query(
        "UPDATE invoices SET balance = total - invoice_applied(id) WHERE company_id = $1 AND status = 'open'",
    )
    .bind(company)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE credits SET remaining = amount - (SELECT COALESCE(sum(amount), 0) FROM credit_applications WHERE credit_id = credits.id) WHERE id = $1",
    )
    .bind(credit_id)
    .execute(pool)
    .await
    .unwrap();
    History {
        code,
        invoices,
        moves,
        credit,
    }
}

async fn day_end(pool: &PgPool, day: NaiveDate) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT seller_day_end($1)")
        .bind(day)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_aging_as_of_any_day_is_the_history_replayed_to_its_end(pool: PgPool) {
    let f = fixture(pool).await;
    // A zone far from the server's, so a day's end is not midnight UTC.
    sqlx::query("UPDATE seller_settings SET time_zone = 'Pacific/Auckland'")
        .execute(&f.pool)
        .await
        .unwrap();
    let staff = f.admin().await.staff().clone();
    let today = server::reports::today(&f.pool).await.unwrap();
    let seed: u64 = std::env::var("AGING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut histories = Vec::new();
    for n in 0..24 {
        histories.push(generate(&f, &mut rng, n).await);
    }
    f.ledger_holds().await;
    let mut days = vec![today];
    days.extend((0..10).map(|_| today - Duration::days(rng.gen_range(1..230))));
    for day in days {
        let t = day_end(&f.pool, day).await;
        for h in &histories {
            let want = h.balances(day, t);
            let got = aging::company(&f.pool, &staff, &h.code, Some(day))
                .await
                .unwrap()
                .unwrap();
            let lines: BTreeMap<String, (Decimal, Bucket)> = got
                .lines
                .iter()
                .map(|l| (l.number.clone(), (l.balance.amount(), l.bucket)))
                .collect();
            let expected: BTreeMap<String, (Decimal, Bucket)> = want
                .iter()
                .map(|(id, b)| {
                    let inv = h.invoices.iter().find(|i| i.id == *id).unwrap();
                    (inv.number.clone(), (*b, Bucket::of(day, inv.due)))
                })
                .collect();
            assert_eq!(
                lines, expected,
                "{} as of {day} (AGING_SEED={seed})",
                h.code
            );
            let open: Decimal = want.values().sum();
            let fig = &got.figures;
            let buckets: Decimal = fig.buckets.iter().map(Money::amount).sum();
            assert_eq!(
                (fig.open.amount(), buckets),
                (open, open),
                "{} as of {day}: the buckets sum to the open balance (AGING_SEED={seed})",
                h.code
            );
            assert_eq!(
                fig.unapplied_credit.amount(),
                h.credit_at(t),
                "{} credit as of {day} (AGING_SEED={seed})",
                h.code
            );
        }
        // The whole book's totals: the buckets sum to the open balance.
        let report = aging::report(
            &f.pool,
            &staff,
            &AgingQuery {
                as_of: Some(day),
                ..Default::default()
            },
            5,
        )
        .await
        .unwrap();
        let buckets: Decimal = report.totals.buckets.iter().map(Money::amount).sum();
        assert_eq!(buckets, report.totals.open.amount(), "the book as of {day}");
    }
    // As of today the aging is the book: every open balance there is.
    let report = aging::report(&f.pool, &staff, &AgingQuery::default(), 5)
        .await
        .unwrap();
    let book: Decimal =
        sqlx::query_scalar("SELECT sum(balance) FROM invoices WHERE status = 'open'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(report.as_of, today);
    assert_eq!(report.totals.open.amount(), book);
    let credit: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(remaining), 0) FROM credits WHERE credit_counts(payment_id)",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(report.totals.unapplied_credit.amount(), credit);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_seller_time_zone_is_one_postgres_knows_and_is_audited(pool: PgPool) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    assert_eq!(server::reports::time_zone(&f.pool).await.unwrap(), "UTC");
    for bad in [
        "",
        "Mars/Olympus_Mons",
        "America/New_York; DROP TABLE x",
        &"A".repeat(65),
    ] {
        let e = server::reports::set_time_zone(&f.pool, &admin, bad)
            .await
            .unwrap_err()
            .into_app();
        assert_eq!(
            e.field().map(|f| f.field.as_str()),
            Some("time_zone"),
            "{bad}"
        );
    }
    assert_eq!(server::reports::time_zone(&f.pool).await.unwrap(), "UTC");
    server::reports::set_time_zone(&f.pool, &admin, " Pacific/Kiritimati ")
        .await
        .unwrap();
    assert_eq!(
        server::reports::time_zone(&f.pool).await.unwrap(),
        "Pacific/Kiritimati"
    );
    // UTC+14: its today is never behind UTC's.
    let (theirs, utc): (NaiveDate, NaiveDate) =
        sqlx::query_as("SELECT seller_today(), (now() AT TIME ZONE 'UTC')::date")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(theirs >= utc);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'settings.time_zone_changed'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    let zones = server::reports::time_zones(&f.pool).await.unwrap();
    assert!(zones[0].starts_with("America/") && zones.contains(&"UTC".to_string()));
}

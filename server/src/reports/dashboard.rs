//! The staff home's figures (migration 0026). The book's aging, cash per week, DSO and the
//! customers most past due are a snapshot: computed in the background every few minutes
//! ([`refresh`], by one instance at a time), and when a view finds none of the seller's today,
//! and read by every view as one row. The payments to look at are read live, through the
//! indexes on when payments stopped counting and when they were made.

use super::aging;
use crate::authority::Staff;
use crate::Result;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use shared::aging::{AgingQuery, AgingSort};
use shared::dashboard::{
    Attention, Charts, Dashboard, DsoMonth, Rail, Snapshot, WeekCash, MONTHS, TOP_OVERDUE, WEEKS,
};
use shared::money::Money;
use shared::payment::PaymentStatus;
use sqlx::PgPool;

/// One refresh at a time in this instance: views that find the snapshot stale wait for the
/// one being made instead of each adding up the book.
static REFRESHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The dashboard: the snapshot of the seller's today (made now if there is none yet) and the
/// payments to look at. Staff only.
pub async fn dashboard(pool: &PgPool, _staff: &Staff) -> Result<Dashboard> {
    let snapshot = match stored(pool).await? {
        Some(s) => s,
        None => {
            let _one = REFRESHING.lock().await;
            // Made by another view while this one waited?
            match stored(pool).await? {
                Some(s) => s,
                None => make(pool).await?,
            }
        }
    };
    Ok(Dashboard {
        snapshot,
        attention: attention(pool).await?,
    })
}

/// Makes the snapshot again now (staff's "Refresh"): one made after staff asked serves them
/// (several asking at once wait for one), otherwise it is made now.
pub async fn refresh_now(pool: &PgPool, staff: &Staff) -> Result<Dashboard> {
    let asked = sqlx::query_scalar!(r#"SELECT now() AS "now!""#)
        .fetch_one(pool)
        .await?;
    {
        let _one = REFRESHING.lock().await;
        let made_since = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM dashboard_snapshot
                              WHERE computed_at > $1 AND day = seller_today()) AS "made!""#,
            asked
        )
        .fetch_one(pool)
        .await?;
        if !made_since {
            make(pool).await?;
        }
    }
    dashboard(pool, staff).await
}

/// Makes the snapshot again (the background's every few minutes); its day.
pub async fn refresh(pool: &PgPool) -> Result<NaiveDate> {
    let _one = REFRESHING.lock().await;
    Ok(make(pool).await?.as_of)
}

/// The stored snapshot if it is of the seller's today.
async fn stored(pool: &PgPool) -> Result<Option<Snapshot>> {
    let row = sqlx::query_scalar!(
        r#"SELECT figures AS "figures!" FROM dashboard_snapshot WHERE day = seller_today()"#
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|f| serde_json::from_value(f).ok()))
}

/// Adds up the book's figures and stores them as the snapshot.
async fn make(pool: &PgPool) -> Result<Snapshot> {
    let now = sqlx::query!(
        r#"SELECT seller_today() AS "today!", now() AS "now!", time_zone,
                  to_char(now() AT TIME ZONE time_zone, 'HH24:MI') AS "time!"
           FROM seller_settings"#
    )
    .fetch_one(pool)
    .await?;
    let today = now.today;
    let query = AgingQuery {
        as_of: Some(today),
        sort: AgingSort::Overdue,
        ..Default::default()
    };
    let aging = aging::build(pool, &query, TOP_OVERDUE as i64).await?;
    let weeks = weeks(pool, today).await?;
    let dso = dso(pool, today, aging.totals.open).await?;
    let snapshot = Snapshot {
        as_of: today,
        computed_at: now.now,
        computed_time: now.time,
        time_zone: now.time_zone,
        companies: aging.companies,
        top_overdue: aging
            .rows
            .into_iter()
            .filter(|r| r.figures.overdue().is_positive())
            .collect(),
        charts: Charts::draw(&aging.totals, &weeks, &dso),
        weeks,
        dso,
        totals: aging.totals,
    };
    let figures = serde_json::to_value(&snapshot)
        .map_err(|e| crate::Error::Other(format!("dashboard figures: {e}")))?;
    sqlx::query!(
        "INSERT INTO dashboard_snapshot (id, day, computed_at, figures) VALUES (true, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET day = $1, computed_at = $2, figures = $3",
        today,
        snapshot.computed_at,
        figures
    )
    .execute(pool)
    .await?;
    Ok(snapshot)
}

/// The Monday of the week `day` is in.
fn monday(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(day.weekday().num_days_from_monday() as u64)
}

/// Cash collected in each of the last [`WEEKS`] weeks, by rail: card payments approved and
/// ACH debits settled on the day they were made, ERP records on the day received (a payment
/// with no method in Settle, such as the demo history's checks, counts as recorded).
async fn weeks(pool: &PgPool, today: NaiveDate) -> Result<Vec<WeekCash>> {
    let first = monday(today) - chrono::Days::new(7 * (WEEKS as u64 - 1));
    let rows = sqlx::query!(
        r#"WITH taken AS (
               SELECT (p.created_at AT TIME ZONE s.time_zone)::date AS day,
                      CASE WHEN p.source = 'erp' OR m.id IS NULL THEN 'erp' ELSE m.kind END AS rail, p.amount
               FROM seller_settings s, payments p LEFT JOIN payment_methods m ON m.id = p.method_id
               WHERE p.created_at >= $1::date::timestamp AT TIME ZONE s.time_zone
                 AND p.received_on IS NULL
                 AND (p.status IN ('approved', 'settled')
                      OR (p.source = 'erp' AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')))
               UNION ALL
               SELECT p.received_on, 'erp', p.amount FROM payments p
               WHERE p.received_on >= $1::date
                 AND p.status NOT IN ('declined', 'returned', 'failed', 'voided'))
           SELECT date_trunc('week', day)::date AS "week!", rail AS "rail!", sum(amount) AS "amount!"
           FROM taken WHERE day BETWEEN $1 AND $2 AND rail IS NOT NULL
           GROUP BY 1, 2"#,
        first,
        today
    )
    .fetch_all(pool)
    .await?;
    let zero = Money::usd(Decimal::ZERO);
    let mut out: Vec<WeekCash> = (0..WEEKS as u64)
        .map(|i| WeekCash {
            week: first + chrono::Days::new(7 * i),
            rails: [zero; 3],
        })
        .collect();
    for r in rows {
        let (Some(w), Some(rail)) = (
            out.iter_mut().find(|w| w.week == r.week),
            Rail::ALL.iter().position(|x| x.key() == r.rail),
        ) else {
            continue;
        };
        w.rails[rail] = Money::usd(r.amount);
    }
    Ok(out)
}

/// The DSO of the last [`MONTHS`] months: receivables at each month's end (kept a day, see
/// kept a day in migration 0026's table; this month's are today's `open`) over what was invoiced in it.
async fn dso(pool: &PgPool, today: NaiveDate, open: Money) -> Result<Vec<DsoMonth>> {
    let this_month = today.with_day(1).unwrap_or(today);
    let first = this_month - Months::new(MONTHS as u32 - 1);
    let invoiced = sqlx::query!(
        r#"SELECT date_trunc('month', issue_date)::date AS "month!", sum(total) AS "total!"
           FROM invoices WHERE status = 'open' AND issue_date BETWEEN $1 AND $2
           GROUP BY 1"#,
        first,
        today
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(MONTHS);
    for i in 0..MONTHS as u32 {
        let month = first + Months::new(i);
        let next = month + Months::new(1);
        let (end, receivables) = if month == this_month {
            (today, open)
        } else {
            let end = next - chrono::Days::new(1);
            (end, Money::usd(month_end(pool, end).await?))
        };
        let invoiced = invoiced
            .iter()
            .find(|r| r.month == month)
            .map_or(Decimal::ZERO, |r| r.total);
        out.push(DsoMonth {
            month,
            receivables,
            invoiced: Money::usd(invoiced),
            days: (end - month).num_days() as u32 + 1,
        });
    }
    Ok(out)
}

/// The book's receivables at the end of day `end` (a month gone by), kept for a day.
async fn month_end(pool: &PgPool, end: NaiveDate) -> Result<Decimal> {
    let kept = sqlx::query_scalar!(
        "SELECT open FROM receivables_month_ends
         WHERE day = $1 AND computed_at > now() - interval '1 day'",
        end
    )
    .fetch_optional(pool)
    .await?;
    if let Some(open) = kept {
        return Ok(open);
    }
    let open = sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(open), 0) AS "open!" FROM aging_figures($1, NULL)"#,
        end
    )
    .fetch_one(pool)
    .await?;
    sqlx::query!(
        "INSERT INTO receivables_month_ends (day, open) VALUES ($1, $2)
         ON CONFLICT (day) DO UPDATE SET open = $2, computed_at = now()",
        end,
        open
    )
    .execute(pool)
    .await?;
    Ok(open)
}

/// Payments that failed, were declined or came back since the start of the seller's
/// yesterday, newest first (the most recent 50): each kind through its own partial index, the
/// day's start computed once (an init plan), not per row.
async fn attention(pool: &PgPool) -> Result<Vec<Attention>> {
    let rows = sqlx::query!(
        r#"SELECT p.number, c.code, c.name, p.amount, p.status AS "status: PaymentStatus", p.method_label,
                  COALESCE(p.failure_message, p.failure_code) AS reason, p.updated_at,
                  to_char(p.updated_at AT TIME ZONE (SELECT time_zone FROM seller_settings),
                          'Mon FMDD, HH24:MI') AS "when!"
           FROM payments p JOIN companies c ON c.id = p.company_id
           WHERE (p.status IN ('returned', 'failed')
                  AND p.updated_at >= (SELECT seller_day_end(seller_today() - 2)))
              OR (p.status = 'declined'
                  AND p.created_at >= (SELECT seller_day_end(seller_today() - 2)))
           ORDER BY p.updated_at DESC, p.id DESC
           LIMIT 50"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Attention {
            number: r.number,
            company_code: r.code,
            company_name: r.name,
            amount: Money::usd(r.amount),
            status: r.status,
            method: r.method_label,
            reason: r.reason,
            at: r.updated_at,
            when: r.when,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_starts_on_monday() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(monday(d("2026-12-07")), d("2026-12-07"));
        assert_eq!(monday(d("2026-12-13")), d("2026-12-07"));
        assert_eq!(monday(d("2026-12-06")), d("2026-11-30"));
    }
}

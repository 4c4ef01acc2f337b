//! The staff home: its snapshot is the book's aging of today, its DSO months the aging of each
//! month's end over what was invoiced in it, its cash per week what was collected; views read
//! the stored snapshot (one made at a time), a refresh moves it with a payment, a declined
//! payment shows at once, staff's refresh is made after they asked, and a new time zone makes
//! it again.

use crate::common;

use chrono::{Datelike, Days, Months};
use common::fixture;
use rust_decimal::Decimal;
use server::reports::{aging, dashboard};
use shared::aging::AgingQuery;
use shared::dashboard::{Rail, MONTHS, TOP_OVERDUE, WEEKS};
use shared::money::Money;
use shared::payment::{PaymentOutcome, PaymentStatus};
use sqlx::PgPool;

#[sqlx::test(migrations = "./migrations")]
async fn the_dashboard_is_the_books_aging_cash_and_dso_and_moves_with_a_payment(pool: PgPool) {
    let f = fixture(pool).await;
    let staff = f.admin().await.staff().clone();
    let first = dashboard::dashboard(&f.pool, &staff).await.unwrap();
    let s = &first.snapshot;
    let today = server::reports::today(&f.pool).await.unwrap();
    assert_eq!(s.as_of, today);

    // The aging of the whole book today, and its companies most past due, most first.
    let book = aging::report(&f.pool, &staff, &AgingQuery::default(), aging::EXPORT_MAX)
        .await
        .unwrap();
    assert_eq!(s.totals, book.totals);
    assert_eq!(s.companies, book.companies);
    assert!(
        s.totals.overdue().is_positive(),
        "the demo book has overdue invoices"
    );
    // Its charts are drawn: a bar per bucket with money in it.
    assert_eq!(
        s.charts.aging.matches("<rect ").count(),
        s.totals.buckets.iter().filter(|m| m.is_positive()).count()
    );
    assert!(s.charts.dso.contains("<polyline "));
    let mut overdue: Vec<_> = book
        .rows
        .iter()
        .filter(|r| r.figures.overdue().is_positive())
        .collect();
    overdue.sort_by(|a, b| {
        b.figures
            .overdue()
            .amount()
            .cmp(&a.figures.overdue().amount())
            .then(a.name.cmp(&b.name))
            .then(a.code.cmp(&b.code))
    });
    let codes = |rows: Vec<&shared::aging::AgingRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.code.clone()).collect()
    };
    assert_eq!(
        codes(s.top_overdue.iter().collect()),
        codes(overdue.into_iter().take(TOP_OVERDUE).collect())
    );

    // Twelve weeks from Monday to Monday, the last this one; the cash is what was collected.
    assert_eq!(s.weeks.len(), WEEKS);
    for w in s.weeks.windows(2) {
        assert_eq!(w[1].week, w[0].week + Days::new(7));
    }
    let this_week = s.weeks.last().unwrap().week;
    assert_eq!(this_week.weekday(), chrono::Weekday::Mon);
    assert!(this_week <= today && today < this_week + Days::new(7));
    let collected: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(sum(p.amount), 0) FROM payments p
         WHERE p.status IN ('approved', 'settled') AND p.created_at >= $1::date",
    )
    .bind(s.weeks[0].week)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    let drawn = s.weeks.iter().map(|w| w.total().amount()).sum::<Decimal>();
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE source = 'erp'")
            .await,
        0,
        "the demo book's payments are all taken in Settle"
    );
    assert_eq!(drawn, collected);

    // Six months, each the aging of its last day over what was invoiced in it.
    assert_eq!(s.dso.len(), MONTHS);
    let this_month = today.with_day(1).unwrap();
    assert_eq!(s.dso.last().unwrap().month, this_month);
    assert_eq!(s.dso.last().unwrap().receivables, s.totals.open);
    assert_eq!(s.dso.last().unwrap().days, today.day());
    for m in &s.dso[..MONTHS - 1] {
        let end = m.month + Months::new(1) - Days::new(1);
        let then = aging::report(
            &f.pool,
            &staff,
            &AgingQuery {
                as_of: Some(end),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap();
        assert_eq!(m.receivables, then.totals.open, "{}", m.month);
        assert_eq!(m.days, end.day(), "{}", m.month);
        let invoiced: Decimal = sqlx::query_scalar(
            "SELECT COALESCE(sum(total), 0) FROM invoices WHERE status = 'open' AND issue_date BETWEEN $1 AND $2",
        )
        .bind(m.month)
        .bind(end)
        .fetch_one(&f.pool)
        .await
        .unwrap();
        assert_eq!(m.invoiced.amount(), invoiced, "{}", m.month);
    }
    assert!(
        s.dso.iter().filter(|m| m.dso().is_some()).count() >= 3,
        "the demo book invoices most months: {:?}",
        s.dso
    );

    // A card payment: views keep reading the stored snapshot until it is made again.
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let PaymentOutcome::Paid(_) = f.pay_in_full(visa, inv).await.unwrap() else {
        panic!("declined")
    };
    let again = dashboard::dashboard(&f.pool, &staff).await.unwrap();
    assert_eq!(again.snapshot, first.snapshot);
    dashboard::refresh(&f.pool).await.unwrap();
    let after = dashboard::dashboard(&f.pool, &staff)
        .await
        .unwrap()
        .snapshot;
    assert!(after.computed_at > s.computed_at);
    assert_eq!(
        after.totals.open.amount(),
        s.totals.open.amount() - inv.1,
        "the book's open balance went down by the payment"
    );
    let card = |w: &shared::dashboard::WeekCash| w.rails[0].amount();
    assert_eq!(Rail::ALL[0], Rail::Card);
    assert_eq!(
        card(after.weeks.last().unwrap()),
        card(s.weeks.last().unwrap()) + inv.1
    );

    // A declined card shows at once among the payments to look at, and collects nothing.
    assert!(first.attention.is_empty(), "{:?}", first.attention);
    let declining = f.method("0002").await;
    let inv = f.open().await[0];
    let PaymentOutcome::Declined { .. } = f.pay_in_full(declining, inv).await.unwrap() else {
        panic!("approved")
    };
    let now = dashboard::dashboard(&f.pool, &staff).await.unwrap();
    assert_eq!(now.attention.len(), 1);
    let a = &now.attention[0];
    assert_eq!(a.status, PaymentStatus::Declined);
    assert_eq!(a.company_code, "C1002");
    assert_eq!(a.amount, Money::usd(inv.1));
    assert!(a.reason.as_deref().is_some_and(|r| !r.is_empty()));
    assert_eq!(now.snapshot, after, "a decline moves no figure of the book");
}

#[sqlx::test(migrations = "./migrations")]
async fn views_that_find_no_snapshot_wait_for_one_and_a_new_time_zone_makes_it_again(pool: PgPool) {
    let f = fixture(pool).await;
    let staff = f.admin().await.staff().clone();
    let views = (0..8).map(|_| {
        let (pool, staff) = (f.pool.clone(), staff.clone());
        tokio::spawn(async move { dashboard::dashboard(&pool, &staff).await.unwrap() })
    });
    let seen: Vec<_> = futures::future::join_all(views)
        .await
        .into_iter()
        .map(|d| d.unwrap().snapshot.computed_at)
        .collect();
    assert!(
        seen.iter().all(|t| *t == seen[0]),
        "one snapshot made for eight views at once: {seen:?}"
    );
    // Staff asking for a refresh get one made after they asked (two at once may share one).
    let asks = (0..2).map(|_| {
        let (pool, staff) = (f.pool.clone(), staff.clone());
        tokio::spawn(async move { dashboard::refresh_now(&pool, &staff).await.unwrap() })
    });
    for refreshed in futures::future::join_all(asks).await {
        assert!(refreshed.unwrap().snapshot.computed_at > seen[0]);
    }
    // The time zone makes it again.
    server::reports::set_time_zone(&f.pool, &f.admin().await, "America/Chicago")
        .await
        .unwrap();
    assert_eq!(f.count("SELECT count(*) FROM dashboard_snapshot").await, 0);
    assert_eq!(
        f.count("SELECT count(*) FROM receivables_month_ends").await,
        0
    );
    let chicago = dashboard::dashboard(&f.pool, &staff).await.unwrap();
    assert_eq!(chicago.snapshot.time_zone, "America/Chicago");
    assert!(chicago.snapshot.computed_at > seen[0]);
}

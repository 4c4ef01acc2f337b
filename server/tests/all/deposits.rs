//! Deposits: a day's money as Settle moved it equals the sandbox gateway's own balance
//! transactions, line by line, for cards (payments, a refund, a dispute opened and won) and ACH
//! (a debit settled, one settled and returned late); a movement only the gateway knows shows
//! as a difference.

use crate::common;

use common::{d, fixture, Fixture};
use rust_decimal::Decimal;
use server::reports::deposits::{self, Sources};
use shared::deposit::{Books, DepositsInput, DepositsQuery, Movement, Rail};
use shared::payment::PaymentOutcome;
use shared::refund::RefundRequest;
use std::time::Duration;

fn sandbox() -> Sources {
    Sources {
        card: Books::Sandbox,
        ach: Books::Sandbox,
        stripe: None,
    }
}

async fn today_query(f: &Fixture) -> DepositsQuery {
    let today = server::reports::today(&f.pool).await.unwrap();
    DepositsQuery::parse(
        &DepositsInput {
            from: Some(today.to_string()),
            to: None,
        },
        today,
    )
    .unwrap()
}

/// A sum of the sandbox's own tables (not its balance transactions).
async fn sandbox_sum(f: &Fixture, sql: &str) -> Decimal {
    sqlx::query_scalar::<_, Option<Decimal>>(sql)
        .fetch_one(&f.pool)
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn paid(f: &Fixture, method: shared::MethodId) -> (shared::PaymentId, String, String) {
    let inv = f.open().await[0];
    let PaymentOutcome::Paid(r) = f.pay_in_full(method, inv).await.unwrap() else {
        panic!("declined")
    };
    (r.payment_id, r.number, r.lines[0].invoice_number.clone())
}

#[sqlx::test(migrations = "./migrations")]
async fn a_days_deposits_equal_the_sandboxs_books_with_cards_an_ach_settlement_a_return_and_a_refund(
    pool: sqlx::PgPool,
) {
    let f = fixture(pool).await;
    // The seller's days are Chicago's.
    sqlx::query("UPDATE seller_settings SET time_zone = 'America/Chicago'")
        .execute(&f.pool)
        .await
        .unwrap();
    f.allow_clerk_refunds().await;
    // Cards: one paid and partly refunded, one disputed (and won), one declined.
    let (card, _, card_invoice) = paid(&f, f.method("4242").await).await;
    let disputed = f.add_card("4000000000002685").await;
    paid(&f, disputed).await;
    let declined = f.add_card("4000000000000002").await;
    let inv = f.open().await[0];
    assert!(matches!(
        f.pay_in_full(declined, inv).await.unwrap(),
        PaymentOutcome::Declined { .. }
    ));
    server::payments::refunds::give_back(
        &f.pool,
        &f.gateway,
        &f.config,
        &f.clerk.staff().unwrap(),
        &RefundRequest::parse(
            &common::refund_input(card, &[(&card_invoice, "30.00")]),
            shared::money::Currency::USD,
        )
        .unwrap(),
    )
    .await
    .unwrap();
    // The dispute opens, then is won; each notice told twice (a retried webhook).
    for _ in 0..2 {
        for n in f.gateway.advance_disputes(Duration::ZERO).await.unwrap() {
            for _ in 0..2 {
                server::payments::disputes::report(&f.pool, &n)
                    .await
                    .unwrap();
            }
        }
    }
    // ACH: the demo's account settles; the late-returning one settles, then comes back.
    let ach = f.ach_method().await;
    paid(&f, ach).await;
    f.bank_moves().await;
    let ach = f.ach_returning_late().await;
    let (_, late_number, _) = paid(&f, ach).await;
    f.bank_moves().await;
    for r in f
        .gateway
        .advance_late_returns(Duration::ZERO)
        .await
        .unwrap()
    {
        for _ in 0..2 {
            server::payments::record_late_return(&f.pool, &r.charge_id, &r.code, &r.message)
                .await
                .unwrap();
        }
    }
    let status: String = sqlx::query_scalar("SELECT status FROM payments WHERE number = $1")
        .bind(&late_number)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(status, "returned");

    let staff = f.clerk.staff().unwrap();
    let query = today_query(&f).await;
    let report = deposits::report(&f.pool, &staff, &query, &sandbox())
        .await
        .unwrap();
    assert_eq!(report.time_zone, "America/Chicago");
    assert_eq!(report.differences(), 0, "{report:#?}");
    let line = |rail: Rail| {
        report
            .lines
            .iter()
            .find(|l| l.rail == rail && l.day == query.to)
            .unwrap_or_else(|| panic!("no {rail:?} line today: {report:#?}"))
    };
    // Cards, each figure against the sandbox's own tables.
    let (card_line, ach_line) = (line(Rail::Card), line(Rail::Ach));
    let g = card_line.gateway.unwrap();
    assert_eq!(
        card_line.settle.payments,
        sandbox_sum(
            &f,
            "SELECT sum(amount) FROM sandbox_charges WHERE status = 'approved'"
        )
        .await
    );
    assert_eq!(card_line.settle.refunds, d("-30.00"));
    assert_eq!(
        card_line.settle.refunds,
        -sandbox_sum(
            &f,
            "SELECT sum(amount) FROM sandbox_refunds WHERE status = 'succeeded'"
        )
        .await
    );
    assert_eq!(card_line.settle.disputes, Decimal::ZERO, "opened and won");
    assert_eq!(
        card_line.settle.count, 5,
        "2 payments, a refund, a dispute and its win"
    );
    // The sandbox's fees: 2.9 % + 0.30 a card charge, 15.00 the dispute.
    let card_fees = sandbox_sum(
        &f,
        "SELECT sum(round(amount * 0.029 + 0.30, 2)) + 15.00 FROM sandbox_charges WHERE status = 'approved'",
    )
    .await;
    assert_eq!(g.fees, card_fees);
    assert_eq!(card_line.expected().net(), g.net());
    assert_eq!(g.net(), card_line.settle.payments - d("30.00") - card_fees);
    // ACH: both debits settled, one returned.
    let a = ach_line.gateway.unwrap();
    assert_eq!(
        ach_line.settle.payments,
        sandbox_sum(
            &f,
            "SELECT sum(c.amount) FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token \
             WHERE t.kind = 'ach' AND c.status IN ('settled', 'returned')"
        )
        .await
    );
    assert_eq!(
        ach_line.settle.returns,
        -sandbox_sum(
            &f,
            "SELECT sum(amount) FROM sandbox_charges WHERE status = 'returned'"
        )
        .await
    );
    assert!(ach_line.settle.returns < Decimal::ZERO);
    assert_eq!((ach_line.settle.count, a.count), (3, 3));
    assert_eq!(ach_line.expected().net(), a.net());

    // The day's card line one by one: every movement matched, each with its payment.
    let items = deposits::day(&f.pool, &staff, query.to, Rail::Card, &sandbox())
        .await
        .unwrap();
    assert_eq!(items.items.len(), 5);
    assert!(items
        .items
        .iter()
        .all(|i| !i.differs() && i.payment.is_some()));
    assert_eq!(
        items
            .items
            .iter()
            .filter(|i| i.kind == Movement::DisputeWon)
            .count(),
        1
    );

    // Reported again, nothing was written twice; the ledger holds.
    assert_eq!(f.count("SELECT count(*) FROM money_movements").await, 8);
    f.ledger_holds().await;

    // A charge only the gateway knows is a difference, on the line and as an item of its own.
    sqlx::query(
        "INSERT INTO sandbox_charges (id, idempotency_key, token, amount, currency, status) \
         SELECT 'ch_stray', 'stray', token, 12.34, 'USD', 'approved' FROM sandbox_charges \
         WHERE status = 'approved' LIMIT 1",
    )
    .execute(&f.pool)
    .await
    .unwrap();
    let report = deposits::report(&f.pool, &staff, &query, &sandbox())
        .await
        .unwrap();
    assert_eq!(report.differences(), 1);
    let items = deposits::day(&f.pool, &staff, query.to, Rail::Card, &sandbox())
        .await
        .unwrap();
    let stray = items.items.iter().find(|i| i.differs()).unwrap();
    assert_eq!(
        (stray.reference.as_deref(), stray.settle, stray.gateway),
        (Some("ch_stray"), None, Some(d("12.34")))
    );
    // Books not read are not compared: no difference, no gateway figures.
    let unread = Sources {
        card: Books::NotCompared("read elsewhere".into()),
        ach: Books::NotCompared("read elsewhere".into()),
        stripe: None,
    };
    let report = deposits::report(&f.pool, &staff, &query, &unread)
        .await
        .unwrap();
    assert_eq!(report.differences(), 0);
    assert!(report.lines.iter().all(|l| l.gateway.is_none()));
}

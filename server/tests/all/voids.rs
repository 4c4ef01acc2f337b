//! Voiding an ACH debit before it settles, on a real PostgreSQL with the sandbox gateway:
//! taken out once however many ask, its invoices reopened by exactly what it paid; a void
//! racing the bank's settlement ends one way, the same in Settle and in the gateway's books; a
//! void the gateway made but Settle never recorded (a crash) is read back and recorded; what
//! cannot be voided says why. The ledger identity after each.

use crate::common;

use common::{fixture, Fixture};
use server::authority::Staff;
use server::gateway::PaymentGateway;
use server::payments::voids;
use shared::payment::{PaymentOutcome, PaymentStatus};
use shared::refund::{VoidChoice, VoidInput};
use shared::{AppError, InvoiceId, PaymentId};
use std::time::Duration;

/// Pays the oldest open invoice of the fixture's company in full by its bank account
/// (pending at the sandbox): the payment, its invoice and what it paid.
async fn debit(f: &Fixture) -> (PaymentId, InvoiceId, rust_decimal::Decimal) {
    let ach = f.ach_method().await;
    let inv = f.open().await[0];
    let PaymentOutcome::Paid(r) = f.pay_in_full(ach, inv).await.unwrap() else {
        panic!("declined")
    };
    assert_eq!(r.status, PaymentStatus::Pending);
    assert_eq!(f.balance(inv.0).await, rust_decimal::Decimal::ZERO);
    (r.payment_id, inv.0, inv.1)
}

fn ask(payment: PaymentId, reason: &str, note: &str) -> VoidInput {
    VoidInput {
        payment_id: payment,
        reverse: false,
        reason: reason.into(),
        note: note.into(),
    }
}

async fn void(f: &Fixture, who: &Staff, input: &VoidInput) -> Result<String, AppError> {
    voids::void(&f.pool, &f.gateway, who, input)
        .await
        .map_err(|e| e.into_app())
}

async fn status(f: &Fixture, p: PaymentId) -> PaymentStatus {
    sqlx::query_scalar("SELECT status FROM payments WHERE id = $1")
        .bind(p)
        .fetch_one(&f.pool)
        .await
        .unwrap()
}

async fn at_gateway(f: &Fixture, p: PaymentId) -> String {
    sqlx::query_scalar(
        "SELECT c.status FROM sandbox_charges c JOIN payments p ON p.gateway_charge_id = c.id WHERE p.id = $1",
    )
    .bind(p)
    .fetch_one(&f.pool)
    .await
    .unwrap()
}

async fn ledger_holds(f: &Fixture) {
    assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);
    assert_eq!(
        server::ledger::company_balances_off(&f.pool).await.unwrap(),
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_pending_debit_is_voided_once_and_its_invoice_reopens_exactly(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let who = f.clerk.staff().unwrap();
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&f.pool)
        .await
        .unwrap();
    let (p, inv, paid) = debit(&f).await;
    let choice = voids::choice(&f.pool, &f.gateway, &who, p).await.unwrap();
    assert_eq!(choice, VoidChoice::Cancel);
    // "Other" wants a note, said at the note.
    let e = void(&f, &who, &ask(p, "other", "")).await.unwrap_err();
    assert_eq!(e.field().unwrap().field, "note");
    assert_eq!(status(&f, p).await, PaymentStatus::Pending);
    // Twenty clerks at once: voided once, the invoice reopened by what it paid, once.
    let input = ask(p, "duplicate", "Paid twice by phone");
    let answers = futures_util::future::join_all((0..20).map(|_| void(&f, &who, &input))).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(status(&f, p).await, PaymentStatus::Voided);
    assert_eq!(at_gateway(&f, p).await, "voided");
    assert_eq!(f.balance(inv).await, paid);
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'payment.voided' AND entity_id = (SELECT number FROM payments WHERE id = {p})"
        ))
        .await,
        1
    );
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM events WHERE type = 'payment.voided' AND payment_id = {p}"
        ))
        .await,
        1
    );
    let message: String = sqlx::query_scalar("SELECT failure_message FROM payments WHERE id = $1")
        .bind(p)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(
        message.contains(
            "taken out before it reached the bank: Duplicate payment. Paid twice by phone"
        ),
        "{message}"
    );
    // The bank's clock moves on: a voided debit neither settles nor comes back.
    f.bank_moves().await;
    assert_eq!(status(&f, p).await, PaymentStatus::Voided);
    assert_eq!(f.balance(inv).await, paid);
    // Now nothing more can be done, and it says so.
    assert_eq!(
        voids::choice(&f.pool, &f.gateway, &who, p).await.unwrap(),
        VoidChoice::No("This debit has already been voided.".into())
    );
    ledger_holds(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn what_cannot_be_voided_says_why_and_changes_nothing(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let clerk = f.clerk.staff().unwrap();
    let (p, inv, _) = debit(&f).await;
    // A clerk without the permission to give money back.
    let VoidChoice::No(why) = voids::choice(&f.pool, &f.gateway, &clerk, p).await.unwrap() else {
        panic!("offered")
    };
    assert!(why.contains("You may not give money back"), "{why}");
    let e = void(&f, &clerk, &ask(p, "duplicate", ""))
        .await
        .unwrap_err();
    assert!(e.field().unwrap().message.contains("may not"), "{e:?}");
    assert_eq!(at_gateway(&f, p).await, "pending");
    // Settled: refunded, not voided.
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&f.pool)
        .await
        .unwrap();
    f.bank_moves().await;
    assert_eq!(status(&f, p).await, PaymentStatus::Settled);
    let VoidChoice::No(why) = voids::choice(&f.pool, &f.gateway, &clerk, p).await.unwrap() else {
        panic!("offered")
    };
    assert!(why.contains("only refunded"), "{why}");
    let e = void(&f, &clerk, &ask(p, "duplicate", ""))
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, "void");
    assert_eq!(f.balance(inv).await, rust_decimal::Decimal::ZERO);
    // A card payment is never voided.
    let card = f.method("4242").await;
    let next = f.open().await[0];
    let PaymentOutcome::Paid(r) = f.pay_in_full(card, next).await.unwrap() else {
        panic!("declined")
    };
    let VoidChoice::No(why) = voids::choice(&f.pool, &f.gateway, &clerk, r.payment_id)
        .await
        .unwrap()
    else {
        panic!("offered")
    };
    assert!(why.contains("Only an ACH debit"), "{why}");
    ledger_holds(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_void_racing_the_banks_settlement_ends_one_way_in_both_books(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&f.pool)
        .await
        .unwrap();
    let who = f.clerk.staff().unwrap();
    for _ in 0..4 {
        let (p, inv, paid) = debit(&f).await;
        let input = ask(p, "wrong_method", "");
        let (voided, _) = tokio::join!(void(&f, &who, &input), f.bank_moves());
        f.bank_moves().await;
        let (settle, gateway) = (status(&f, p).await, at_gateway(&f, p).await);
        match settle {
            PaymentStatus::Voided => {
                assert_eq!(gateway, "voided");
                assert_eq!(f.balance(inv).await, paid);
            }
            PaymentStatus::Settled => {
                assert_eq!(gateway, "settled");
                assert_eq!(f.balance(inv).await, rust_decimal::Decimal::ZERO);
                let e = voided.unwrap_err();
                assert!(e.field().unwrap().message.contains("settled"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        ledger_holds(&f).await;
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_void_the_gateway_made_but_settle_never_recorded_is_read_back(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let (p, inv, paid) = debit(&f).await;
    // The gateway voided it; the process died before Settle recorded it.
    let charge: String = sqlx::query_scalar("SELECT gateway_charge_id FROM payments WHERE id = $1")
        .bind(p)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    f.gateway.void(&charge, false, "void-x").await.unwrap();
    assert_eq!(status(&f, p).await, PaymentStatus::Pending);
    // The next check of pending debits finds it voided and records it, once.
    sqlx::query("UPDATE payments SET ach_next_check_at = now()")
        .execute(&f.pool)
        .await
        .unwrap();
    let synced = server::payments::sync_ach(&f.pool, &f.gateway, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(synced.recorded, 1);
    assert_eq!(status(&f, p).await, PaymentStatus::Voided);
    assert_eq!(f.balance(inv).await, paid);
    ledger_holds(&f).await;
}

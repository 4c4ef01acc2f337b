//! The payment engine on a real PostgreSQL: exactly once under retries, races and crashes.

use crate::common;

use common::{d, fixture, key, today};
use rust_decimal::Decimal;
use server::gateway::{PaymentGateway, TEST_CARDS};
use server::payments::{self, StartOutcome};
use shared::money::Money;
use shared::payment::{PaymentOutcome, PaymentRequest, PaymentStatus};
use shared::AppError;
use shared::{CompanyId, InvoiceId, MethodId, UserId};
use sqlx::PgPool;
use std::time::Duration;

#[sqlx::test(migrations = "./migrations")]
async fn paying_two_invoices_with_a_saved_card_gives_a_receipt(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let visa = f.method("4242").await;
    let req = f.request(
        visa,
        &[(a.0, &a.1.to_string(), ""), (b.0, &b.1.to_string(), "")],
        &key(),
    );
    let PaymentOutcome::Paid(receipt) = f.pay(&f.clerk, &req).await.unwrap() else {
        panic!("declined")
    };
    assert_eq!(receipt.status, PaymentStatus::Approved);
    assert_eq!(receipt.amount, Money::usd(a.1 + b.1));
    assert_eq!(receipt.method, "Visa •••• 4242");
    assert_eq!(receipt.taken_by, "Casey Clerk");
    assert!(receipt.on_behalf);
    assert_eq!(receipt.lines.len(), 2);
    assert!(receipt.lines.iter().all(|l| l.new_balance.is_zero()));
    assert!(receipt.number.starts_with("P-"));
    assert_eq!(f.balance(a.0).await, Decimal::ZERO);
    assert_eq!(f.balance(b.0).await, Decimal::ZERO);
    // Audited: who, on whose behalf, with the customer's consent.
    let started: (UserId, CompanyId, serde_json::Value) = sqlx::query_as(
        "SELECT actor_user_id, on_behalf_company_id, details FROM audit_events WHERE action = 'payment.started'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        (started.0, started.1),
        (f.clerk.initiator().unwrap(), f.company_id)
    );
    assert_eq!(started.2["consent_channel"], "phone");
    assert_eq!(started.2["consent_reference"], "Call with Maria Alvarez");
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'payment.approved'")
            .await,
        1
    );
    assert_eq!(
        server::ledger::company_balances_off(&f.pool).await.unwrap(),
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_same_key_sent_twenty_times_at_once_is_one_charge_and_one_payment(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let inv = open[0];
    let visa = f.method("4242").await;
    let k = key();
    let req = f.request(visa, &[(inv.0, &inv.1.to_string(), "")], &k);
    let results = futures::future::join_all((0..20).map(|_| f.pay(&f.clerk, &req))).await;
    let numbers: Vec<String> = results
        .into_iter()
        .map(|r| match r.unwrap() {
            PaymentOutcome::Paid(receipt) => receipt.number,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] == w[1]), "{numbers:?}");
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        1
    );
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    // A retry later (a reload, a double click) still gets the first outcome.
    let again = f.pay(&f.clerk, &req).await.unwrap();
    assert!(matches!(again, PaymentOutcome::Paid(r) if r.number == numbers[0]));
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_same_key_with_other_content_is_refused(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let visa = f.method("4242").await;
    let k = key();
    f.pay(
        &f.clerk,
        &f.request(visa, &[(open[0].0, &open[0].1.to_string(), "")], &k),
    )
    .await
    .unwrap();
    let e = f
        .pay(
            &f.clerk,
            &f.request(visa, &[(open[1].0, &open[1].1.to_string(), "")], &k),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, "idempotency_key");
    assert_eq!(f.balance(open[1].0).await, open[1].1);
}

#[sqlx::test(migrations = "./migrations")]
async fn two_clerks_paying_the_same_balance_at_once_one_wins(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let amount = inv.1.to_string();
    let r1 = f.request(visa, &[(inv.0, &amount, "")], &key());
    let r2 = f.request(visa, &[(inv.0, &amount, "")], &key());
    let (a, b) = tokio::join!(f.pay(&f.clerk, &r1), f.pay(&f.other_clerk, &r2));
    let (ok, err) = match (a, b) {
        (Ok(o), Err(e)) | (Err(e), Ok(o)) => (o, e),
        other => panic!("exactly one must succeed: {other:?}"),
    };
    assert!(matches!(ok, PaymentOutcome::Paid(_)));
    let fe = err.field().expect("a field error");
    assert_eq!(fe.field, format!("amount_{}", inv.0));
    assert!(
        fe.message.starts_with("The balance changed"),
        "{}",
        fe.message
    );
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn every_decline_card_explains_itself_and_changes_no_balance(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let inv = open[0];
    for (number, code, message) in TEST_CARDS.iter().filter(|(_, c, _)| {
        !matches!(
            *c,
            "approve" | "refund_fails" | "dispute_won" | "dispute_lost"
        )
    }) {
        let method = f.add_card(number).await;
        let outcome = f.pay_in_full(method, inv).await.unwrap();
        match outcome {
            PaymentOutcome::Declined {
                code: c,
                message: m,
                ..
            } => {
                assert_eq!(&c, code);
                assert_eq!(&m, message);
            }
            other => panic!("{number}: {other:?}"),
        }
        assert_eq!(f.balance(inv.0).await, inv.1, "{number}");
    }
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE status = 'declined'")
            .await,
        5
    );
    // Then another method pays it.
    let visa = f.method("4242").await;
    let paid = f.pay_in_full(visa, inv).await;
    assert!(matches!(paid, Ok(PaymentOutcome::Paid(_))));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_partial_payment_needs_a_reason_and_leaves_the_rest(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let part = (inv.1 / d("3")).round_dp(2);
    let e = f
        .pay(
            &f.clerk,
            &f.request(visa, &[(inv.0, &part.to_string(), "")], &key()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, format!("reason_{}", inv.0));
    let PaymentOutcome::Paid(r) = f
        .pay(
            &f.clerk,
            &f.request(
                visa,
                &[(inv.0, &part.to_string(), "Disputed freight charge")],
                &key(),
            ),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(r.lines[0].new_balance, Money::usd(inv.1 - part));
    assert_eq!(f.balance(inv.0).await, inv.1 - part);
    let reason: String = sqlx::query_scalar("SELECT short_pay_reason FROM payment_allocations WHERE invoice_id = $1 AND short_pay_reason IS NOT NULL")
        .bind(inv.0)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(reason, "Disputed freight charge");
}

#[sqlx::test(migrations = "./migrations")]
async fn above_the_balance_is_a_field_error_and_changes_nothing(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let over = (inv.1 + d("0.01")).to_string();
    let e = f
        .pay(&f.clerk, &f.request(visa, &[(inv.0, &over, "")], &key()))
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, format!("amount_{}", inv.0));
    assert_eq!(f.balance(inv.0).await, inv.1);
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        0
    );
    assert_eq!(f.count("SELECT count(*) FROM idempotency_keys").await, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_crash_after_the_gateway_approved_is_reconciled_to_exactly_one_payment(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let req = f.request(visa, &[(inv.0, &inv.1.to_string(), "")], &key());
    let StartOutcome::New(started) =
        payments::start(&f.pool, &f.config, &f.scope(&f.clerk), &req, today())
            .await
            .unwrap()
    else {
        panic!("replay")
    };
    // The gateway approves; the process dies before recording it.
    let charge = f
        .gateway
        .charge(&started.token, started.amount, &started.key.to_string())
        .await
        .unwrap();
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE status = 'processing'")
            .await,
        1
    );
    assert_eq!(
        f.balance(inv.0).await,
        Decimal::ZERO,
        "held while processing"
    );

    assert_eq!(f.reconcile_now().await, 1);
    let (status, charge_id): (String, String) =
        sqlx::query_as("SELECT status, gateway_charge_id FROM payments WHERE id = $1")
            .bind(started.payment_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(status, "approved");
    assert_eq!(charge_id, charge.id);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    // Nothing left to do, and the clerk's retry gets the same payment.
    assert_eq!(f.reconcile_now().await, 0);
    let retry = f.pay(&f.clerk, &req).await.unwrap();
    assert!(matches!(retry, PaymentOutcome::Paid(r) if r.payment_id == started.payment_id));
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_crash_before_the_gateway_call_is_completed_by_the_reconciler_with_one_charge(
    pool: PgPool,
) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let req = f.request(visa, &[(inv.0, &inv.1.to_string(), "")], &key());
    payments::start(&f.pool, &f.config, &f.scope(&f.clerk), &req, today())
        .await
        .unwrap();
    // Not before the request that started it has stopped waiting for the gateway.
    assert_eq!(
        payments::reconcile(&f.pool, &f.gateway, &f.config)
            .await
            .unwrap(),
        0
    );
    // Then the reconciler sends the charge with the payment's key: the gateway makes it once.
    assert_eq!(f.reconcile_now().await, 1);
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE status = 'approved'")
            .await,
        1
    );
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    // The clerk's retry of the same form gets that payment's receipt.
    assert!(matches!(
        f.pay(&f.clerk, &req).await.unwrap(),
        PaymentOutcome::Paid(r) if r.status == PaymentStatus::Approved
    ));
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn ach_goes_pending_then_settles_or_is_returned_and_reopens_the_balance(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let ach = f.ach_method().await;
    let PaymentOutcome::Paid(r) = f
        .pay(
            &f.clerk,
            &f.request(ach, &[(open[0].0, &open[0].1.to_string(), "")], &key()),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(r.status, PaymentStatus::Pending);
    assert_eq!(
        f.balance(open[0].0).await,
        Decimal::ZERO,
        "pending ACH reduces the balance"
    );
    // C1003's demo account is the sandbox account that gets returned.
    let returned_company: CompanyId =
        sqlx::query_scalar("SELECT id FROM companies WHERE code = 'C1003'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let (inv3, bal3): (InvoiceId, Decimal) = sqlx::query_as(
        "SELECT id, balance FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date LIMIT 1",
    )
    .bind(returned_company)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    let ach3: MethodId =
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE company_id = $1 AND kind = 'ach'")
            .bind(returned_company)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let req3 = f.request(ach3, &[(inv3, &bal3.to_string(), "")], &key());
    payments::pay(
        &f.pool,
        &f.gateway,
        &f.config,
        &f.clerk.reach(returned_company, "Company").unwrap(),
        &req3,
        today(),
    )
    .await
    .unwrap();
    assert_eq!(f.balance(inv3).await, Decimal::ZERO);

    // The bank network moves the charges on; Settle reads each one again and records it.
    assert_eq!(f.gateway.advance_ach(Duration::ZERO).await.unwrap(), 2);
    assert_eq!(
        payments::sync_ach(&f.pool, &f.gateway, Duration::from_secs(30))
            .await
            .unwrap(),
        payments::AchSync {
            recorded: 2,
            ..Default::default()
        }
    );
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM payments WHERE idempotency_key IS NOT NULL ORDER BY id",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(statuses, ["settled", "returned"]);
    assert_eq!(f.balance(open[0].0).await, Decimal::ZERO);
    assert_eq!(f.balance(inv3).await, bal3, "a return re-opens the balance");
    assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);
    assert_eq!(
        server::ledger::company_balances_off(&f.pool).await.unwrap(),
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn inactive_foreign_and_expired_methods_are_refused(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    sqlx::query("UPDATE payment_methods SET active = false WHERE id = $1")
        .bind(visa)
        .execute(&f.pool)
        .await
        .unwrap();
    let e = f.pay_in_full(visa, inv).await.unwrap_err();
    assert_eq!(
        e.message_for("method").as_deref(),
        Some("This payment method is inactive. Choose another.")
    );
    let foreign: MethodId =
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE company_id <> $1 LIMIT 1")
            .bind(f.company_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let e = f.pay_in_full(foreign, inv).await.unwrap_err();
    assert_eq!(e.field().unwrap().field, "method");
    let expired = f.add_card("5555555555554444").await;
    sqlx::query("UPDATE payment_methods SET exp_year = 2020 WHERE id = $1")
        .bind(expired)
        .execute(&f.pool)
        .await
        .unwrap();
    let e = f.pay_in_full(expired, inv).await.unwrap_err();
    assert!(e.message_for("method").unwrap().contains("expired"));
    assert_eq!(f.balance(inv.0).await, inv.1);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_deactivated_method_is_refused_even_in_a_race_and_works_again_once_reactivated(
    pool: PgPool,
) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let visa = f.method("4242").await;
    // Race: many payments and a deactivation at the same moment. Every payment either
    // checked the method before the deactivation (and was charged) or was refused.
    let reqs: Vec<PaymentRequest> = open
        .iter()
        .take(6)
        .map(|inv| f.request(visa, &[(inv.0, &inv.1.to_string(), "")], &key()))
        .collect();
    let pays = futures::future::join_all(reqs.iter().map(|r| f.pay(&f.clerk, r)));
    let deactivate = server::methods::set_active(&f.pool, &f.other_clerk, visa, false);
    let (results, deactivated) = tokio::join!(pays, deactivate);
    deactivated.unwrap();
    let paid = results
        .iter()
        .filter(|r| matches!(r, Ok(PaymentOutcome::Paid(_))))
        .count() as i64;
    for r in results.iter().filter(|r| r.is_err()) {
        assert_eq!(
            r.as_ref().unwrap_err().message_for("method").as_deref(),
            Some("This payment method is inactive. Choose another.")
        );
    }
    assert_eq!(f.count("SELECT count(*) FROM sandbox_charges").await, paid);
    assert!(
        !server::methods::active_methods(&f.pool, &f.scope(&f.clerk))
            .await
            .unwrap()
            .iter()
            .any(|m| m.id == visa)
    );

    // Posted directly, it is still refused; reactivated, it pays again.
    let inv = f.open().await[0];
    let e = f.pay_in_full(visa, inv).await.unwrap_err();
    assert_eq!(e.field().unwrap().field, "method");
    server::methods::set_active(&f.pool, &f.other_clerk, visa, true)
        .await
        .unwrap();
    assert!(server::methods::active_methods(&f.pool, &f.scope(&f.clerk))
        .await
        .unwrap()
        .iter()
        .any(|m| m.id == visa));
    let ok = f.pay_in_full(visa, inv).await;
    assert!(matches!(ok, Ok(PaymentOutcome::Paid(_))));
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE entity_type = 'payment_method'")
            .await,
        2
    );
    // Another company's customer cannot touch it.
    let other = f.customer_of("C1003").await;
    let e = server::methods::set_active(&f.pool, &other, visa, false)
        .await
        .unwrap_err()
        .into_app();
    assert_eq!(e, AppError::NotFound("Payment method".into()));
}

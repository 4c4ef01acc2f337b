//! Refunds and reversals on a real PostgreSQL with the sandbox gateway: per line, never past
//! what was paid under races, retries and a gateway that does not answer; approved once;
//! failed refunds closing their invoices again; the ledger identity after each.

use crate::common;

use common::{d, fixture, key, Fixture};
use rust_decimal::Decimal;
use server::authority::{Admin, Principal, Staff};
use server::payments::refunds;
use shared::auth::{Role, SessionUser};
use shared::money::{Currency, Money};
use shared::payment::{PaymentOutcome, Receipt};
use shared::refund::{RefundInput, RefundLineInput, RefundRequest, RefundStatus, RefundView};
use shared::{AppError, InvoiceId, PaymentId, UserId};
use std::time::Duration;

fn staff_of(id: UserId, role: Role) -> Principal {
    Principal::of_session(SessionUser {
        id,
        name: format!("user {id}"),
        email: format!("{id}@settle.example"),
        role,
        company: None,
    })
    .unwrap()
}

/// A second admin, to approve what the first asked.
async fn second_admin(f: &Fixture) -> Admin {
    let id: UserId = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash) VALUES ('second@settle.example', 'Sam Second', 'admin', 'x') RETURNING id",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    staff_of(id, Role::Admin).admin().unwrap()
}

fn clerk(f: &Fixture) -> Staff {
    f.clerk.staff().unwrap()
}

fn ask(payment: PaymentId, lines: &[(&str, &str)], key: &str) -> RefundRequest {
    RefundRequest::parse(
        &RefundInput {
            payment_id: payment,
            lines: lines
                .iter()
                .map(|(i, a)| RefundLineInput {
                    invoice: i.to_string(),
                    amount: a.to_string(),
                })
                .collect(),
            reason: "wrong_invoices".into(),
            note: "Customer meant INV-2".into(),
            idempotency_key: key.into(),
            on_account: String::new(),
        },
        Currency::USD,
    )
    .unwrap()
}

async fn give_back(f: &Fixture, who: &Staff, req: &RefundRequest) -> Result<RefundView, AppError> {
    refunds::give_back(&f.pool, &f.gateway, &f.config, who, req)
        .await
        .map_err(|e| e.into_app())
}

/// Pays the first two open invoices in full with a card ending `last4` (saved by the demo, or
/// added with `number`), and returns the receipt.
async fn paid(f: &Fixture, number: Option<&str>) -> Receipt {
    let method = match number {
        Some(n) => f.add_card(n).await,
        None => f.method("4242").await,
    };
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let req = f.request(
        method,
        &[(a.0, &a.1.to_string(), ""), (b.0, &b.1.to_string(), "")],
        &key(),
    );
    let PaymentOutcome::Paid(r) = f.pay(&f.clerk, &req).await.unwrap() else {
        panic!("declined")
    };
    r
}

async fn invoice(f: &Fixture, number: &str) -> InvoiceId {
    sqlx::query_scalar("SELECT id FROM invoices WHERE number = $1")
        .bind(number)
        .fetch_one(&f.pool)
        .await
        .unwrap()
}

/// The ledger identity and the gateway's books, once nothing is in flight: Settle's succeeded
/// and pending refunds of a charge equal the sandbox's.
async fn books_agree(f: &Fixture) {
    assert_eq!(
        server::ledger::balances_off(&f.pool).await.unwrap(),
        0,
        "invoices off"
    );
    assert_eq!(
        server::ledger::company_balances_off(&f.pool).await.unwrap(),
        0
    );
    assert_eq!(server::ledger::refunds_over(&f.pool).await.unwrap(), 0);
    let off: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payments p FULL JOIN ( \
             SELECT charge_id, sum(amount) AS s FROM sandbox_refunds WHERE status <> 'failed' GROUP BY charge_id) g \
         ON g.charge_id = p.gateway_charge_id \
         LEFT JOIN (SELECT payment_id, sum(amount) AS s FROM refunds WHERE kind = 'refund' \
                    AND status IN ('pending', 'succeeded') GROUP BY payment_id) r ON r.payment_id = p.id \
         WHERE COALESCE(g.s, 0) <> COALESCE(r.s, 0)",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(off, 0, "Settle's refunds differ from the gateway's books");
}

#[sqlx::test(migrations = "./migrations")]
async fn partial_refunds_reopen_exactly_and_add_up_never_past_the_line(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let (l1, l2) = (&r.lines[0], &r.lines[1]);
    let inv1 = invoice(&f, &l1.invoice_number).await;
    assert_eq!(l1.refundable, Some(l1.applied));

    let first = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&l1.invoice_number, "10.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(first.status, RefundStatus::Succeeded);
    assert!(first.number.starts_with("R-"));
    assert_eq!(f.balance(inv1).await, d("10.00"));
    let second = give_back(
        &f,
        &clerk(&f),
        &ask(
            r.payment_id,
            &[(&l1.invoice_number, "5.50"), (&l2.invoice_number, "1.00")],
            &key(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(second.amount, Money::usd(d("6.50")));
    assert_eq!(f.balance(inv1).await, d("15.50"));

    // One cent past what is left on the line is refused at the line, and changes nothing.
    let left = l1.applied.amount() - d("15.50");
    let over = (left + d("0.01")).to_string();
    let e = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&l1.invoice_number, &over)], &key()),
    )
    .await
    .unwrap_err();
    let fe = e.field().unwrap();
    assert_eq!(fe.field, format!("refund-{}", l1.invoice_number));
    assert!(fe.message.starts_with("Only $"), "{}", fe.message);
    assert_eq!(f.balance(inv1).await, d("15.50"));
    // Exactly what is left is taken; then the line is done.
    give_back(
        &f,
        &clerk(&f),
        &ask(
            r.payment_id,
            &[(&l1.invoice_number, &left.to_string())],
            &key(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(f.balance(inv1).await, l1.applied.amount());
    let e = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&l1.invoice_number, "0.01")], &key()),
    )
    .await
    .unwrap_err();
    assert!(e.field().unwrap().message.contains("in full"), "{e:?}");

    // The receipt shows the refunds and what is left per line.
    let receipt = server::payments::receipt(&f.pool, &f.clerk, r.payment_id)
        .await
        .unwrap();
    assert_eq!(receipt.refunds.len(), 3);
    assert_eq!(
        receipt.refunded(),
        Money::usd(l1.applied.amount() + d("1.00"))
    );
    assert_eq!(
        receipt
            .lines
            .iter()
            .find(|l| l.invoice_number == l1.invoice_number)
            .unwrap()
            .refundable,
        Some(Money::usd(Decimal::ZERO))
    );
    books_agree(&f).await;
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'refund.started'")
            .await,
        3
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn twenty_refunds_of_one_line_at_once_never_give_back_more_than_it_paid(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let line = &r.lines[0];
    // Each asks for a third of the line (rounded down): three fit, a fourth does not.
    let third = (line.applied.amount() / d("3"))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
        .to_string();
    let who = clerk(&f);
    let asks: Vec<RefundRequest> = (0..20)
        .map(|_| ask(r.payment_id, &[(&line.invoice_number, &third)], &key()))
        .collect();
    let results = futures::future::join_all(asks.iter().map(|q| give_back(&f, &who, q))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 3, "{ok} of 20 went through");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            e.field().unwrap_or_else(|| panic!("{e:?}")).field,
            format!("refund-{}", line.invoice_number),
            "{e:?}"
        );
    }
    let given: Decimal =
        sqlx::query_scalar("SELECT COALESCE(sum(amount), 0) FROM refunds WHERE payment_id = $1")
            .bind(r.payment_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(
        given <= line.applied.amount(),
        "{given} given back of {}",
        line.applied.amount()
    );
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_same_refund_form_sent_again_is_one_refund(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let k = key();
    let q = ask(r.payment_id, &[(&r.lines[0].invoice_number, "12.00")], &k);
    let who = clerk(&f);
    let (a, b) = tokio::join!(give_back(&f, &who, &q), give_back(&f, &who, &q));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 1);
    // The same key with other amounts is refused.
    let e = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&r.lines[0].invoice_number, "13.00")], &k),
    )
    .await
    .unwrap_err();
    assert_eq!(e.field().unwrap().field, "idempotency_key");
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn who_may_refund_and_the_second_person_above_the_limit(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let r = paid(&f, None).await;
    let line = r.lines[0].clone();
    let inv = invoice(&f, &line.invoice_number).await;
    // A clerk without the permission: refused, nothing changes.
    let e = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&line.invoice_number, "5.00")], &key()),
    )
    .await
    .unwrap_err();
    assert!(e.field().unwrap().message.contains("Staff Users"), "{e:?}");
    assert_eq!(f.balance(inv).await, Decimal::ZERO);

    let first = f.admin().await;
    refunds::set_may_refund(&f.pool, &first, clerk(&f).id(), true)
        .await
        .unwrap();
    refunds::set_approval_limit(&f.pool, &first, Money::usd(d("20.00")))
        .await
        .unwrap();
    let allowance = refunds::allowance(&f.pool, &clerk(&f)).await.unwrap();
    assert!(allowance.may_refund);
    assert_eq!(allowance.approval_above, Money::usd(d("20.00")));

    // Above the limit: it waits, the line held, the invoice not reopened, no money moved.
    let waiting = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&line.invoice_number, "25.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(waiting.status, RefundStatus::AwaitingApproval);
    assert_eq!(f.balance(inv).await, Decimal::ZERO);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 0);
    let queue = refunds::awaiting_approval(&f.pool, &clerk(&f))
        .await
        .unwrap();
    assert_eq!(
        queue.iter().map(|q| q.id).collect::<Vec<_>>(),
        vec![waiting.id]
    );
    let held = server::payments::receipt(&f.pool, &f.clerk, r.payment_id)
        .await
        .unwrap();
    assert_eq!(
        held.lines[0].refundable,
        Some(Money::usd(line.applied.amount() - d("25.00")))
    );

    // The requester cannot approve their own (an admin asking is no different).
    let own = give_back(
        &f,
        first.staff(),
        &ask(r.payment_id, &[(&line.invoice_number, "30.00")], &key()),
    )
    .await
    .unwrap();
    let e = refunds::approve(&f.pool, &f.gateway, &f.config, &first, own.id)
        .await
        .unwrap_err()
        .into_app();
    assert!(
        e.field().unwrap().message.contains("another admin"),
        "{e:?}"
    );
    let e = refunds::refuse(&f.pool, &first, own.id, "no")
        .await
        .unwrap_err()
        .into_app();
    assert!(
        e.field().unwrap().message.contains("another admin"),
        "{e:?}"
    );

    // Two approvals at once: carried out once.
    let second = second_admin(&f).await;
    let (a, b) = tokio::join!(
        refunds::approve(&f.pool, &f.gateway, &f.config, &first, waiting.id),
        refunds::approve(&f.pool, &f.gateway, &f.config, &second, waiting.id)
    );
    let (ok, err) = match (a, b) {
        (Ok(o), Err(e)) | (Err(e), Ok(o)) => (o, e.into_app()),
        other => panic!("exactly one approval: {other:?}"),
    };
    assert_eq!(ok.status, RefundStatus::Succeeded);
    assert!(ok.decided_by.is_some());
    assert!(
        err.field().unwrap().message.contains("already decided"),
        "{err:?}"
    );
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 1);
    assert_eq!(f.balance(inv).await, d("25.00"));

    // Refused: the reason kept, the line free again, nothing moved.
    let refused = refunds::refuse(&f.pool, &second, own.id, "Not agreed with the customer")
        .await
        .unwrap();
    assert_eq!(refused.status, RefundStatus::Refused);
    assert_eq!(
        refused.refusal_reason.as_deref(),
        Some("Not agreed with the customer")
    );
    let e = refunds::approve(&f.pool, &f.gateway, &f.config, &second, own.id)
        .await
        .unwrap_err()
        .into_app();
    assert!(e.field().unwrap().message.contains("refused"), "{e:?}");
    assert_eq!(f.balance(inv).await, d("25.00"));
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 1);
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn nothing_is_refunded_while_the_payment_is_unknown_or_took_no_money(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let inv = &r.lines[0].invoice_number;
    for (status, says) in [
        ("processing", "has not answered"),
        ("declined", "No money was taken"),
        ("returned", "already back"),
        ("pending", "has not settled"),
    ] {
        sqlx::query("UPDATE payments SET status = $2 WHERE id = $1")
            .bind(r.payment_id)
            .bind(status)
            .execute(&f.pool)
            .await
            .unwrap();
        let e = give_back(&f, &clerk(&f), &ask(r.payment_id, &[(inv, "1.00")], &key()))
            .await
            .unwrap_err();
        assert!(e.field().unwrap().message.contains(says), "{status}: {e:?}");
    }
    assert_eq!(f.count("SELECT count(*) FROM refunds").await, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refund_the_bank_refuses_later_closes_the_invoices_again(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, Some("4000000000005126")).await;
    let (l1, l2) = (r.lines[0].clone(), r.lines[1].clone());
    let (inv1, inv2) = (
        invoice(&f, &l1.invoice_number).await,
        invoice(&f, &l2.invoice_number).await,
    );
    let pending = give_back(
        &f,
        &clerk(&f),
        &ask(
            r.payment_id,
            &[(&l1.invoice_number, "40.00"), (&l2.invoice_number, "10.00")],
            &key(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(pending.status, RefundStatus::Pending);
    assert_eq!(f.balance(inv1).await, d("40.00"));
    // Meanwhile the customer pays the second invoice's reopened $10 again.
    let visa = f.method("4242").await;
    f.pay(&f.clerk, &f.request(visa, &[(inv2, "10.00", "")], &key()))
        .await
        .unwrap();
    books_agree(&f).await;

    // The bank refuses the refund; Settle learns it when it asks again.
    f.gateway.advance_ach(Duration::ZERO).await.unwrap();
    sqlx::query("UPDATE refunds SET next_check_at = now()")
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(refunds::sync_refunds(&f.pool, &f.gateway).await.unwrap(), 1);
    let receipt = server::payments::receipt(&f.pool, &f.clerk, r.payment_id)
        .await
        .unwrap();
    let failed = &receipt.refunds[0];
    assert_eq!(failed.status, RefundStatus::Failed);
    let message = failed.failure_message.clone().unwrap();
    assert!(
        message.contains("card is closed") && message.contains("closed again"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{} was paid again", l2.invoice_number)),
        "{message}"
    );
    // The first invoice is closed again; the second stays paid (its $10 is owed back).
    assert_eq!(f.balance(inv1).await, Decimal::ZERO);
    assert_eq!(f.balance(inv2).await, Decimal::ZERO);
    assert_eq!(receipt.lines[0].refundable, Some(l1.applied));
    books_agree(&f).await;
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'refund.failed'")
            .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_gateway_that_does_not_answer_is_asked_again_by_key_never_twice(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let line = r.lines[0].clone();
    let inv = invoice(&f, &line.invoice_number).await;

    // Unreachable: nothing reaches the gateway; the refund waits, its invoice held reopened.
    f.gateway.set_reachable(false);
    let waiting = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&line.invoice_number, "7.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(waiting.status, RefundStatus::Pending);
    assert!(waiting.failure_message.unwrap().contains("keeps asking"));
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 0);
    assert_eq!(f.balance(inv).await, d("7.00"));
    assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);
    f.gateway.set_reachable(true);

    // Slow: the gateway makes the refund after Settle stopped waiting.
    let slow = server::gateway::SandboxGateway::new(f.pool.clone(), Duration::from_millis(300));
    let mut config = f.config.clone();
    config.gateway_timeout = Duration::from_millis(50);
    let late = refunds::give_back(
        &f.pool,
        &slow,
        &config,
        &clerk(&f),
        &ask(r.payment_id, &[(&line.invoice_number, "3.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(late.status, RefundStatus::Pending);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 1);

    // Asked again by key: the first is made once now, the second found as made.
    sqlx::query("UPDATE refunds SET next_check_at = now()")
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(refunds::sync_refunds(&f.pool, &f.gateway).await.unwrap(), 2);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 2);
    sqlx::query("UPDATE refunds SET next_check_at = now()")
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(refunds::sync_refunds(&f.pool, &f.gateway).await.unwrap(), 0);
    let statuses: Vec<RefundStatus> = server::payments::receipt(&f.pool, &f.clerk, r.payment_id)
        .await
        .unwrap()
        .refunds
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        vec![RefundStatus::Succeeded, RefundStatus::Succeeded]
    );
    assert_eq!(f.balance(inv).await, d("10.00"));
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refund_racing_a_late_return_keeps_the_ledger(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, None).await;
    let line = r.lines[0].clone();
    let inv = invoice(&f, &line.invoice_number).await;
    // As a settled debit that the bank later returns (the card stands in for the debit here:
    // the engine's rule is the same).
    sqlx::query("UPDATE payments SET status = 'settled' WHERE id = $1")
        .bind(r.payment_id)
        .execute(&f.pool)
        .await
        .unwrap();
    let q = ask(r.payment_id, &[(&line.invoice_number, "20.00")], &key());
    let returned = async {
        let mut tx = f.pool.begin().await.unwrap();
        let ended = server::payments::end_debit(
            &mut tx,
            r.payment_id,
            &[shared::payment::PaymentStatus::Settled],
            server::payments::DebitEnd {
                status: shared::payment::PaymentStatus::Returned,
                code: Some("R10"),
                message: Some("Customer advises not authorized (R10)."),
                details: serde_json::json!({}),
                actor: server::audit::Actor::SYSTEM,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        ended
    };
    let who = clerk(&f);
    let (refund, ended) = tokio::join!(give_back(&f, &who, &q), returned);
    assert!(ended.is_some());
    // Whichever came first, the invoice is open by exactly what it paid, never more.
    assert_eq!(f.balance(inv).await, line.applied.amount());
    if let Err(e) = &refund {
        assert!(e.field().unwrap().message.contains("already back"), "{e:?}");
    }
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn an_erp_record_is_reversed_without_money_moving(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let open = f.open().await;
    let number: String = sqlx::query_scalar("SELECT number FROM invoices WHERE id = $1")
        .bind(open[0].0)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    let mut tx = f.pool.begin().await.unwrap();
    let rec = server::integration::erp::record_external_payments(
        &mut tx,
        server::audit::Actor::SYSTEM,
        &[shared::erp::ExternalPaymentRecord {
            id: "CHK-9001".into(),
            company_id: "C1002".into(),
            kind: shared::erp::ExternalKind::Check,
            received_on: "2026-11-20".into(),
            reference: Some("Check 9001".into()),
            allocations: vec![shared::erp::ExternalAllocation {
                invoice: number.clone(),
                amount: "50.00".into(),
            }],
        }],
    )
    .await
    .unwrap()
    .remove(0);
    tx.commit().await.unwrap();
    let payment: PaymentId = sqlx::query_scalar("SELECT id FROM payments WHERE number = $1")
        .bind(rec.payment.unwrap())
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(f.balance(open[0].0).await, open[0].1 - d("50.00"));
    let reversal = give_back(&f, &clerk(&f), &ask(payment, &[(&number, "50.00")], &key()))
        .await
        .unwrap();
    assert_eq!(reversal.kind, shared::refund::RefundKind::Reversal);
    assert_eq!(reversal.status, RefundStatus::Succeeded);
    assert_eq!(f.balance(open[0].0).await, open[0].1);
    assert_eq!(f.count("SELECT count(*) FROM sandbox_refunds").await, 0);
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'payment.reversed'")
            .await,
        1
    );
    // Once reversed, nothing is left to reverse.
    let e = give_back(&f, &clerk(&f), &ask(payment, &[(&number, "0.01")], &key()))
        .await
        .unwrap_err();
    assert!(e.field().unwrap().message.contains("in full"), "{e:?}");
    books_agree(&f).await;
}

/// Runs the sandbox's dispute clock once and records what it reports, as the housekeeping
/// loop does.
async fn dispute_clock(f: &Fixture) -> usize {
    let notices = f.gateway.advance_disputes(Duration::ZERO).await.unwrap();
    for n in &notices {
        server::payments::disputes::report(&f.pool, n)
            .await
            .unwrap();
        // Reported again (a retried webhook): nothing changes twice.
        server::payments::disputes::report(&f.pool, n)
            .await
            .unwrap();
    }
    notices.len()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_dispute_takes_the_money_and_reopens_the_invoices_until_it_is_lost(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, Some("4000000000000259")).await;
    let (l1, l2) = (r.lines[0].clone(), r.lines[1].clone());
    let (inv1, inv2) = (
        invoice(&f, &l1.invoice_number).await,
        invoice(&f, &l2.invoice_number).await,
    );
    assert_eq!(dispute_clock(&f).await, 1);
    // Opened, the money taken: both invoices open again by what they got.
    assert_eq!(f.balance(inv1).await, l1.applied.amount());
    assert_eq!(f.balance(inv2).await, l2.applied.amount());
    books_agree(&f).await;
    let open = server::payments::disputes::list(&f.pool, &clerk(&f))
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, "needs_response");
    assert_eq!(open[0].reopened, r.amount);
    assert_eq!(open[0].days_left, Some(7));
    // Nothing is left to refund while the network holds it.
    let e = give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&l1.invoice_number, "1.00")], &key()),
    )
    .await
    .unwrap_err();
    assert!(e.field().unwrap().message.contains("in full"), "{e:?}");
    assert_eq!(
        f.count("SELECT count(*) FROM events WHERE type = 'dispute.opened'")
            .await,
        1
    );

    // Lost: the invoices stay open, the dispute closed.
    assert_eq!(dispute_clock(&f).await, 1);
    assert_eq!(f.balance(inv1).await, l1.applied.amount());
    let closed = server::payments::disputes::list(&f.pool, &clerk(&f))
        .await
        .unwrap();
    assert_eq!(
        (closed[0].status.as_str(), closed[0].days_left),
        ("lost", None)
    );
    assert!(closed[0].closed_at.is_some());
    let data: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM events WHERE type = 'dispute.closed'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let event: shared::event::Payment = serde_json::from_value(data).unwrap();
    assert_eq!(event.disputes[0].status, "lost");
    assert_eq!(event.dispute.as_deref(), Some(closed[0].id.as_str()));
    assert_eq!(event.refunded, Decimal::ZERO, "a dispute is not a refund");
    assert_eq!(dispute_clock(&f).await, 0);
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_dispute_won_closes_again_what_it_reopened_and_no_more(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    let r = paid(&f, Some("4000000000002685")).await;
    let l1 = r.lines[0].clone();
    let inv1 = invoice(&f, &l1.invoice_number).await;
    // $10 refunded first: the dispute of the whole charge reopens only what is left.
    give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&l1.invoice_number, "10.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(dispute_clock(&f).await, 1);
    assert_eq!(f.balance(inv1).await, l1.applied.amount());
    let open = server::payments::disputes::list(&f.pool, &clerk(&f))
        .await
        .unwrap();
    assert_eq!(open[0].reopened.amount(), r.amount.amount() - d("10.00"));
    books_agree(&f).await;

    // The evidence pack: the receipt, the invoices, the consent, the dispute, the audit trail.
    let (name, bytes) = server::payments::disputes::evidence_pack(&f.pool, &clerk(&f), &open[0].id)
        .await
        .unwrap();
    assert!(
        name.starts_with(&format!("evidence-{}-", r.number)),
        "{name}"
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "audit-trail.csv",
            "consent.txt",
            "dispute.txt",
            "invoices.csv",
            "receipt.txt"
        ]
    );
    let mut receipt = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("receipt.txt").unwrap(), &mut receipt).unwrap();
    assert!(
        receipt.contains(&r.number) && receipt.contains(&l1.invoice_number),
        "{receipt}"
    );
    assert!(receipt.contains("Refund R-"), "{receipt}");
    let mut audit = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("audit-trail.csv").unwrap(), &mut audit)
        .unwrap();
    assert!(
        audit.contains("payment.approved") && audit.contains("dispute.opened"),
        "{audit}"
    );
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'dispute.evidence_downloaded'")
            .await,
        1
    );

    // Won: the money is back, the invoices closed again; the refund's $10 stays open.
    assert_eq!(dispute_clock(&f).await, 1);
    assert_eq!(f.balance(inv1).await, d("10.00"));
    let receipt = server::payments::receipt(&f.pool, &f.clerk, r.payment_id)
        .await
        .unwrap();
    let hold = receipt
        .refunds
        .iter()
        .find(|g| g.kind == shared::refund::RefundKind::Dispute)
        .unwrap();
    assert_eq!(hold.status, RefundStatus::Cancelled);
    assert!(hold.failure_message.as_deref().unwrap().contains("won"));
    books_agree(&f).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_late_return_after_settlement_reopens_what_the_refunds_had_not(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_clerk_refunds().await;
    // The company's bank account, at the sandbox's late-returning test account.
    let ach = f.ach_returning_late().await;
    let inv = f.open().await[0];
    let PaymentOutcome::Paid(r) = f.pay_in_full(ach, inv).await.unwrap() else {
        panic!("declined")
    };
    // It settles…
    f.bank_moves().await;
    let status: String = sqlx::query_scalar("SELECT status FROM payments WHERE id = $1")
        .bind(r.payment_id)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(status, "settled");
    // …$30 of it is refunded…
    let number = r.lines[0].invoice_number.clone();
    give_back(
        &f,
        &clerk(&f),
        &ask(r.payment_id, &[(&number, "30.00")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(f.balance(inv.0).await, d("30.00"));
    // …and the bank sends it back late: the rest reopens, never more than the invoice got.
    let late = f
        .gateway
        .advance_late_returns(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(late.len(), 1);
    let ended = server::payments::record_late_return(
        &f.pool,
        &late[0].charge_id,
        &late[0].code,
        &late[0].message,
    )
    .await
    .unwrap();
    assert_eq!(ended.as_deref(), Some(r.number.as_str()));
    assert_eq!(f.balance(inv.0).await, inv.1);
    let (status, message): (String, String) =
        sqlx::query_as("SELECT status, failure_message FROM payments WHERE id = $1")
            .bind(r.payment_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(status, "returned");
    // The demo account is a business's: an unauthorized return is outside its window.
    assert!(
        message.contains("R10") && message.contains("dishonor"),
        "{message}"
    );
    // Told as an early return is: the event and the email to the contacts and the clerk.
    assert_eq!(
        f.count("SELECT count(*) FROM events WHERE type = 'payment.returned'")
            .await,
        1
    );
    assert!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'ach_returned'")
            .await
            >= 1
    );
    // Reported again: nothing changes twice.
    assert_eq!(
        server::payments::record_late_return(&f.pool, &late[0].charge_id, "R10", "again")
            .await
            .unwrap(),
        None
    );
    assert_eq!(f.balance(inv.0).await, inv.1);
    books_agree(&f).await;
}

//! Credit on account on a real PostgreSQL: a payment's excess (or a payment with no invoice)
//! becomes the company's credit, never an invoice's; credit is applied to open invoices by
//! staff, in the portal and through the API, never beyond what is left, even from two doors at
//! once; ERP credit memos are credit applied the same way; the ledger holds after each.

use crate::common;

use common::{d, fixture, key, payment_input, refund_input, Fixture};
use rust_decimal::Decimal;
use server::audit::Actor;
use server::authority::CompanyScope;
use shared::credit::{ApplyCredit, ApplyCreditInput, CreditLineInput, CreditSummary};
use shared::erp::{InvoiceRecord, InvoiceStatus};
use shared::money::{Currency, Money};
use shared::payment::{Consent, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::policy::PaymentPolicy;
use shared::{AppError, InvoiceId, MethodId};

const ERP: Actor = Actor {
    user_id: None,
    role: None,
    api_key_id: None,
};

/// Pays `lines` and `extra` on account with `method`, under `consent`.
fn request(
    method: MethodId,
    lines: &[(InvoiceId, &str)],
    extra: &str,
    consent: Consent,
) -> PaymentRequest {
    let lines: Vec<(InvoiceId, Decimal)> = lines.iter().map(|(i, a)| (*i, d(a))).collect();
    let input = PaymentInput {
        on_account: (!extra.is_empty()).then(|| Money::usd(d(extra))),
        ..payment_input(method, &lines)
    };
    PaymentRequest::parse(&input, consent, Currency::USD).unwrap()
}

fn application(lines: &[(InvoiceId, &str)], key: &str) -> ApplyCredit {
    ApplyCredit::parse(
        &ApplyCreditInput {
            company: "C1002".into(),
            lines: lines
                .iter()
                .map(|(id, a)| CreditLineInput {
                    invoice_id: *id,
                    amount: Money::usd(d(a)),
                })
                .collect(),
            idempotency_key: key.into(),
        },
        Currency::USD,
    )
    .unwrap()
}

fn staff_consent() -> Consent {
    Consent::parse_staff("phone", "Call").unwrap()
}

impl Fixture {
    async fn allow_overpayment(&self) {
        server::policies::set(
            &self.pool,
            &self.admin().await,
            None,
            Some(&PaymentPolicy {
                overpayment_allowed: true,
                ..PaymentPolicy::default()
            }),
        )
        .await
        .unwrap();
    }

    async fn credit(&self) -> CreditSummary {
        server::credits::summary(&mut self.pool.acquire().await.unwrap(), self.company_id)
            .await
            .unwrap()
    }

    async fn apply(
        &self,
        scope: &CompanyScope,
        req: &ApplyCredit,
    ) -> Result<CreditSummary, AppError> {
        server::credits::apply(&self.pool, scope, req)
            .await
            .map_err(|e| e.into_app())
    }

    /// Pays `extra` on account alone by card as the clerk; the receipt.
    async fn on_account_by_card(&self, extra: &str) -> shared::payment::Receipt {
        let card = self.method("4242").await;
        let PaymentOutcome::Paid(r) = self
            .pay_in(
                &self.scope(&self.clerk),
                &request(card, &[], extra, staff_consent()),
            )
            .await
            .unwrap()
        else {
            panic!("declined")
        };
        r
    }

    /// Pays `extra` on account alone by card as the clerk; the credit's number.
    async fn credit_of(&self, extra: &str) -> String {
        self.on_account_by_card(extra)
            .await
            .on_account
            .unwrap()
            .credit_number
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn an_overpayment_is_the_companys_credit_never_an_invoices_balance(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    let a = f.open().await[0];
    let card = f.method("4242").await;
    let paid = a.1 + d("50.00");
    let PaymentOutcome::Paid(r) = f
        .pay_in(
            &f.scope(&f.clerk),
            &request(card, &[(a.0, &a.1.to_string())], "50.00", staff_consent()),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(r.amount.amount(), paid);
    let on_account = r.on_account.expect("the receipt says what went on account");
    assert_eq!(on_account.amount.amount(), d("50.00"));
    assert_eq!(on_account.unapplied.amount(), d("50.00"));
    // The invoice is paid to zero, not below: the excess is the company's.
    assert_eq!(f.balance(a.0).await, Decimal::ZERO);
    let credit = f.credit().await;
    assert_eq!(credit.available.amount(), d("50.00"));
    assert_eq!(credit.credits.len(), 1);
    assert!(
        credit.credits[0].source.contains(&r.number),
        "{:?}",
        credit.credits[0]
    );
    // The gateway charged the whole amount.
    let charged: Decimal = sqlx::query_scalar(
        "SELECT c.amount FROM sandbox_charges c JOIN payments p ON p.gateway_charge_id = c.id WHERE p.number = $1",
    )
    .bind(&r.number)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(charged, paid);
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn paying_on_account_is_refused_in_each_door_where_the_policy_does_not_allow_it(
    pool: sqlx::PgPool,
) {
    let f = fixture(pool).await;
    let a = f.open().await[0];
    let card = f.method("4242").await;
    let before = f.count("SELECT count(*) FROM payments").await;
    for (door, scope, consent) in f.doors(&[a.0]).await {
        for lines in [vec![(a.0, a.1.to_string())], vec![]] {
            let lines: Vec<(InvoiceId, &str)> =
                lines.iter().map(|(i, s)| (*i, s.as_str())).collect();
            let e = f
                .pay_in(&scope, &request(card, &lines, "10.00", consent.clone()))
                .await
                .unwrap_err();
            let field = e.field().expect("at a field");
            assert_eq!(field.field, "on_account", "{door}");
            assert!(
                field.message.contains("on account"),
                "{door}: {}",
                field.message
            );
        }
    }
    assert_eq!(f.count("SELECT count(*) FROM payments").await, before);
    assert_eq!(f.count("SELECT count(*) FROM credits").await, 0);
    assert_eq!(f.balance(a.0).await, a.1);
    // Allowed: each door may pay on account alone.
    f.allow_overpayment().await;
    for (door, scope, consent) in f.doors(&[a.0]).await {
        let PaymentOutcome::Paid(r) = f
            .pay_in(&scope, &request(card, &[], "10.00", consent))
            .await
            .unwrap()
        else {
            panic!("{door}: declined")
        };
        assert!(r.lines.is_empty(), "{door}");
        assert_eq!(r.on_account.unwrap().amount.amount(), d("10.00"), "{door}");
    }
    assert_eq!(f.credit().await.available.amount(), d("30.00"));
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn credit_applied_changes_the_invoices_balance_and_the_credit_left(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    f.credit_of("100.00").await;
    let customer = f.customer_of("C1002").await;
    let after = f
        .apply(
            &f.scope(&customer),
            &application(&[(a.0, "30.00"), (b.0, "20.00")], &key()),
        )
        .await
        .unwrap();
    assert_eq!(after.available.amount(), d("50.00"));
    assert_eq!(f.balance(a.0).await, a.1 - d("30.00"));
    assert_eq!(f.balance(b.0).await, b.1 - d("20.00"));
    f.ledger_holds().await;
    // Never beyond what is left, nor beyond a balance: refused at the field, nothing changed.
    let e = f
        .apply(&f.scope(&f.clerk), &application(&[(a.0, "50.01")], &key()))
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, "credit");
    assert_eq!(
        e.field().unwrap().message,
        "Only $50.00 of credit is left to apply: apply at most that."
    );
    let too_much = (a.1 - d("30.00") + d("0.01")).to_string();
    let f2 = f
        .apply(
            &f.scope(&f.clerk),
            &application(&[(a.0, &too_much)], &key()),
        )
        .await;
    // (The credit is short of the balance here too: whichever it says, it names a field.)
    assert!(f2.unwrap_err().field().is_some());
    assert_eq!(f.balance(a.0).await, a.1 - d("30.00"));
    // A pay link cannot apply credit.
    let link = server::pay_links::resolve(&f.pool, &f.link_for(&[a.0]).await)
        .await
        .unwrap();
    let e = f
        .apply(&link.scope(), &application(&[(a.0, "1.00")], &key()))
        .await
        .unwrap_err();
    assert_eq!(e, AppError::Forbidden);
    // The same key again: applied once.
    let once = key();
    f.apply(&f.scope(&f.clerk), &application(&[(a.0, "5.00")], &once))
        .await
        .unwrap();
    let again = f
        .apply(&f.scope(&f.clerk), &application(&[(a.0, "5.00")], &once))
        .await
        .unwrap();
    assert_eq!(again.available.amount(), d("45.00"));
    assert_eq!(f.balance(a.0).await, a.1 - d("35.00"));
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn an_overpayment_can_be_moved_to_a_new_invoice(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    f.credit_of("80.00").await;
    // A new invoice arrives from the ERP after the overpayment.
    let mut tx = f.pool.begin().await.unwrap();
    server::integration::erp::upsert_invoices(
        &mut tx,
        ERP,
        &[InvoiceRecord {
            company_id: "C1002".into(),
            number: "INV-NEW-1".into(),
            po_number: None,
            issue_date: "2026-12-01".into(),
            due_date: "2026-12-31".into(),
            currency: None,
            total: "120.00".into(),
            status: InvoiceStatus::Open,
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let lines = [("INV-NEW-1".to_string(), "80.00".to_string())];
    let mut tx = f.pool.begin().await.unwrap();
    let done = server::credits::apply_by_number(&mut tx, "C1002", ERP, &lines)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(done.applied.amount(), d("80.00"));
    assert!(done.available.is_zero());
    let balance: Decimal =
        sqlx::query_scalar("SELECT balance FROM invoices WHERE number = 'INV-NEW-1'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(balance, d("40.00"));
    // An invoice the company does not have is named at its line.
    let mut tx = f.pool.begin().await.unwrap();
    let e = server::credits::apply_by_number(&mut tx, "C1002", ERP, &[("NOPE".into(), "1".into())])
        .await
        .unwrap_err()
        .into_app();
    assert_eq!(e.field().unwrap().field, "allocations/0/invoice");
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn one_credit_applied_from_two_doors_at_once_never_over_applies(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let customer = f.scope(&f.customer_of("C1002").await);
    let staff = f.scope(&f.clerk);
    for round in 0..8 {
        f.credit_of("40.00").await;
        // The clerk, the customer and the ERP each apply $30.00 of the $40.00 at once.
        let (to_a, to_b) = (
            application(&[(a.0, "30.00")], &key()),
            application(&[(b.0, "30.00")], &key()),
        );
        let (by_staff, by_portal, by_api) =
            tokio::join!(f.apply(&staff, &to_a), f.apply(&customer, &to_b), async {
                let mut tx = f.pool.begin().await.unwrap();
                let lines = [(
                    sqlx::query_scalar::<_, String>("SELECT number FROM invoices WHERE id = $1")
                        .bind(a.0)
                        .fetch_one(&f.pool)
                        .await
                        .unwrap(),
                    "30.00".to_string(),
                )];
                let r = server::credits::apply_by_number(&mut tx, "C1002", ERP, &lines).await;
                if r.is_ok() {
                    tx.commit().await.unwrap();
                }
                r.map_err(|e| e.into_app())
            });
        let won = [by_staff.is_ok(), by_portal.is_ok(), by_api.is_ok()];
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "round {round}: {won:?}"
        );
        for lost in [by_staff.err(), by_portal.err(), by_api.err()]
            .into_iter()
            .flatten()
        {
            assert_eq!(
                lost.field().map(|x| x.field.as_str()),
                Some("credit"),
                "{lost:?}"
            );
        }
        assert_eq!(f.credit().await.available.amount(), d("10.00"));
        f.ledger_holds().await;
        // What is left goes too: each round starts from one credit of $40.00.
        f.apply(&staff, &application(&[(b.0, "10.00")], &key()))
            .await
            .unwrap();
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn credit_from_a_payment_that_has_not_cleared_waits_and_a_declined_ones_never_counts(
    pool: sqlx::PgPool,
) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    let a = f.open().await[0];
    let ach = f.ach_method().await;
    let PaymentOutcome::Paid(r) = f
        .pay_in(
            &f.scope(&f.clerk),
            &request(ach, &[], "25.00", staff_consent()),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(r.status, shared::payment::PaymentStatus::Pending);
    let credit = f.credit().await;
    assert!(credit.available.is_zero());
    assert_eq!(credit.waiting.amount(), d("25.00"));
    let e = f
        .apply(&f.scope(&f.clerk), &application(&[(a.0, "1.00")], &key()))
        .await
        .unwrap_err();
    assert_eq!(
        e.field().unwrap().message,
        "There is no credit left to apply."
    );
    // A declined card's excess was never money: no credit.
    let declined = f.add_card("4000000000000002").await;
    let out = f
        .pay_in(
            &f.scope(&f.clerk),
            &request(declined, &[], "15.00", staff_consent()),
        )
        .await
        .unwrap();
    assert!(matches!(out, PaymentOutcome::Declined { .. }));
    assert_eq!(f.credit().await.waiting.amount(), d("25.00"));
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn an_erp_credit_memo_is_credit_applied_the_same_way(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let a = f.open().await[0];
    let memo = |total: &str, status: InvoiceStatus| InvoiceRecord {
        company_id: "C1002".into(),
        number: "CM-7".into(),
        po_number: None,
        issue_date: "2026-11-01".into(),
        due_date: "2026-11-01".into(),
        currency: None,
        total: total.into(),
        status,
    };
    let upsert = |r: InvoiceRecord| {
        let pool = f.pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let out = server::integration::erp::upsert_invoices(&mut tx, ERP, &[r])
                .await
                .unwrap()
                .remove(0);
            tx.commit().await.unwrap();
            out
        }
    };
    upsert(memo("75.00", InvoiceStatus::CreditMemo)).await;
    let credit = f.credit().await;
    assert_eq!(credit.available.amount(), d("75.00"));
    assert_eq!(credit.credits[0].source, "Credit memo CM-7");
    f.apply(&f.scope(&f.clerk), &application(&[(a.0, "60.00")], &key()))
        .await
        .unwrap();
    assert_eq!(f.balance(a.0).await, a.1 - d("60.00"));
    // Its total follows the ERP, never below what was used; used, it stays a memo.
    let lowered = upsert(memo("50.00", InvoiceStatus::CreditMemo)).await;
    assert!(
        matches!(lowered, server::integration::erp::Outcome::Refused(_)),
        "{lowered:?}"
    );
    let reopened = upsert(memo("75.00", InvoiceStatus::Open)).await;
    assert!(
        matches!(reopened, server::integration::erp::Outcome::Refused(_)),
        "{reopened:?}"
    );
    upsert(memo("90.00", InvoiceStatus::CreditMemo)).await;
    assert_eq!(f.credit().await.available.amount(), d("30.00"));
    f.ledger_holds().await;
}

fn refund_of_credit(payment: shared::PaymentId, amount: &str) -> shared::refund::RefundRequest {
    let input = shared::refund::RefundInput {
        on_account: amount.into(),
        ..refund_input(payment, &[])
    };
    shared::refund::RefundRequest::parse(&input, Currency::USD).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn unapplied_credit_is_refunded_to_its_method_through_the_refund_path(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    let a = f.open().await[0];
    let r = f.on_account_by_card("50.00").await;
    assert!(r.refundable(), "the receipt offers its credit back");
    f.apply(&f.scope(&f.clerk), &application(&[(a.0, "20.00")], &key()))
        .await
        .unwrap();
    let admin = f.other_clerk.staff().unwrap();
    let give_back = |req: shared::refund::RefundRequest| {
        let (f, admin) = (&f, &admin);
        async move {
            server::payments::refunds::give_back(&f.pool, &f.gateway, &f.config, admin, &req)
                .await
                .map_err(|e| e.into_app())
        }
    };
    // Only what is unapplied goes back.
    let e = give_back(refund_of_credit(r.payment_id, "30.01"))
        .await
        .unwrap_err();
    let field = e.field().unwrap();
    assert_eq!(field.field, "refund-on-account");
    assert_eq!(
        field.message,
        "Only $30.00 of its credit on account is unapplied. Enter at most that."
    );
    let done = give_back(refund_of_credit(r.payment_id, "30.00"))
        .await
        .unwrap();
    assert_eq!(done.amount.amount(), d("30.00"));
    assert_eq!(done.lines[0].invoice_number, "On account");
    assert!(f.credit().await.available.is_zero());
    // To the card it came from: the gateway's books have the refund on the payment's charge.
    let refunded: Decimal = sqlx::query_scalar(
        "SELECT sum(g.amount) FROM sandbox_refunds g JOIN payments p ON p.gateway_charge_id = g.charge_id WHERE p.id = $1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(refunded, d("30.00"));
    // The invoice the credit paid keeps its balance: the refund gave back credit, not the line.
    assert_eq!(f.balance(a.0).await, a.1 - d("20.00"));
    f.ledger_holds().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refused_refund_of_credit_gives_the_credit_back(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    f.allow_overpayment().await;
    sqlx::query("UPDATE seller_settings SET refund_approval_above = 10")
        .execute(&f.pool)
        .await
        .unwrap();
    let r = f.on_account_by_card("50.00").await;
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&f.pool)
        .await
        .unwrap();
    let asked = server::payments::refunds::give_back(
        &f.pool,
        &f.gateway,
        &f.config,
        &f.clerk.staff().unwrap(),
        &refund_of_credit(r.payment_id, "50.00"),
    )
    .await
    .unwrap();
    assert_eq!(asked.status, shared::refund::RefundStatus::AwaitingApproval);
    // Held while it waits: the credit cannot be applied twice meanwhile.
    assert!(f.credit().await.available.is_zero());
    f.ledger_holds().await;
    server::payments::refunds::refuse(&f.pool, &f.admin().await, asked.id, "Apply it instead")
        .await
        .unwrap();
    assert_eq!(f.credit().await.available.amount(), d("50.00"));
    f.ledger_holds().await;
}

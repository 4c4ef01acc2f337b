//! Reason codes on a real PostgreSQL: admins keep the short-pay and refund lists (never
//! deleting a code, "Other" always offered); a short payment carries its code to the
//! allocation, the receipt, the payments feed and the export; a code not offered is refused at
//! its field and changes nothing; a reason typed before codes stays readable.

use crate::common;

use common::{d, fixture, key, Fixture};
use server::payments::{receipt, refunds};
use shared::money::{Currency, Money};
use shared::payment::{Consent, LineInput, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::reason::{ReasonCodeInput, ReasonKind};
use shared::refund::{RefundInput, RefundLineInput, RefundRequest};
use shared::report::PaymentFilter;
use shared::{AppError, InvoiceId, PaymentId};

/// A request paying `amount` of `invoice` short with `code` and `comment`.
fn short(
    method: shared::MethodId,
    invoice: InvoiceId,
    amount: &str,
    code: &str,
    comment: &str,
) -> PaymentRequest {
    PaymentRequest::parse(
        &PaymentInput {
            company: "C1002".into(),
            method_id: method,
            lines: vec![LineInput {
                invoice_id: invoice,
                amount: Money::usd(d(amount)),
                short_pay_code: code.into(),
                short_pay_reason: comment.into(),
            }],
            consent_channel: "phone".into(),
            consent_reference: "Call with Maria Alvarez".into(),
            idempotency_key: key(),
            policy_override: String::new(),
            on_account: None,
            surcharge: None,
        },
        Consent::parse_staff("phone", "Call with Maria Alvarez").unwrap(),
        Currency::USD,
    )
    .unwrap()
}

async fn offered(f: &Fixture, kind: ReasonKind) -> Vec<String> {
    server::reasons::list(&f.pool, kind, true)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn admins_keep_the_lists_and_a_code_is_never_deleted(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    assert_eq!(
        offered(&f, ReasonKind::ShortPay).await,
        [
            "pricing",
            "short_shipped",
            "credit_expected",
            "installment",
            "disputed",
            "other"
        ]
    );
    // Added from its label, before "Other".
    let added = server::reasons::add(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        &ReasonCodeInput {
            label: "Freight not agreed".into(),
            code: String::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(added.code, "freight_not_agreed");
    let list = offered(&f, ReasonKind::ShortPay).await;
    assert_eq!(&list[list.len() - 2..], ["freight_not_agreed", "other"]);
    // The same code, or the same label, again: refused at its field.
    let again = |label: &str, code: &str| ReasonCodeInput {
        label: label.into(),
        code: code.into(),
    };
    let e = server::reasons::add(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        &again("Another", "pricing"),
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(e.field().unwrap().field, "code");
    let e = server::reasons::add(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        &again("pricing DIFFERENCE", ""),
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(e.field().unwrap().field, "label");
    // The same code in the other list is another reason.
    server::reasons::add(
        &f.pool,
        &admin,
        ReasonKind::Refund,
        &again("Pricing", "pricing"),
    )
    .await
    .unwrap();
    // Renamed and no longer offered; "Other" stays offered.
    let changed = server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        "pricing",
        " Price  difference ",
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (changed.label.as_str(), changed.active),
        ("Price difference", false)
    );
    assert!(!offered(&f, ReasonKind::ShortPay)
        .await
        .contains(&"pricing".to_string()));
    let e = server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        "other",
        "Other",
        false,
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(e.field().unwrap().field, "active");
    let e = server::reasons::change(&f.pool, &admin, ReasonKind::ShortPay, "nope", "Nope", true)
        .await
        .unwrap_err()
        .into_app();
    assert!(matches!(e, AppError::NotFound(_)));
    // Never deleted, not even by hand.
    assert!(
        sqlx::query("DELETE FROM reason_codes WHERE code = 'pricing'")
            .execute(&f.pool)
            .await
            .is_err()
    );
    // Each change audited under the admin; a change that changes nothing is not.
    server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        "pricing",
        "Price difference",
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'reason_code.added'")
            .await,
        2
    );
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE action = 'reason_code.changed' AND entity_id = 'short_pay:pricing'").await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_short_payment_carries_its_code_to_the_receipt_the_feed_and_the_export(
    pool: sqlx::PgPool,
) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    // No reason: refused at the reason, nothing paid.
    let e = f
        .pay(&f.clerk, &short(visa, inv.0, "10.00", "", ""))
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, format!("reason_{}", inv.0));
    let PaymentOutcome::Paid(r) = f
        .pay(
            &f.clerk,
            &short(visa, inv.0, "10.00", "pricing", "Agreed 5 % off"),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(
        r.lines[0].short_pay.as_deref(),
        Some("Pricing difference: Agreed 5 % off")
    );
    assert_eq!(f.balance(inv.0).await, inv.1 - d("10.00"));
    let stored: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT short_pay_code, short_pay_reason FROM payment_allocations WHERE payment_id = $1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (Some("pricing".into()), Some("Agreed 5 % off".into()))
    );
    // The receipt read again (as the customer would) says the label the seller gives it now.
    let admin = f.admin().await;
    server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        "pricing",
        "Price agreed lower",
        true,
    )
    .await
    .unwrap();
    let again = receipt(&f.pool, &f.clerk, r.payment_id).await.unwrap();
    assert_eq!(
        again.lines[0].short_pay.as_deref(),
        Some("Price agreed lower: Agreed 5 % off")
    );
    // The feed (the API and the webhooks) carries the code and the comment.
    let event: serde_json::Value = sqlx::query_scalar(
        "SELECT data FROM events WHERE payment_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(event["allocations"][0]["short_pay_code"], "pricing");
    assert_eq!(
        event["allocations"][0]["short_pay_reason"],
        "Agreed 5 % off"
    );
    let typed: shared::event::Payment = serde_json::from_value(event).unwrap();
    assert_eq!(
        typed.allocations[0].short_pay_code.as_deref(),
        Some("pricing")
    );
    // The export.
    let page = server::payments::report::list(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &PaymentFilter {
            from: None,
            to: None,
            status: None,
            method: None,
            back: None,
            page: 1,
        },
    )
    .await
    .unwrap();
    let row = page.items.iter().find(|p| p.number == r.number).unwrap();
    assert_eq!(row.short_pays.len(), 1);
    assert!(
        row.short_pays[0].ends_with(" pricing (Agreed 5 % off)"),
        "{:?}",
        row.short_pays
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_reason_not_offered_is_refused_at_its_field_and_changes_nothing(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::ShortPay,
        "installment",
        "Paying in installments",
        false,
    )
    .await
    .unwrap();
    let payments = f.count("SELECT count(*) FROM payments").await;
    for code in ["installment", "no_such_reason"] {
        let e = f
            .pay(&f.clerk, &short(visa, inv.0, "10.00", code, ""))
            .await
            .unwrap_err();
        assert_eq!(
            e.field().unwrap().field,
            format!("reason_{}", inv.0),
            "{code}"
        );
        assert_eq!(f.balance(inv.0).await, inv.1);
    }
    // "Other" with no comment: refused at the comment, before anything is asked of the database.
    let mut input = PaymentInput {
        company: "C1002".into(),
        method_id: visa,
        lines: vec![LineInput {
            invoice_id: inv.0,
            amount: Money::usd(d("10.00")),
            short_pay_code: "other".into(),
            short_pay_reason: " ".into(),
        }],
        consent_channel: "phone".into(),
        consent_reference: "Call".into(),
        idempotency_key: key(),
        policy_override: String::new(),
        on_account: None,
        surcharge: None,
    };
    let consent = Consent::parse_staff("phone", "Call").unwrap();
    let e = PaymentRequest::parse(&input, consent.clone(), Currency::USD).unwrap_err();
    assert_eq!(e.field, format!("reason_note_{}", inv.0));
    input.lines[0].short_pay_reason = "Freight charged twice".into();
    assert!(PaymentRequest::parse(&input, consent, Currency::USD).is_ok());
    assert_eq!(f.count("SELECT count(*) FROM payments").await, payments);

    // A refund with a reason the seller stopped offering: refused, nothing given back.
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&f.pool)
        .await
        .unwrap();
    let PaymentOutcome::Paid(r) = f.pay_in_full(visa, inv).await.unwrap() else {
        panic!("declined")
    };
    server::reasons::change(
        &f.pool,
        &admin,
        ReasonKind::Refund,
        "customer_request",
        "Customer's request",
        false,
    )
    .await
    .unwrap();
    let ask = |reason: &str, payment: PaymentId| {
        RefundRequest::parse(
            &RefundInput {
                payment_id: payment,
                lines: vec![RefundLineInput {
                    invoice: r.lines[0].invoice_number.clone(),
                    amount: "5.00".into(),
                }],
                reason: reason.into(),
                note: String::new(),
                idempotency_key: key(),
                on_account: String::new(),
            },
            Currency::USD,
        )
        .unwrap()
    };
    let staff = f.clerk.staff().unwrap();
    let e = refunds::give_back(
        &f.pool,
        &f.gateway,
        &f.config,
        &staff,
        &ask("customer_request", r.payment_id),
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(e.field().unwrap().field, "reason");
    assert_eq!(f.count("SELECT count(*) FROM refunds").await, 0);
    let done = refunds::give_back(
        &f.pool,
        &f.gateway,
        &f.config,
        &staff,
        &ask("duplicate", r.payment_id),
    )
    .await
    .unwrap();
    assert_eq!(done.reason_label, "Duplicate payment");
    assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);
    assert_eq!(server::ledger::refunds_over(&f.pool).await.unwrap(), 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_reason_typed_before_codes_stays_readable(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let inv = f.open().await[0];
    let visa = f.method("4242").await;
    let PaymentOutcome::Paid(r) = f
        .pay(
            &f.clerk,
            &short(visa, inv.0, "10.00", "disputed", "Freight"),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    // As written before codes: the free text alone.
    sqlx::query("UPDATE payment_allocations SET short_pay_code = NULL, short_pay_reason = 'Disputed freight charge' WHERE payment_id = $1")
        .bind(r.payment_id)
        .execute(&f.pool)
        .await
        .unwrap();
    let again = receipt(&f.pool, &f.clerk, r.payment_id).await.unwrap();
    assert_eq!(
        again.lines[0].short_pay.as_deref(),
        Some("Disputed freight charge")
    );
    let json: serde_json::Value = sqlx::query_scalar("SELECT payment_json($1)")
        .bind(r.payment_id)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(
        json["allocations"][0]["short_pay_code"],
        serde_json::Value::Null
    );
    assert_eq!(
        json["allocations"][0]["short_pay_reason"],
        "Disputed freight charge"
    );
    serde_json::from_value::<shared::event::Payment>(json).unwrap();
}

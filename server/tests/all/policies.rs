//! Payment policies on a real PostgreSQL: the seller's default and a company's own; each rule
//! refused in each door (staff, the customer portal, a pay link) at its field, changing
//! nothing; staff paying outside a policy with a reason where the seller allows it, never a
//! customer or a link.

use crate::common;

use common::{d, fixture, payment_input};
use rust_decimal::Decimal;
use shared::company::CompanyCode;
use shared::money::{Currency, Money};
use shared::payment::{Consent, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::policy::{PaymentPolicy, PolicyInput};
use shared::{InvoiceId, MethodId};

/// A policy, a payment it refuses (method, lines) and the field that says so.
type Case = (PaymentPolicy, MethodId, Vec<(InvoiceId, String)>, String);

fn c1002() -> CompanyCode {
    CompanyCode::parse("C1002").unwrap()
}

/// A request paying `lines` with `method`, `why` the reason for paying outside the policy.
fn request(
    method: MethodId,
    lines: &[(InvoiceId, String)],
    consent: Consent,
    why: &str,
) -> PaymentRequest {
    let lines: Vec<(InvoiceId, Decimal)> = lines.iter().map(|(i, a)| (*i, d(a))).collect();
    let input = PaymentInput {
        policy_override: why.into(),
        ..payment_input(method, &lines)
    };
    PaymentRequest::parse(&input, consent, Currency::USD).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn each_policy_is_refused_in_each_door_at_its_field_and_changes_nothing(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let card = f.method("4242").await;
    let ach = f.ach_method().await;
    let all = f.doors(&[a.0, b.0]).await;
    let before = f.count("SELECT count(*) FROM payments").await;
    let cases: Vec<Case> = vec![
        // Cards not accepted.
        (
            PaymentPolicy {
                card_allowed: false,
                ..PaymentPolicy::default()
            },
            card,
            vec![(a.0, a.1.to_string())],
            "method".into(),
        ),
        // ACH above $10.00.
        (
            PaymentPolicy {
                ach_required_above: Some(Money::usd(d("10"))),
                ..PaymentPolicy::default()
            },
            card,
            vec![(a.0, a.1.to_string())],
            "method".into(),
        ),
        // At least more than both invoices.
        (
            PaymentPolicy {
                min_amount: Some(Money::usd(a.1 + b.1 + d("1"))),
                ..PaymentPolicy::default()
            },
            card,
            vec![(a.0, a.1.to_string()), (b.0, b.1.to_string())],
            "invoices".into(),
        ),
        // At most $1.00.
        (
            PaymentPolicy {
                max_amount: Some(Money::usd(d("1"))),
                ..PaymentPolicy::default()
            },
            card,
            vec![(a.0, a.1.to_string())],
            "invoices".into(),
        ),
        // Invoices paid in full.
        (
            PaymentPolicy {
                partial_allowed: false,
                ..PaymentPolicy::default()
            },
            card,
            vec![(a.0, "1.00".into())],
            format!("amount_{}", a.0),
        ),
    ];
    for (policy, method, lines, field) in &cases {
        server::policies::set(&f.pool, &admin, Some(&c1002()), Some(policy))
            .await
            .unwrap();
        for (door, scope, consent) in &all {
            // The company's default card, which every door (a link too) may pay with.
            let e = f
                .pay_in(scope, &request(*method, lines, consent.clone(), ""))
                .await
                .unwrap_err();
            assert_eq!(
                e.field().map(|x| x.field.as_str()),
                Some(field.as_str()),
                "{door}: {policy:?}: {e:?}"
            );
            // A customer or a link giving a reason changes nothing: only staff may.
            if *door != "staff" {
                let e = f
                    .pay_in(scope, &request(*method, lines, consent.clone(), "Because"))
                    .await
                    .unwrap_err();
                assert_eq!(
                    e.field().map(|x| x.field.as_str()),
                    Some(field.as_str()),
                    "{door} override"
                );
            }
        }
    }
    assert_eq!(f.count("SELECT count(*) FROM payments").await, before);
    assert_eq!(f.balance(a.0).await, a.1);
    // The message a clerk and a customer read.
    server::policies::set(
        &f.pool,
        &admin,
        Some(&c1002()),
        Some(&PaymentPolicy {
            ach_required_above: Some(Money::usd(d("10"))),
            ..PaymentPolicy::default()
        }),
    )
    .await
    .unwrap();
    let e = f
        .pay_in(
            &all[1].1,
            &request(card, &[(a.0, a.1.to_string())], all[1].2.clone(), ""),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.field().unwrap().message,
        "Payments over $10.00 must be made by ACH for this account."
    );
    // By ACH it goes through.
    let PaymentOutcome::Paid(_) = f
        .pay_in(
            &all[0].1,
            &request(ach, &[(a.0, a.1.to_string())], all[0].2.clone(), ""),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
}

#[sqlx::test(migrations = "./migrations")]
async fn staff_pay_outside_a_policy_with_a_reason_where_the_seller_allows_it(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    let a = f.open().await[0];
    let card = f.method("4242").await;
    let staff = f.scope(&f.clerk);
    let consent = || Consent::parse_staff("phone", "Call").unwrap();
    let lines = vec![(a.0, a.1.to_string())];
    // The seller's default says ACH above $10.00; C1002 has no policy of its own.
    server::policies::set(
        &f.pool,
        &admin,
        None,
        Some(&PaymentPolicy {
            ach_required_above: Some(Money::usd(d("10"))),
            ..PaymentPolicy::default()
        }),
    )
    .await
    .unwrap();
    let e = f
        .pay_in(&staff, &request(card, &lines, consent(), ""))
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, "method");
    // Not allowed by the seller: a reason changes nothing.
    server::policies::set_staff_may_override(&f.pool, &admin, false)
        .await
        .unwrap();
    let e = f
        .pay_in(
            &staff,
            &request(card, &lines, consent(), "Customer's card only today"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field().unwrap().field, "method");
    // Allowed: paid, the reason kept on the payment and in the audit trail.
    server::policies::set_staff_may_override(&f.pool, &admin, true)
        .await
        .unwrap();
    let PaymentOutcome::Paid(r) = f
        .pay_in(
            &staff,
            &request(card, &lines, consent(), " Customer's  card only today "),
        )
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    let kept: Option<String> =
        sqlx::query_scalar("SELECT policy_override FROM payments WHERE id = $1")
            .bind(r.payment_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(kept.as_deref(), Some("Customer's card only today"));
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'payment.started' AND entity_id = '{}' \
             AND details->>'policy_override' = 'Customer''s card only today'",
            r.number
        ))
        .await,
        1
    );
    // A company's own policy wins over the default, and following the default again drops it.
    server::policies::set(
        &f.pool,
        &admin,
        Some(&c1002()),
        Some(&PaymentPolicy::default()),
    )
    .await
    .unwrap();
    let scope = f.scope(&f.clerk);
    let view = server::policies::view(&f.pool, Some(&scope)).await.unwrap();
    assert_eq!(view.in_force(), &PaymentPolicy::default());
    assert!(view.default.ach_required_above.is_some());
    server::policies::set(&f.pool, &admin, Some(&c1002()), None)
        .await
        .unwrap();
    let view = server::policies::view(&f.pool, Some(&scope)).await.unwrap();
    assert!(view.own.is_none());
    assert_eq!(view.in_force(), &view.default);
    assert_eq!(
        f.count(
            "SELECT count(*) FROM audit_events WHERE action = 'settings.payment_policy_changed'"
        )
        .await,
        3
    );
    // The database refuses a policy the form would (no way to pay at all).
    assert!(
        sqlx::query("UPDATE payment_policies SET card_allowed = false, ach_allowed = false")
            .execute(&f.pool)
            .await
            .is_err()
    );
    // The admin's form, checked field by field before anything is stored.
    let e = PolicyInput {
        card_allowed: false,
        ach_allowed: false,
        ..PolicyInput::default()
    }
    .parse(Currency::USD)
    .unwrap_err();
    assert_eq!(e.field, "methods");
}

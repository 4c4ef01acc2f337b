//! The server functions a link opens, over real HTTP and without a session: a pay link acts
//! for its own company and invoices only (whatever the form names), once; a receipt link
//! opens only with its signature; a reset request answers the same for any address.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

async fn link_token(pool: &PgPool, purpose: server::links::Purpose, sql: &str) -> String {
    let nonce: Vec<u8> = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
    let key = server::links::key(
        &mut pool.acquire().await.unwrap(),
        &server::Config::for_tests("postgres://unused"),
    )
    .await
    .unwrap();
    server::links::token(&key, purpose, &nonce)
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_pay_link_pays_its_own_invoices_once_without_an_account(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let (invoice, balance): (i64, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT id, balance FROM invoices WHERE balance > 0 AND company_id = (SELECT id FROM companies WHERE code = 'C1002') ORDER BY due_date LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let contacts: Value = app
        .call("pay_link_contacts", &[("code", "C1002")], Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    let contact = contacts[0]["id"].as_i64().unwrap();
    let send = serde_json::json!({ "code": "C1002", "contact": contact, "invoices": [invoice] });
    let res = app.call_json("send_pay_link", &send, Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = link_token(
        &pool,
        server::links::Purpose::PayLink,
        "SELECT nonce FROM pay_links",
    )
    .await;

    // A made-up or malformed token opens nothing.
    for bad in ["x".repeat(43), "short".into(), format!("{token}x")] {
        let res = app.call("pay_link", &[("token", &bad)], None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    let view: Value = app
        .call("pay_link", &[("token", &token)], None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "opened");
    assert_eq!(view["invoices"].as_array().unwrap().len(), 1);
    // The link offers the seller's short-pay reasons; a made-up link offers nothing.
    let reasons: Value = app
        .call_json(
            "offered_reasons",
            &serde_json::json!({ "kind": "ShortPay", "link": token }),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        reasons
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "other"),
        "{reasons}"
    );
    let res = app
        .call_json(
            "offered_reasons",
            &serde_json::json!({ "kind": "ShortPay", "link": "x".repeat(43) }),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call_json(
            "offered_reasons",
            &serde_json::json!({ "kind": "Refund", "link": token }),
            None,
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let methods: Value = app
        .call("payment_options", &[("code", ""), ("link", &token)], None)
        .await
        .json()
        .await
        .unwrap();
    let card = methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"].as_str().unwrap_or("").contains("4242") || m["last4"] == "4242")
        .unwrap_or(&methods[0])["id"]
        .as_i64()
        .unwrap();

    // The form names another company (or none, as the page sends): the link's company is
    // paid, as the customer's own payment through the link.
    let pay = |amount: String, company: &str| {
        serde_json::json!({ "link": token, "payment": {
            "company": company,
            "method_id": card,
            "lines": [{ "invoice_id": invoice, "amount": { "amount": amount, "currency": "USD" }, "short_pay_reason": "" }],
            "consent_channel": "",
            "consent_reference": "",
            "idempotency_key": uuid::Uuid::new_v4().to_string(),
        }})
    };
    let over = app
        .call_json(
            "pay_invoices",
            &pay((balance + rust_decimal::Decimal::ONE).to_string(), ""),
            None,
        )
        .await;
    assert_eq!(over.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal: Value = over.json().await.unwrap();
    assert!(
        refusal["Invalid"]["field"]
            .as_str()
            .unwrap()
            .starts_with("amount"),
        "never more than the balance: {refusal}"
    );
    let res = app
        .call_json("pay_invoices", &pay(balance.to_string(), "C1001"), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let outcome: Value = res.json().await.unwrap();
    let number = outcome["Paid"]["number"].as_str().unwrap().to_string();
    let (code, channel, by): (String, String, Option<i64>) = sqlx::query_as(
        "SELECT c.code, p.consent_channel, p.initiated_by FROM payments p JOIN companies c ON c.id = p.company_id WHERE p.number = $1",
    )
    .bind(&number)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (code.as_str(), channel.as_str(), by),
        ("C1002", "pay_link", None)
    );
    // Spent.
    let res = app
        .call_json("pay_invoices", &pay("1.00".into(), ""), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let view: Value = app
        .call("pay_link", &[("token", &token)], None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "paid");
    assert_eq!(view["payment_number"], number);

    // The receipt link opens with its signature only.
    let key = server::links::key(
        &mut pool.acquire().await.unwrap(),
        &server::Config::for_tests("postgres://unused"),
    )
    .await
    .unwrap();
    let good = server::links::receipt_token(&key, &number, server::companies::today());
    let res = app.call("receipt_by_link", &[("token", &good)], None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["number"], number);
    // An old link: signed, but issued past the receipt-link days.
    let old = server::links::receipt_token(
        &key,
        &number,
        server::companies::today() - chrono::Duration::days(181),
    );
    let res = app.call("receipt_by_link", &[("token", &old)], None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(body["Invalid"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let forged = format!("{number}.20260101.{}", "A".repeat(43));
    let res = app
        .call("receipt_by_link", &[("token", &forged)], None)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The page itself answers for the link.
    assert_eq!(
        app.page(&format!("/pay/{token}"), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.page(&format!("/receipts/{good}"), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.page(&format!("/receipts/{forged}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_reset_request_answers_the_same_for_any_address(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    for email in ["clerk@settle.example", "nobody@settle.example"] {
        let res = app
            .form("request_password_reset", &[("email", email)], None)
            .await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{email}: {}",
            res.status()
        );
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM emails WHERE kind = 'password_reset'"
        )
        .await,
        1
    );
    let res = app
        .form("request_password_reset", &[("email", "not an email")], None)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let token = link_token(
        &pool,
        server::links::Purpose::PasswordReset,
        "SELECT nonce FROM user_tokens",
    )
    .await;
    let res = app
        .form(
            "use_account_link",
            &[
                ("invitation", "false"),
                ("token", &token),
                ("password", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
            None,
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(app
        .login(("clerk@settle.example", "a brand new passphrase"), None)
        .await
        .status()
        .is_redirection());
    assert!(
        !app.login(CLERK, None).await.status().is_redirection(),
        "the old password is gone"
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_client_trying_links_that_open_nothing_is_refused_for_the_hour(pool: PgPool) {
    let app = spawn(pool).await;
    let bogus = "x".repeat(43);
    for _ in 0..server::links::DEAD_LINKS_PER_CLIENT {
        let res = app.call("pay_link", &[("token", &bogus)], None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // Past the limit: refused at once, whatever the link, with when to come back.
    for call in ["pay_link", "receipt_by_link"] {
        let res = app.call(call, &[("token", &bogus)], None).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{call}");
        assert!(res.headers().contains_key("retry-after"), "{call}");
        let body: Value = res.json().await.unwrap();
        assert!(body["TooMany"]["minutes"].as_i64().unwrap() >= 1, "{body}");
    }
    let res = app
        .call(
            "account_link",
            &[("invitation", "true"), ("token", &bogus)],
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

//! The real router on a random port against a fresh test database, called over HTTP.
#![cfg(feature = "ssr")]

use crate::common;

use common::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test(migrations = "../server/migrations")]
async fn login_sets_a_strict_httponly_session_and_redirects_home(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app.login(CLERK, None).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[LOCATION], "/ops");
    let raw = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Strict"), "{raw}");
    let token = session_cookie(&res).unwrap();
    assert!(token.len() >= 43, "256-bit token: {token}");
    assert_eq!(app.current_email(&token).await.as_deref(), Some(CLERK.0));

    // `next` is honoured when it is the user's own area, and never leaves the site.
    let res = app
        .call(
            "login",
            &[
                ("email", CLERK.0),
                ("password", CLERK.1),
                ("next", "/ops/crm/companies/C1002"),
            ],
            None,
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/ops/crm/companies/C1002");
    let res = app
        .call(
            "login",
            &[
                ("email", CLERK.0),
                ("password", CLERK.1),
                ("next", "//evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/ops");
    let res = app.login(CUSTOMER, None).await;
    assert_eq!(res.headers()[LOCATION], "/portal");

    // The JavaScript client gets the target without a real redirect, and the cookie too.
    let res = app
        .call("login", &[("email", CLERK.0), ("password", CLERK.1)], None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[LOCATION], "/ops");
    assert!(session_cookie(&res).is_some());
}

#[sqlx::test(migrations = "../server/migrations")]
async fn wrong_password_and_bad_input_are_field_errors(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app.login((CLERK.0, "nope"), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(session_cookie(&res).is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "password");
    assert_eq!(
        body["Invalid"]["message"],
        "The email or password is incorrect."
    );

    let res = app.login(("not-an-email", "x"), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "email");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn ten_failed_logins_lock_the_account_for_thirty_minutes(pool: PgPool) {
    let app = spawn(pool).await;
    for _ in 0..9 {
        assert_eq!(
            app.login((CLERK.0, "wrong"), None).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let tenth = app.login((CLERK.0, "wrong"), None).await;
    assert_eq!(tenth.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = tenth.json().await.unwrap();
    assert_eq!(body["LockedOut"]["minutes"], 30);
    let right = app.login(CLERK, None).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&right).is_none());
    // Other accounts are not affected.
    assert_eq!(app.login(CUSTOMER, None).await.status(), StatusCode::FOUND);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn signing_in_again_rotates_the_session_and_logout_ends_it(pool: PgPool) {
    let app = spawn(pool).await;
    let first = app.session_for(CLERK).await;
    let res = app.login(CLERK, Some(&first)).await;
    let second = session_cookie(&res).unwrap();
    assert_ne!(first, second);
    assert_eq!(app.current_email(&first).await, None);
    assert_eq!(app.current_email(&second).await.as_deref(), Some(CLERK.0));

    let res = app.form("logout", &[], Some(&second)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[LOCATION], "/login");
    assert_eq!(session_cookie(&res).as_deref(), Some(""));
    assert_eq!(app.current_email(&second).await, None);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn server_functions_refuse_signed_out_callers_and_keep_customers_to_their_company(
    pool: PgPool,
) {
    let app = spawn(pool).await;
    let customer = app.session_for(CUSTOMER).await;
    let clerk = app.session_for(CLERK).await;
    let company_calls: [(&str, &[(&str, &str)]); 6] = [
        ("get_company", &[("code", "C1002")]),
        ("open_invoices", &[("code", "C1002")]),
        ("matching_invoices", &[("code", "C1002")]),
        ("payment_options", &[("code", "C1002")]),
        ("payments", &[("code", "C1002")]),
        ("saved_methods", &[("code", "C1002")]),
    ];
    for (name, args) in company_calls {
        let res = app.call(name, args, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name} signed out");
        let res = app.call(name, args, Some(&customer)).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "{name}: another company, as a customer"
        );
        let body = res.text().await.unwrap();
        assert!(!body.contains("INV-"), "{name} leaked data: {body}");
        let res = app.call(name, args, Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::OK, "{name} as a clerk");
        // A customer naming no company (or their own) gets their own.
        let res = app.call(name, &[("code", "")], Some(&customer)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{name} for the customer's own company"
        );
    }
    let res = app
        .call(
            "list_companies",
            &[("q", ""), ("page", "1")],
            Some(&customer),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "only staff browse companies"
    );
    let own: Value = app
        .call("get_company", &[("code", "")], Some(&customer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["code"], "C1001");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn staff_data_answers_match_the_database(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let res = app
        .call(
            "list_companies",
            &[("q", "ironwood"), ("page", "1")],
            Some(&clerk),
        )
        .await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["code"], "C1007");
    let res = app
        .call("open_invoices", &[("code", "C1007")], Some(&clerk))
        .await;
    let invoices: Value = res.json().await.unwrap();
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invoices WHERE balance > 0 AND company_id = (SELECT id FROM companies WHERE code = 'C1007')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(invoices["page"]["total"], expected);
    assert_eq!(
        invoices["page"]["items"].as_array().unwrap().len() as i64,
        expected.min(50)
    );
    let res = app
        .call("get_company", &[("code", "NOPE")], Some(&clerk))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .call(
            "get_company",
            &[("code", "'; DROP TABLE companies; --")],
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let too_long = "x".repeat(101);
    let res = app
        .call(
            "list_companies",
            &[("q", &too_long), ("page", "1")],
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn pages_send_signed_out_visitors_to_login_and_refuse_wrong_roles(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app.page("/ops/crm/companies?q=acme", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION],
        "/login?next=/ops/crm/companies%3Fq%3Dacme"
    );

    let customer = app.session_for(CUSTOMER).await;
    let res = app.page("/ops/crm/companies", Some(&customer)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(html.contains("Not allowed"), "{html}");
    // Nothing of other companies (the customer's own company is C1001, Harborview).
    assert!(
        !html.contains("Blue Ridge Mechanical") && !html.contains("INV-"),
        "company data on a refused page"
    );

    let clerk = app.session_for(CLERK).await;
    let res = app.page("/portal", Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = app.page("/ops/crm/companies", Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Harborview Construction LLC"),
        "server-rendered list"
    );

    let res = app.page("/no/such/page", Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A dead session cookie is cleared.
    let res = app.page("/login", Some("not-a-real-session")).await;
    assert_eq!(session_cookie(&res).as_deref(), Some(""));
}

#[sqlx::test(migrations = "../server/migrations")]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app
        .http
        .post(format!("{}/api/login", app.base))
        .header("origin", "https://evil.example")
        .form(&[("email", CLERK.0), ("password", CLERK.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&res).is_none());
}

/// A payment body for `pay_invoices` paying `amount` on `invoice_id` of C1002.
fn payment_body(method_id: i64, invoice_id: i64, amount: &str, key: &str) -> Value {
    serde_json::json!({ "payment": {
        "company": "C1002",
        "method_id": method_id,
        "lines": [{ "invoice_id": invoice_id, "amount": { "amount": amount, "currency": "USD" }, "short_pay_reason": "" }],
        "consent_channel": "phone",
        "consent_reference": "Call with AP",
        "idempotency_key": key,
    }})
}

#[sqlx::test(migrations = "../server/migrations")]
async fn paying_over_http_checks_the_role_and_the_input_and_happens_once(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let (invoice_id, balance): (i64, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT id, balance FROM invoices WHERE balance > 0 AND company_id = (SELECT id FROM companies WHERE code = 'C1002') ORDER BY due_date LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let method_id: i64 = sqlx::query_scalar(
        "SELECT id FROM payment_methods WHERE last4 = '4242' AND company_id = (SELECT id FROM companies WHERE code = 'C1002')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let key = "8d0c8f1e-3f0a-4b7e-9a55-2f1c3b7a9e01";
    let body = payment_body(method_id, invoice_id, &balance.to_string(), key);
    let customer = app.session_for(CUSTOMER).await;
    let clerk = app.session_for(CLERK).await;
    assert_eq!(
        app.call_json("pay_invoices", &body, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A customer naming another company's invoices: that company is not theirs to see.
    assert_eq!(
        app.call_json("pay_invoices", &body, Some(&customer))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // An amount that is not money at all is a malformed argument, named.
    for amount in ["0.001", "ten"] {
        let res = app
            .call_json(
                "pay_invoices",
                &payment_body(method_id, invoice_id, amount, key),
                Some(&clerk),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{amount}");
        let v: Value = res.json().await.unwrap();
        let field = v["Invalid"]["field"].as_str().unwrap_or("");
        assert!(
            field.starts_with("payment.lines[0].amount"),
            "{amount}: {v}"
        );
    }
    for (amount, message) in [
        ("0", "Enter an amount above zero."),
        ("-5", "Enter an amount above zero."),
    ] {
        let res = app
            .call_json(
                "pay_invoices",
                &payment_body(method_id, invoice_id, amount, key),
                Some(&clerk),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(
            v["Invalid"]["field"],
            format!("amount_{invoice_id}"),
            "{amount}"
        );
        assert_eq!(v["Invalid"]["message"], message, "{amount}");
    }
    let over = (balance + rust_decimal::Decimal::ONE).to_string();
    let res = app
        .call_json(
            "pay_invoices",
            &payment_body(method_id, invoice_id, &over, key),
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let paid_count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(paid_count().await, 0, "refused input changes nothing");

    let first: Value = app
        .call_json("pay_invoices", &body, Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = app
        .call_json("pay_invoices", &body, Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["Paid"]["number"], second["Paid"]["number"]);
    assert_eq!(first["Paid"]["status"], "Approved");
    assert_eq!(paid_count().await, 1);
}

fn visa_request() -> Value {
    serde_json::json!({
        "type": "card", "number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030,
        "cvc": "123", "postal_code": "94107", "holder_name": "Dana Payer"
    })
}

#[sqlx::test(migrations = "../server/migrations")]
async fn server_functions_refuse_any_request_carrying_card_data(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let methods_before = count(&pool, "SELECT count(*) FROM payment_methods").await;
    let refused = |res: Response| async move {
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["Invalid"]["field"], "card_data");
        assert!(v["Invalid"]["message"]
            .as_str()
            .unwrap()
            .contains("only to the payment gateway"));
    };
    let card = serde_json::json!({ "card": {
        "company": "C1002", "token": "tok_x", "holder_name": "A", "card_number": "4242424242424242"
    }});
    refused(app.call_json("add_card", &card, Some(&clerk)).await).await;
    let cvc = serde_json::json!({ "card": { "company": "C1002", "token": "tok_x", "holder_name": "A", "cvc": "123" }});
    refused(app.call_json("add_card", &cvc, Some(&clerk)).await).await;
    // A number typed anywhere, e.g. in a search box or a payment's reference, is refused too.
    refused(
        app.call(
            "list_companies",
            &[("q", "4000 0000 0000 0002"), ("page", "1")],
            Some(&clerk),
        )
        .await,
    )
    .await;
    let mut pay = payment_body(1, 1, "10.00", "8d0c8f1e-3f0a-4b7e-9a55-2f1c3b7a9e02");
    pay["payment"]["consent_reference"] = "card 4000-0000-0000-9995".into();
    refused(app.call_json("pay_invoices", &pay, Some(&clerk)).await).await;
    let form_cvv = app
        .call(
            "set_method_active",
            &[("id", "1"), ("active", "false"), ("cvv", "123")],
            Some(&clerk),
        )
        .await;
    refused(form_cvv).await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_methods").await,
        methods_before
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM payment_methods WHERE NOT active"
        )
        .await,
        0,
        "nothing changed"
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_card_goes_to_the_tokenizer_and_only_its_token_to_settle(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    assert_eq!(
        app.tokenize(&visa_request(), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Unreadable input is answered without echoing it back.
    let res = app
        .post_bytes(
            shared::method::SANDBOX_TOKENIZER_PATH,
            b"{\"type\":\"card\",\"number\":\"4242424242424242\",\"exp_month\":\"x\"}".to_vec(),
            "application/json",
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(!res.text().await.unwrap().contains("4242"));
    let mut bad = visa_request();
    bad["number"] = "4242 4242 4242 4241".into();
    let res = app.tokenize(&bad, Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["field"], "card_number");

    let res = app.tokenize(&visa_request(), Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(!text.contains("4242424242424242") && !text.contains("\"123\""));
    let token: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (token["brand"].as_str(), token["last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    let added = app
        .call_json(
            "add_card",
            &serde_json::json!({ "card": { "company": "C1002", "token": token["token"], "holder_name": "Dana Payer" }}),
            Some(&clerk),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let m: Value = added.json().await.unwrap();
    let listed: Value = app
        .call("payment_options", &[("code", "C1002")], Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == m["id"] && x["holder_name"] == "Dana Payer"));
    // Another company's customer cannot touch it: to them it does not exist.
    let customer = app.session_for(CUSTOMER).await;
    let res = app
        .call(
            "set_method_active",
            &[("id", &m["id"].to_string()), ("active", "false")],
            Some(&customer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn uploads_are_checked_by_content_and_size_and_opened_by_who_may(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let before = count(&pool, "SELECT count(*) FROM documents").await;
    let refused = |res: Response| async move {
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["Invalid"]["field"], "document");
        v["Invalid"]["message"].as_str().unwrap().to_string()
    };
    assert!(refused(app.upload("a.pdf", Vec::new(), Some(&clerk)).await)
        .await
        .starts_with("The file is empty"));
    assert!(refused(
        app.upload("a.gif", b"GIF89a....".to_vec(), Some(&clerk))
            .await
    )
    .await
    .starts_with("This file type is not accepted"));
    assert!(refused(
        app.upload("a.pdf", b"<html>not a pdf</html>".to_vec(), Some(&clerk))
            .await
    )
    .await
    .starts_with("This file is named .pdf but is not a PDF"));
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    assert!(refused(app.upload("big.pdf", big, Some(&clerk)).await)
        .await
        .contains("larger than the 10 MB limit"));
    assert_eq!(
        app.upload("a.pdf", b"%PDF-1.4\n".to_vec(), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM documents").await, before);

    let pdf = b"%PDF-1.4\n% signed authorization\n%%EOF\n".to_vec();
    let res = app.upload("auth.pdf", pdf.clone(), Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    let path = format!("/api/documents/{}", doc["id"]);
    let res = app.page(&path, Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // A customer of another company gets "not found"; signed out gets nothing.
    let customer = app.session_for(CUSTOMER).await;
    assert_eq!(
        app.page(&path, Some(&customer)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.page(&path, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// C1002's data, which the C1001 customer must never see or change: balances, methods,
/// payments and audit rows.
async fn other_company_state(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
            (SELECT sum(balance)::text FROM invoices WHERE company_id = c.id), \
            (SELECT string_agg(id || ':' || active || ':' || is_default, ',' ORDER BY id) FROM payment_methods WHERE company_id = c.id), \
            (SELECT count(*) FROM payments WHERE company_id = c.id), \
            (SELECT count(*) FROM audit_events WHERE on_behalf_company_id = c.id AND action NOT LIKE 'user.login%')) \
         FROM companies c WHERE c.code = 'C1002'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../server/migrations")]
async fn every_server_function_a_customer_calls_answers_only_for_their_own_company(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let customer = app.session_for(CUSTOMER).await;
    // Another company's ids: an invoice, a method, a payment (made by staff).
    let other_invoice = id_of(&pool, "SELECT id FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002') AND balance > 0 ORDER BY due_date LIMIT 1").await;
    let other_method = id_of(&pool, "SELECT id FROM payment_methods WHERE last4 = '4242' AND company_id = (SELECT id FROM companies WHERE code = 'C1002')").await;
    let own_method = id_of(&pool, "SELECT id FROM payment_methods WHERE last4 = '4242' AND company_id = (SELECT id FROM companies WHERE code = 'C1001')").await;
    let other_balance: String =
        sqlx::query_scalar("SELECT balance::text FROM invoices WHERE id = $1")
            .bind(other_invoice)
            .fetch_one(&pool)
            .await
            .unwrap();
    let paid = app
        .call_json(
            "pay_invoices",
            &payment_body(
                other_method,
                other_invoice,
                &other_balance,
                "8d0c8f1e-3f0a-4b7e-9a55-2f1c3b7a9e03",
            ),
            Some(&clerk),
        )
        .await;
    assert_eq!(paid.status(), StatusCode::OK);
    let other_payment = id_of(&pool, "SELECT id FROM payments WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002')").await;
    let before = other_company_state(&pool).await;

    let not_found = |res: Response, what: &'static str| async move {
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{what}");
        let v: Value = res.json().await.unwrap();
        assert!(v["NotFound"].is_string(), "{what}: {v}");
    };
    let (oi, om, op) = (
        other_invoice.to_string(),
        other_method.to_string(),
        other_payment.to_string(),
    );
    let mut covered = Vec::new();

    // Another company's things by id: not found, and nothing changes.
    for (name, form, what) in [
        ("get_invoice", vec![("id", oi.as_str())], "invoice"),
        ("payment_receipt", vec![("id", op.as_str())], "payment"),
        (
            "set_method_active",
            vec![("id", om.as_str()), ("active", "false")],
            "deactivate",
        ),
        ("set_default_method", vec![("id", om.as_str())], "default"),
    ] {
        covered.push(name);
        not_found(app.call(name, &form, Some(&customer)).await, what).await;
    }
    // Another company named by Company ID: not found.
    for name in [
        "get_company",
        "open_invoices",
        "matching_invoices",
        "payment_options",
        "payments",
        "saved_methods",
        "company_credit",
    ] {
        covered.push(name);
        not_found(
            app.call(name, &[("code", "C1002")], Some(&customer)).await,
            name,
        )
        .await;
        // Their own (named, or not named) lists only their own rows.
        for code in ["", "C1001"] {
            let res = app.call(name, &[("code", code)], Some(&customer)).await;
            assert_eq!(res.status(), StatusCode::OK, "{name}");
            let text = res.text().await.unwrap();
            assert!(!text.contains("C1002"), "{name} shows another company");
            if name == "open_invoices" || name == "matching_invoices" {
                let own_company =
                    id_of(&pool, "SELECT id FROM companies WHERE code = 'C1001'").await;
                let page: Value = serde_json::from_str(&text).unwrap();
                for inv in page["page"]["items"].as_array().unwrap() {
                    let owner = id_of(
                        &pool,
                        &format!("SELECT company_id FROM invoices WHERE id = {}", inv["id"]),
                    )
                    .await;
                    assert_eq!(owner, own_company);
                }
            }
            if name == "payment_options" {
                let list: Vec<Value> = serde_json::from_str(&text).unwrap();
                assert!(list.iter().all(|m| m["id"] != other_method));
            }
        }
    }

    covered.push("pay_invoices");
    // Another company's invoice under the customer's own company, with either method.
    for method in [own_method, other_method] {
        let mut body = payment_body(
            method,
            other_invoice,
            "10.00",
            &uuid::Uuid::new_v4().to_string(),
        );
        body["payment"]["company"] = "".into();
        let res = app.call_json("pay_invoices", &body, Some(&customer)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let mut body = payment_body(
            method,
            other_invoice,
            "10.00",
            &uuid::Uuid::new_v4().to_string(),
        );
        body["payment"]["company"] = "C1002".into();
        let res = app.call_json("pay_invoices", &body, Some(&customer)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    // Adding a method: for another company, not found; for their own, saved there.
    for name in ["add_card", "add_bank_account"] {
        covered.push(name);
        let request = if name == "add_card" {
            visa_request()
        } else {
            serde_json::json!({ "type": "bank_account", "routing_number": "110000000", "account_number": "000777888999", "holder_name": "A" })
        };
        let tokenized: Value = app
            .tokenize(&request, Some(&customer))
            .await
            .json()
            .await
            .unwrap();
        let body = |company: &str, token: Value| {
            if name == "add_card" {
                serde_json::json!({ "card": { "company": company, "token": token, "holder_name": "Pat" }})
            } else {
                serde_json::json!({ "account": {
                    "company": company, "token": token, "holder_name": "Pat", "holder_type": "business",
                    "account_type": "checking",
                    "authorization": { "InPortal": {
                        "version": shared::method::ACH_AUTHORIZATION_VERSION, "signed_name": "Pat Doe", "agreed": true,
                    }},
                }})
            }
        };
        let t = tokenized["token"].clone();
        not_found(
            app.call_json(name, &body("C1002", t.clone()), Some(&customer))
                .await,
            name,
        )
        .await;
        let res = app.call_json(name, &body("", t), Some(&customer)).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let m: Value = res.json().await.unwrap();
        let owner: String = sqlx::query_scalar("SELECT c.code FROM payment_methods m JOIN companies c ON c.id = m.company_id WHERE m.id = $1")
            .bind(m["id"].as_i64().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(owner, "C1001", "{name}");
    }

    // How cards are entered: for another company, not found; for their own, the sandbox's
    // tokenizer here (Stripe's field when Stripe is the gateway).
    covered.push("card_entry");
    not_found(
        app.call_json(
            "card_entry",
            &serde_json::json!({ "company": "C1002" }),
            Some(&customer),
        )
        .await,
        "card_entry",
    )
    .await;
    let res = app
        .call_json(
            "card_entry",
            &serde_json::json!({ "company": "" }),
            Some(&customer),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), "Sandbox");

    // A company's payment policy: another company's is not found; their own is theirs to read.
    covered.push("payment_policy");
    not_found(
        app.call("payment_policy", &[("code", "C1002")], Some(&customer))
            .await,
        "payment_policy",
    )
    .await;
    let res = app
        .call("payment_policy", &[("code", "")], Some(&customer))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // What only staff do: refused outright.
    for name in [
        "list_companies",
        "payment_method_detail",
        "company_users",
        "create_customer_user",
        "set_customer_user_active",
        "payments_awaiting_gateway",
        "all_payments",
        "api_keys",
        "create_api_key",
        "revoke_api_key",
        "webhooks",
        "webhook",
        "set_webhook_active",
        "retry_webhook_delivery",
        "commit_import",
        "email_outbox",
        "resend_email",
        "staff_users",
        "invite_staff_user",
        "pay_link_contacts",
        "pay_links",
        "revoke_pay_link",
        "set_staff_user_active",
        "set_staff_user_role",
        "ach_debits_unknown",
        "ach_overview",
        "ach_file",
        "write_ach_file_now",
        "my_refund_allowance",
        "refunds_awaiting_approval",
        "approve_refund",
        "refuse_refund",
        "set_refund_limit",
        "set_may_refund",
        "disputes",
        "void_options",
        "seller_payment_policy",
        "set_policy_override",
        "surcharge_settings",
        "set_surcharge",
        "aging",
        "aging_of_company",
        "time_zone_settings",
        "set_time_zone",
        "dashboard",
        "refresh_dashboard",
        "ach_authorizations",
        "deposits",
        "deposit_day",
        "statement_schedule",
        "set_statement_schedule",
    ] {
        covered.push(name);
        let own = own_method.to_string();
        let form = [
            ("q", ""),
            ("page", "1"),
            ("code", "C1001"),
            ("id", own.as_str()),
            ("user_id", "1"),
            ("user", "1"),
            ("active", "false"),
            ("name", "X"),
            ("email", "x@x.example"),
            ("scope", "read"),
            ("endpoint", "1"),
            ("delivery", "1"),
            ("mode", "valid_only"),
            ("status", ""),
            ("role", "clerk"),
            ("reason", "no"),
            ("amount", "5"),
            ("may", "true"),
            ("payment_id", "1"),
            ("allowed", "true"),
            ("percent", "3"),
            ("time_zone", "UTC"),
            ("day", "2026-12-01"),
            ("rail", "card"),
            ("remittance", ""),
        ];
        let res = app.call(name, &form, Some(&customer)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
    }
    covered.push("give_back");
    let refund = serde_json::json!({ "refund": { "payment_id": 1, "lines": [{ "invoice": "INV-1", "amount": "1.00" }],
        "reason": "duplicate", "note": "", "idempotency_key": "0b5e1c7e-9f7a-4c1e-9a43-5d2b1f0c1a11" }});
    assert_eq!(
        app.call_json("give_back", &refund, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    covered.push("void_debit");
    let void = serde_json::json!({ "void": { "payment_id": 1, "reverse": false, "reason": "duplicate", "note": "" }});
    assert_eq!(
        app.call_json("void_debit", &void, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The reason lists: a customer reads the short-pay reasons offered, nothing more.
    covered.push("offered_reasons");
    let short_pay = serde_json::json!({ "kind": "ShortPay", "link": null });
    let res = app
        .call_json("offered_reasons", &short_pay, Some(&customer))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let refund_reasons = serde_json::json!({ "kind": "Refund", "link": null });
    assert_eq!(
        app.call_json("offered_reasons", &refund_reasons, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for (name, body) in [
        (
            "set_payment_policy",
            serde_json::json!({ "code": "", "policy": null }),
        ),
        ("kept_reasons", serde_json::json!({ "kind": "ShortPay" })),
        (
            "add_reason",
            serde_json::json!({ "kind": "ShortPay", "reason": { "label": "Mine", "code": "" } }),
        ),
        (
            "change_reason",
            serde_json::json!({ "kind": "ShortPay", "code": "pricing", "label": "Mine", "active": false }),
        ),
    ] {
        covered.push(name);
        assert_eq!(
            app.call_json(name, &body, Some(&customer)).await.status(),
            StatusCode::FORBIDDEN,
            "{name}"
        );
    }
    // Credit: applied only to their own company's invoices.
    covered.push("apply_credit");
    for company in ["C1002", ""] {
        let body = serde_json::json!({ "application": { "company": company,
            "lines": [{ "invoice_id": other_invoice, "amount": { "amount": "1.00", "currency": "USD" } }],
            "idempotency_key": uuid::Uuid::new_v4().to_string() }});
        let res = app.call_json("apply_credit", &body, Some(&customer)).await;
        let want = if company.is_empty() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(res.status(), want, "apply_credit {company:?}");
    }
    covered.push("create_webhook");
    let hook = serde_json::json!({ "url": "https://x.example/hook", "description": "", "events": ["payment.approved"] });
    assert_eq!(
        app.call_json("create_webhook", &hook, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    covered.push("send_pay_link");
    let link = serde_json::json!({ "code": "C1001", "contact": 1, "invoices": [1] });
    assert_eq!(
        app.call_json("send_pay_link", &link, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    covered.push("list_payment_methods");
    let query =
        serde_json::json!({ "query": { "q": "", "company": "", "sort": "", "dir": "", "page": 1 }});
    assert_eq!(
        app.call_json("list_payment_methods", &query, Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        other_company_state(&pool).await,
        before,
        "nothing of C1002 changed"
    );

    // Every server function is covered above: a new one without a test fails here.
    // Public, or acting only through the link they are given (tests in links.rs).
    let public = [
        "current_user",
        "demo_accounts",
        "login",
        "logout",
        "request_password_reset",
        "account_link",
        "use_account_link",
        "pay_link",
        "receipt_by_link",
    ];
    let mut registered: Vec<String> = server_fn::axum::server_fn_paths()
        .filter_map(|(path, _)| path.strip_prefix("/api/").map(str::to_string))
        .filter(|name| !public.contains(&name.as_str()))
        .collect();
    registered.sort();
    let mut covered: Vec<String> = covered.into_iter().map(str::to_string).collect();
    covered.sort();
    assert_eq!(registered, covered);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_new_customer_user_chooses_a_password_and_a_disabled_one_is_signed_out(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let admin = app.session_for(ADMIN).await;
    let form = [
        ("code", "C1001"),
        ("name", "Jordan Lee"),
        ("email", "jordan@c1001.example"),
    ];
    assert_eq!(
        app.call("create_customer_user", &form, Some(&clerk))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "only admins add users"
    );
    let res = app.call("create_customer_user", &form, Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let created: Value = res.json().await.unwrap();
    assert!(
        created.get("temporary_password").is_none(),
        "no password is handed over"
    );
    let user_id = created["id"].as_i64().unwrap();
    // Invited again before accepting: a fresh link (the newest is used below).
    let again = app.call("create_customer_user", &form, Some(&admin)).await;
    assert_eq!(again.status(), StatusCode::OK);
    // An invited user cannot sign in before choosing a password.
    assert!(!app
        .login(("jordan@c1001.example", ""), None)
        .await
        .status()
        .is_redirection());

    // The invitation email's link, as the worker signs it.
    let nonce: Vec<u8> = sqlx::query_scalar(
        "SELECT t.nonce FROM user_tokens t JOIN emails e ON (e.data->'link'->>'id')::bigint = t.id \
         WHERE e.kind = 'invitation' AND e.recipient = 'jordan@c1001.example' ORDER BY t.id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let key = server::links::key(
        &mut pool.acquire().await.unwrap(),
        &server::Config::for_tests("postgres://unused"),
    )
    .await
    .unwrap();
    let token = server::links::token(&key, server::links::Purpose::Invitation, &nonce);
    let res = app
        .call(
            "account_link",
            &[("invitation", "true"), ("token", &token)],
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let account: Value = res.json().await.unwrap();
    assert_eq!(account["name"], "Jordan Lee");
    let choose = |password: &'static str, confirm: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.form(
                "use_account_link",
                &[
                    ("invitation", "true"),
                    ("token", &token),
                    ("password", password),
                    ("confirm", confirm),
                ],
                None,
            )
            .await
        }
    };
    assert_eq!(
        choose("short", "short").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        choose("a long passphrase of mine", "a long passphrase of mone")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = choose("a long passphrase of mine", "a long passphrase of mine").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let session = session_cookie(&res).expect("signed in");
    assert_eq!(
        app.current_email(&session).await.as_deref(),
        Some("jordan@c1001.example")
    );
    // The link worked once.
    assert_eq!(
        choose("another long passphrase", "another long passphrase")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mine = app
        .session_for(("jordan@c1001.example", "a long passphrase of mine"))
        .await;
    // Accepted: the address is taken now.
    let taken = app.call("create_customer_user", &form, Some(&admin)).await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Disabling ends every session at once.
    let id = user_id.to_string();
    let res = app
        .call(
            "set_customer_user_active",
            &[("code", "C1001"), ("user_id", &id), ("active", "false")],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for s in [&session, &mine] {
        assert_eq!(
            app.call("get_company", &[("code", "")], Some(s))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Another company's Company ID cannot reach this user.
    let res = app
        .call(
            "set_customer_user_active",
            &[("code", "C1002"), ("user_id", &id), ("active", "true")],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let users: Value = app
        .call("company_users", &[("code", "C1001")], Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    let jordan = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user_id)
        .unwrap()
        .clone();
    assert_eq!(jordan["active"], false);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn pages_carry_a_content_security_policy_with_this_responses_nonce(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app.page("/login", None).await;
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_string();
    for part in [
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(part), "{part} missing from {policy}");
    }
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the scripts carry the nonce"
    );
    let again = app.page("/login", None).await;
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&nonce),
        "a new nonce for every response"
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_tokenizer_limits_how_many_numbers_one_user_may_try(pool: PgPool) {
    let app = spawn(pool).await;
    let clerk = app.session_for(CLERK).await;
    let customer = app.session_for(CUSTOMER).await;
    let mut bad = visa_request();
    bad["number"] = "4242 4242 4242 4241".into();
    for _ in 0..server::gateway::sandbox::TOKENIZE_LIMIT {
        let res = app.tokenize(&bad, Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = app.tokenize(&visa_request(), Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = res.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("Too many"));
    // Another user is not held back.
    assert_eq!(
        app.tokenize(&visa_request(), Some(&customer))
            .await
            .status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_health_check_answers_without_a_session_or_a_page(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let res = app.page("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(res.text().await.unwrap(), "ok");
    // The database gone: the instance says so, and the load balancer takes it out.
    pool.close().await;
    let res = app.page("/healthz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn next_never_leaves_the_site_and_a_line_break_in_it_is_no_panic(pool: PgPool) {
    let app = spawn(pool).await;
    for next in [
        "/\t/evil.example",
        "/\t\t/evil.example/x",
        "/\n/evil.example",
        "/ops\r\nSet-Cookie: x=1",
        "/ops/crm/companies\r",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let res = app
            .form(
                "login",
                &[("email", CLERK.0), ("password", CLERK.1), ("next", next)],
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "{next:?}");
        assert_eq!(res.headers()[LOCATION], "/ops", "{next:?}");
    }
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_payment_of_amounts_past_what_is_booked_is_a_field_error_not_a_panic(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let invoices: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM invoices WHERE balance > 0 AND company_id = (SELECT id FROM companies WHERE code = 'C1002') ORDER BY due_date LIMIT 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let method: i64 = sqlx::query_scalar(
        "SELECT id FROM payment_methods WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002') AND is_default",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let huge = "40000000000000000000000000000";
    let mut body = payment_body(method, invoices[0], huge, &uuid::Uuid::new_v4().to_string());
    body["payment"]["lines"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "invoice_id": invoices[1], "amount": { "amount": huge, "currency": "USD" }, "short_pay_reason": "" }));
    let res = app.call_json("pay_invoices", &body, Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v["Invalid"]["field"],
        format!("amount_{}", invoices[0]),
        "{v}"
    );
    assert_eq!(
        v["Invalid"]["message"],
        "Enter at most $999,999,999,999.99."
    );
    assert_eq!(
        common::count(
            &pool,
            "SELECT count(*) FROM payments WHERE status = 'processing'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn only_the_public_urls_host_and_origin_are_served(pool: PgPool) {
    let app = spawn(pool).await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let get = |host: String| {
        let app = &app;
        async move {
            app.http
                .get(format!("{}/login", app.base))
                .header("host", host)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(format!("127.0.0.1:{port}")).await, StatusCode::OK);
    assert_eq!(get(format!("localhost:{port}")).await, StatusCode::OK);
    assert_eq!(
        get(format!("evil.example:{port}")).await,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        get("127.0.0.1:1".into()).await,
        StatusCode::MISDIRECTED_REQUEST
    );
    // The load balancer's health check names no particular host.
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .header("host", "10.0.0.7")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // A forged Host cannot vouch for a forged Origin any more: Origin is the public URL's.
    let post = |origin: String, host: String| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/api/login", app.base))
                .header("origin", origin)
                .header("host", host)
                .form(&[("email", CLERK.0), ("password", CLERK.1)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        post("http://evil.example".into(), "evil.example".into()).await,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        post("http://evil.example".into(), format!("127.0.0.1:{port}")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            format!("http://localhost:{port}"),
            format!("127.0.0.1:{port}")
        )
        .await,
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy(pool: PgPool) {
    // Nobody trusted (the default): the client is whoever connected, whatever it claims.
    let app = spawn(pool.clone()).await;
    let fail = |app: &TestApp, forwarded: &'static str| {
        let app = app.clone_http();
        async move {
            app.0
                .post(format!("{}/api/login", app.1))
                .header("accept", "application/json")
                .header("x-forwarded-for", forwarded)
                .form(&[("email", "kim@settle.example"), ("password", "guess")])
                .send()
                .await
                .unwrap()
        }
    };
    fail(&app, "203.0.113.5").await;
    let clients: Vec<String> =
        sqlx::query_scalar("SELECT client FROM sign_in_failures ORDER BY client")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(clients, ["127.0.0.1"]);
    // Behind a trusted proxy (this machine), its X-Forwarded-For names the client.
    let mut config = server::Config::for_tests("postgres://unused");
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let behind = spawn_with(pool.clone(), config).await;
    let res = fail(&behind, "198.51.100.9, 127.0.0.1").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let clients: Vec<String> =
        sqlx::query_scalar("SELECT client FROM sign_in_failures ORDER BY client")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(clients, ["127.0.0.1", "198.51.100.9"]);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn webhook_endpoints_never_point_inside_or_carry_a_password(pool: PgPool) {
    let mut config = server::Config::for_tests("postgres://unused");
    config.webhook_allow_loopback = false;
    let app = spawn_with(pool, config).await;
    let admin = app.session_for(ADMIN).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8080/hook",
        "http://[::]/hook",
        "http://224.0.0.1/hook",
        "https://user:pass@erp.example.com/hook",
        "http://127.0.0.1:9000/hook",
        "http://93.184.216.34/hook",
        "ftp://erp.example.com/hook",
    ] {
        let hook =
            serde_json::json!({ "url": url, "description": "", "events": ["payment.approved"] });
        let res = app.call_json("create_webhook", &hook, Some(&admin)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["Invalid"]["field"], "url", "{url}: {v}");
    }
    let ok = serde_json::json!({ "url": "http://10.1.2.3:8080/settle", "description": "", "events": ["payment.approved"] });
    assert_eq!(
        app.call_json("create_webhook", &ok, Some(&admin))
            .await
            .status(),
        StatusCode::OK
    );
}

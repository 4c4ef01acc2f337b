//! Hostile input over real HTTP: every registered server function, sent garbage signed out and
//! as each role, answers with a 4xx (never a 5xx) and changes nothing; a malformed argument is
//! named in the answer. Cross-site shapes of request are refused before they are read.
#![cfg(feature = "ssr")]

use crate::common;

use common::*;
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

/// What must not change, whatever garbage arrives.
async fn state_of(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
            (SELECT sum(balance)::text FROM invoices), \
            (SELECT count(*) FROM payments), \
            (SELECT string_agg(id || ':' || active || ':' || is_default, ',' ORDER BY id) FROM payment_methods), \
            (SELECT string_agg(id || ':' || active, ',' ORDER BY id) FROM users), \
            (SELECT count(*) FROM documents), \
            (SELECT count(*) FROM audit_events WHERE action NOT LIKE 'user.login%' AND action NOT LIKE 'user.logout%'))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Bodies no server function can take: wrong JSON types, null, NaN, huge numbers, missing
/// fields, not JSON at all, 100 KB strings.
fn json_garbage() -> Vec<Vec<u8>> {
    let big = "x".repeat(100 * 1024);
    let values = [
        json!(null),
        json!([]),
        json!("payment"),
        json!(100),
        json!({ "payment": null }),
        json!({ "payment": { "amount": 100 } }),
        json!({ "payment": { "company": 5, "method_id": "one", "lines": "all", "idempotency_key": [] } }),
        json!({ "payment": { "company": "C1001", "method_id": 1, "lines": [{ "invoice_id": 1, "amount": 100 }] } }),
        json!({ "card": { "company": "C1001", "token": 7 } }),
        json!({ "account": { "company": null } }),
        json!({ "query": { "q": big, "page": "first" } }),
        json!({ "id": "abc", "code": big, "active": "maybe", "page": 1e300 }),
    ];
    let mut bodies: Vec<Vec<u8>> = values.iter().map(|v| v.to_string().into_bytes()).collect();
    bodies.push(br#"{"payment": {"amount": NaN}}"#.to_vec());
    bodies.push(br#"{"id": 99999999999999999999999999999999}"#.to_vec());
    bodies.push(b"not json at all".to_vec());
    bodies.push(b"{\"payment\": ".to_vec());
    bodies.push(vec![0xff, 0xfe, 0x00, 0x7b]);
    bodies.push(Vec::new());
    bodies
}

/// Forms no server function can take: wrong types, missing or doubled fields, 100 KB values.
fn form_garbage() -> Vec<String> {
    let big = "9".repeat(100 * 1024);
    vec![
        String::new(),
        "id=abc".into(),
        "id=99999999999999999999999999&active=maybe".into(),
        "page=first&q=".into(),
        "code[]=a&code[]=b".into(),
        "code[x][y][z][w][v][u]=deep".into(),
        format!("id={big}&code={big}&q={big}&page={big}"),
        "active=maybe&id=0".into(),
        "%ZZ=%ZZ".into(),
        "email=&password=".into(),
    ]
}

#[sqlx::test(migrations = "../server/migrations")]
async fn every_server_function_answers_garbage_with_a_4xx_and_changes_nothing(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let mut sessions = vec![("signed out", None)];
    for (role, who) in [("clerk", CLERK), ("admin", ADMIN), ("customer", CUSTOMER)] {
        sessions.push((role, Some(app.session_for(who).await)));
    }
    let before = state_of(&pool).await;
    let mut functions: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    functions.sort();
    // Signing out ends the session the rest would use: last.
    functions.sort_by_key(|f| f.ends_with("/logout"));
    assert!(functions.len() >= 20, "{functions:?}");

    let mut failures = Vec::new();
    let mut sent = 0;
    for path in &functions {
        for (role, session) in &sessions {
            let mut requests = Vec::new();
            for body in json_garbage() {
                requests.push(("application/json", body));
            }
            for body in form_garbage() {
                requests.push(("application/x-www-form-urlencoded", body.into_bytes()));
            }
            requests.push(("text/plain", br#"{"id": 1}"#.to_vec()));
            requests.push(("multipart/form-data; boundary=x", b"--x--".to_vec()));
            for (content_type, body) in requests {
                let mut req = app
                    .http
                    .post(format!("{}{path}", app.base))
                    .header("content-type", content_type)
                    .body(body.clone());
                if let Some(s) = session {
                    req = req.header(COOKIE, format!("settle_session={s}"));
                }
                let res = req.send().await.unwrap();
                sent += 1;
                let status = res.status();
                if status.is_server_error() {
                    let text = res.text().await.unwrap_or_default();
                    failures.push(format!(
                        "{path} as {role}, {content_type} {:?}: {status} {}",
                        String::from_utf8_lossy(&body[..body.len().min(60)]),
                        &text[..text.len().min(200)]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} answered 5xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 2_000, "{sent}");
    assert_eq!(state_of(&pool).await, before, "garbage changed something");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_malformed_argument_is_a_400_that_names_it(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let before = state_of(&pool).await;
    let field_of = |v: &Value| v["Invalid"]["field"].as_str().unwrap_or("").to_string();

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "pay_invoices",
            json!({ "payment": { "company": "C1001", "method_id": 1, "lines": [{ "invoice_id": 1, "amount": 100, "short_pay_reason": "" }],
                    "consent_channel": "phone", "consent_reference": "x", "idempotency_key": "k" } }),
            "payment.lines[0].amount",
        ),
        (
            "pay_invoices",
            json!({ "payment": { "company": "C1001", "method_id": 1, "consent_channel": "phone",
                    "consent_reference": "x", "idempotency_key": "k" } }),
            "payment.lines",
        ),
        ("pay_invoices", json!({ "payment": null }), "payment"),
    ];
    for (function, body, field) in cases {
        let res = app.call_json(function, &body, Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{function} {body}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(field_of(&v), field, "{v}");
        assert!(
            v["Invalid"]["message"].as_str().unwrap().contains(field),
            "the message names the argument: {v}"
        );
    }
    let res = app
        .post_bytes(
            "/api/pay_invoices",
            b"{\"payment\": NaN}".to_vec(),
            "application/json",
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.unwrap();
    assert_eq!(field_of(&v), "payment", "{v}");
    let res = app
        .post_bytes(
            "/api/pay_invoices",
            b"not json".to_vec(),
            "application/json",
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.unwrap();
    assert_eq!(field_of(&v), "request", "{v}");

    for (function, form, field) in [
        ("payment_method_detail", vec![("id", "abc")], "id"),
        ("list_companies", vec![("q", ""), ("page", "first")], "page"),
        (
            "set_method_active",
            vec![("id", "1"), ("active", "maybe")],
            "active",
        ),
        ("get_company", vec![], "code"),
    ] {
        let res = app.call(function, &form, Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{function}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(field_of(&v), field, "{function}: {v}");
    }
    // Signed out too: the arguments are read (and refused) before anything else.
    let res = app
        .call("payment_method_detail", &[("id", "abc")], None)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(state_of(&pool).await, before);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn requests_in_shapes_settles_pages_never_send_are_refused(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let clerk = app.session_for(CLERK).await;
    let customer = app.session_for(CUSTOMER).await;
    let method = id_of(
        &pool,
        "SELECT id FROM payment_methods WHERE last4 = '4242' ORDER BY id LIMIT 1",
    )
    .await;
    let form = format!("id={method}&active=false");
    let before = state_of(&pool).await;

    // An opaque origin (a sandboxed frame, a data: URL) with the session cookie.
    let res = app
        .http
        .post(format!("{}/api/set_method_active", app.base))
        .header("origin", "null")
        .header(COOKIE, format!("settle_session={clerk}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A body type Settle's client never sends, with no Origin at all.
    for content_type in ["text/plain", "multipart/form-data; boundary=x", ""] {
        let res = app
            .post_bytes(
                "/api/set_method_active",
                form.clone().into_bytes(),
                content_type,
                Some(&clerk),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
    }
    let res = app
        .post_bytes(
            "/api/pay_invoices",
            b"{}".to_vec(),
            "text/plain;charset=UTF-8",
            Some(&clerk),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Customers never upload (the portal authorizes ACH in the form).
    let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let res = app
        .upload("authorization.pdf", pdf.clone(), Some(&customer))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(state_of(&pool).await, before, "nothing changed");
    // Staff still do.
    let res = app.upload("authorization.pdf", pdf, Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

//! The machine API over real HTTP: keys and scopes, idempotency, problem+json with field
//! paths, batches, the payments feed's cursor, the rate limit, and the OpenAPI document.

use crate::common;

use common::{spawn, spawn_with, TestApp, CLERK};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use shared::integration::ApiScope;
use sqlx::PgPool;

async fn key(app: &TestApp, scope: ApiScope) -> (shared::ApiKeyId, String) {
    let admin: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let k = server::integration::api_keys::create(
        &app.pool,
        &server::authority::Principal::of_user(&app.pool, shared::UserId(admin))
            .await
            .unwrap()
            .admin()
            .unwrap(),
        "ERP sync",
        scope,
    )
    .await
    .unwrap();
    (k.key.id, k.secret)
}

impl TestApp {
    async fn api_post(
        &self,
        path: &str,
        secret: &str,
        body: &Value,
        idem: Option<&str>,
    ) -> Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {secret}"))
            .json(body);
        if let Some(k) = idem {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    async fn api_get(&self, path: &str, secret: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {secret}"))
            .send()
            .await
            .unwrap()
    }
}

async fn problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()[CONTENT_TYPE].to_str().unwrap(),
        "application/problem+json"
    );
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], status.as_u16());
    assert!(v["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:settle:problem:"));
    v
}

fn company(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name })
}

fn invoice(number: &str, total: &str) -> Value {
    json!({ "company_id": "C2001", "number": number, "issue_date": "2026-11-01", "due_date": "2026-12-01", "total": total })
}

#[sqlx::test(migrations = "../server/migrations")]
async fn keys_are_required_checked_scoped_and_revocable(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, read) = key(&app, ApiScope::Read).await;
    let (write_id, write) = key(&app, ApiScope::ReadWrite).await;
    // No key, a wrong key, a session instead of a key.
    let res = app
        .http
        .get(format!("{}/api/v1/payments", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("www-authenticate"));
    problem(res, StatusCode::UNAUTHORIZED).await;
    problem(
        app.api_get("/api/v1/payments", "sk_settle_wrong").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let session = app.session_for(CLERK).await;
    let res = app
        .http
        .get(format!("{}/api/v1/payments", app.base))
        .header(COOKIE, format!("settle_session={session}"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNAUTHORIZED).await;
    // A key never opens a session: a page with it is a page without sign-in.
    let res = app
        .http
        .get(format!("{}/ops/crm/companies", app.base))
        .header(AUTHORIZATION, format!("Bearer {write}"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(common::session_cookie(&res).is_none_or(|c| c.is_empty()));
    // A read key reads, and may not write.
    assert_eq!(
        app.api_get("/api/v1/payments", &read).await.status(),
        StatusCode::OK
    );
    let p = problem(
        app.api_post("/api/v1/companies", &read, &company("C2001", "Acme"), None)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["type"], "urn:settle:problem:read-only-key");
    // A read-write key writes; the write is audited with the key as the actor.
    let res = app
        .api_post("/api/v1/companies", &write, &company("C2001", "Acme"), None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let actor: Option<i64> = sqlx::query_scalar(
        "SELECT actor_api_key_id FROM audit_events WHERE action = 'company.upserted' AND entity_id IS NOT NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, Some(write_id.0));
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE id = $1")
            .bind(write_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(used.is_some(), "the key shows when it was last used");
    // Revoked: refused from the next request on.
    let admin = server::authority::Principal::of_user(&app.pool, shared::UserId(1))
        .await
        .unwrap()
        .admin()
        .unwrap();
    server::integration::api_keys::revoke(&app.pool, &admin, write_id)
        .await
        .unwrap();
    problem(
        app.api_get("/api/v1/payments", &write).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[sqlx::test(migrations = "../server/migrations")]
async fn records_upsert_by_the_erp_ids_with_errors_at_their_fields(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, k) = key(&app, ApiScope::ReadWrite).await;
    let res = app
        .api_post(
            "/api/v1/companies",
            &k,
            &company("c2001", "Acme Supply"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (v["result"].as_str(), v["id"].as_str()),
        (Some("created"), Some("c2001"))
    );
    let res = app
        .api_post(
            "/api/v1/companies",
            &k,
            &company("C2001", "Acme Supply"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["result"], "unchanged");
    let res = app
        .api_post(
            "/api/v1/companies",
            &k,
            &company("C2001", "Acme Supply Co."),
            None,
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["result"], "updated");
    let c: Value = app
        .api_get("/api/v1/companies/C2001", &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (c["name"].as_str(), c["open_balance"].as_str()),
        (Some("Acme Supply Co."), Some("0.00"))
    );
    // A contact, by email whatever its case.
    let contact =
        json!({ "company_id": "C2001", "email": "AP@acme.example", "name": "Dana Reyes" });
    assert_eq!(
        app.api_post("/api/v1/contacts", &k, &contact, None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let contact = json!({ "company_id": "C2001", "email": "ap@ACME.example", "name": "Dana Reyes", "title": "AP lead" });
    assert_eq!(
        app.api_post("/api/v1/contacts", &k, &contact, None)
            .await
            .json::<Value>()
            .await
            .unwrap()["result"],
        "updated"
    );
    // An invoice; its balance.
    assert_eq!(
        app.api_post("/api/v1/invoices", &k, &invoice("INV-1", "1250.00"), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let i: Value = app
        .api_get("/api/v1/companies/C2001/invoices/INV-1", &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            i["total"].as_str(),
            i["balance"].as_str(),
            i["status"].as_str()
        ),
        (Some("1250.00"), Some("1250.00"), Some("open"))
    );
    problem(
        app.api_get("/api/v1/companies/C2001/invoices/NOPE", &k)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A bad record: 422, each problem at its field, nothing written.
    let mut bad = invoice("INV-2", "10.999");
    bad["due_date"] = json!("12/01/2026");
    let p = problem(
        app.api_post("/api/v1/invoices", &k, &bad, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/due_date", "/total"]);
    // A NUL character (which PostgreSQL text cannot hold): 422 at its field, nothing written.
    let p = problem(
        app.api_post(
            "/api/v1/invoices/batch",
            &k,
            &json!({ "records": [invoice("INV-\u{0}", "1.00")] }),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/records/0/number");
    problem(
        app.api_get("/api/v1/companies/C%00", &k).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The wrong shape: 422 at the field; not JSON: 400; not declared JSON: 415.
    let p = problem(
        app.api_post(
            "/api/v1/invoices",
            &k,
            &json!({ "company_id": "C2001", "number": 7 }),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/number");
    let res = app
        .http
        .post(format!("{}/api/v1/invoices", app.base))
        .header(AUTHORIZATION, format!("Bearer {k}"))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"company_id\": ")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
    let res = app
        .http
        .post(format!("{}/api/v1/invoices", app.base))
        .header(AUTHORIZATION, format!("Bearer {k}"))
        .body("company_id=C2001")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // A batch: a result per record, pointers into the batch.
    let batch = json!({ "records": [invoice("INV-3", "10.00"), invoice("INV-4", "1.234"), invoice("INV-1", "1250.00")] });
    let res = app
        .api_post("/api/v1/invoices/batch", &k, &batch, None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let b: Value = res.json().await.unwrap();
    assert_eq!(
        (
            b["created"].as_u64(),
            b["errors"].as_u64(),
            b["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(b["results"][1]["errors"][0]["pointer"], "/records/1/total");
    let many: Vec<Value> = (0..1001)
        .map(|i| invoice(&format!("B-{i}"), "1.00"))
        .collect();
    let p = problem(
        app.api_post(
            "/api/v1/invoices/batch",
            &k,
            &json!({ "records": many }),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/records");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, k) = key(&app, ApiScope::ReadWrite).await;
    app.api_post("/api/v1/companies", &k, &company("C2001", "Acme"), None)
        .await;
    let pay = json!({ "id": "CHK-9", "company_id": "C2001", "kind": "check", "received_on": "2026-11-20",
                      "allocations": [{ "invoice": "INV-1", "amount": "100.00" }] });
    app.api_post("/api/v1/invoices", &k, &invoice("INV-1", "500.00"), None)
        .await;
    // Ten at once with one key: one write, ten identical answers.
    let sends =
        (0..10).map(|_| app.api_post("/api/v1/external-payments", &k, &pay, Some("retry-1")));
    let answers = futures::future::join_all(sends).await;
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for res in answers {
        assert_eq!(res.status(), StatusCode::CREATED);
        replayed += res.headers().contains_key("idempotent-replayed") as usize;
        bodies.push(res.json::<Value>().await.unwrap());
    }
    assert_eq!(replayed, 9);
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    let i: Value = app
        .api_get("/api/v1/companies/C2001/invoices/INV-1", &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["balance"], "400.00", "applied once");
    // The same key with another body: 409 at the header.
    let mut other = pay.clone();
    other["allocations"][0]["amount"] = json!("50.00");
    let p = problem(
        app.api_post("/api/v1/external-payments", &k, &other, Some("retry-1"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["errors"][0]["header"], "Idempotency-Key");
    // A refused request stores nothing: the same key works once the record is fixed.
    let bad = json!({ "id": "NEW", "name": "" });
    problem(
        app.api_post("/api/v1/companies", &k, &bad, Some("retry-2"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        app.api_post("/api/v1/companies", &k, &bad, Some("retry-2"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let bad_key = "x".repeat(256);
    let p = problem(
        app.api_post("/api/v1/companies", &k, &company("C3", "C"), Some(&bad_key))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["errors"][0]["header"], "Idempotency-Key");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_payments_feed_pages_by_cursor_with_allocations_and_who_took_them(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, k) = key(&app, ApiScope::Read).await;
    // The feed lists only transactions older than every one still running on the server, and
    // other tests' are (seeding their own demo data): wait until none predates our events.
    for _ in 0..600 {
        let caught_up: bool = sqlx::query_scalar(
            "SELECT pg_snapshot_xmin(pg_current_snapshot()) > max(xid) FROM events",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if caught_up {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut since = String::new();
    let mut seen = Vec::new();
    loop {
        let path = if since.is_empty() {
            "/api/v1/payments?limit=5".to_string()
        } else {
            format!("/api/v1/payments?limit=5&since={since}")
        };
        let res = app.api_get(&path, &k).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        for e in page["data"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_string());
            let p = &e["data"];
            assert_eq!(
                e["type"].as_str().unwrap(),
                format!("payment.{}", p["status"].as_str().unwrap())
            );
            assert!(!p["allocations"].as_array().unwrap().is_empty());
            assert!(p["company"]["id"].is_string() && p["on_behalf_of"].is_string());
        }
        since = page["next_cursor"].as_str().unwrap().to_string();
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE payment_id IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(total > 5, "the demo data's payments");
    assert_eq!(seen.len() as i64, total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no repeats");
    // Nothing new: an empty page and the same cursor.
    let page: Value = app
        .api_get(&format!("/api/v1/payments?since={since}"), &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            page["data"].as_array().unwrap().len(),
            page["next_cursor"].as_str()
        ),
        (0, Some(since.as_str()))
    );
    for bad in ["abc", "", "1.2.3"] {
        let p = problem(
            app.api_get(&format!("/api/v1/payments?since={bad}"), &k)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["errors"][0]["parameter"], "since");
    }
    problem(
        app.api_get("/api/v1/payments?limit=0", &k).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.api_get("/api/v1/payments?limit=x", &k).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[sqlx::test(migrations = "../server/migrations")]
async fn each_key_has_its_own_rate_limit_with_retry_after(pool: PgPool) {
    let mut config = server::Config::for_tests("postgres://unused");
    config.api_rate_per_minute = 3;
    let app = spawn_with(pool, config).await;
    let (_, a) = key(&app, ApiScope::Read).await;
    let (_, b) = key(&app, ApiScope::Read).await;
    for _ in 0..3 {
        assert_eq!(
            app.api_get("/api/v1/payments", &a).await.status(),
            StatusCode::OK
        );
    }
    let res = app.api_get("/api/v1/payments", &a).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let p = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["retry_after"], retry);
    assert_eq!(
        app.api_get("/api/v1/payments", &b).await.status(),
        StatusCode::OK,
        "another key is not limited"
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_openapi_document_is_served_without_a_key(pool: PgPool) {
    let app = spawn(pool).await;
    let res = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/companies",
        "/api/v1/invoices/batch",
        "/api/v1/payments",
        "/api/v1/external-payments",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // It states what the server enforces: a fuzzer's schema-valid record is not refused for
    // a currency, an empty list or an email the server would not take.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["InvoiceRecord"]["properties"]["currency"]["pattern"],
        "^[Uu][Ss][Dd]$"
    );
    assert_eq!(
        schemas["CompanyRecord"]["properties"]["currency"]["pattern"],
        "^[Uu][Ss][Dd]$"
    );
    for batch in [
        "CompanyBatch",
        "ContactBatch",
        "InvoiceBatch",
        "ExternalPaymentBatch",
    ] {
        assert_eq!(
            schemas[batch]["properties"]["records"]["minItems"], 1,
            "{batch}"
        );
    }
    let email = &schemas["ContactRecord"]["properties"]["email"];
    assert!(email["pattern"].as_str().unwrap().contains('@'), "{email}");
    assert_eq!(email["maxLength"], 254);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_bearer_scheme_is_read_in_any_case_and_card_numbers_never_enter(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, secret) = key(&app, ApiScope::ReadWrite).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = app
            .http
            .get(format!("{}/api/v1/companies/C1001", app.base))
            .header(AUTHORIZATION, format!("{scheme} {secret}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    app.api_post(
        "/api/v1/companies",
        &secret,
        &company("C2001", "Acme Supply Co."),
        None,
    )
    .await;
    // A card number in a free-text field: refused at its field, nothing stored.
    let mut inv = invoice("INV-CARD", "10.00");
    inv["po_number"] = json!("4242 4242 4242 4242");
    let res = app.api_post("/api/v1/invoices", &secret, &inv, None).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/po_number", "{p}");
    let res = app
        .api_post(
            "/api/v1/companies",
            &secret,
            &company("C2002", "Paid by 4000 0000 0000 0002"),
            None,
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["pointer"], "/name", "{p}");
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invoices WHERE number = 'INV-CARD' OR po_number LIKE '%4242%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn only_admins_manage_keys_webhooks_and_imports(pool: PgPool) {
    let app = spawn(pool).await;
    let clerk = app.session_for(CLERK).await;
    let admin = app.session_for(common::ADMIN).await;
    let form = [("name", "ERP"), ("scope", "read")];
    assert_eq!(
        app.call("create_api_key", &form, Some(&clerk))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = app.call("create_api_key", &form, Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let made: Value = res.json().await.unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("sk_settle_"));
    let bad = app
        .call(
            "create_api_key",
            &[("name", " "), ("scope", "read")],
            Some(&admin),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The upload route: admins only, and a file too big is named before it is read.
    let upload = |session: String, body: &'static str| {
        app.http
            .post(format!(
                "{}/api/imports?kind=companies&name=c.csv",
                app.base
            ))
            .header(COOKIE, format!("settle_session={session}"))
            .header(CONTENT_TYPE, "text/csv")
            .body(body)
            .send()
    };
    assert_eq!(
        upload(clerk.clone(), "company_id,name\nC9,X\n")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = upload(admin.clone(), "company_id,name\nC9,X\n")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let preview: Value = res.json().await.unwrap();
    assert_eq!(preview["counts"]["created"], 1);
    let res = upload(admin.clone(), "company_id;name\nC9;X\n")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = res.json().await.unwrap();
    assert!(e.to_string().contains("semicolons"), "{e}");
    // Staff (clerks too) read every company's payments and export them.
    let res = app
        .page("/exports/payments.csv?status=settled", Some(&clerk))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .text()
        .await
        .unwrap()
        .starts_with("Payment,Date (UTC),Status"));
    let customer = app.session_for(common::CUSTOMER).await;
    assert_eq!(
        app.page("/exports/payments.csv", Some(&customer))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn an_import_file_too_big_is_refused_with_its_size(pool: PgPool) {
    let mut config = server::Config::for_tests("postgres://unused");
    config.import_max_bytes = 1 << 20;
    let app = spawn_with(pool, config).await;
    let admin = app.session_for(common::ADMIN).await;
    let big = format!("company_id,name\n{}", "C1,Acme\n".repeat(200_000));
    let res = app
        .http
        .post(format!(
            "{}/api/imports?kind=companies&name=big.csv",
            app.base
        ))
        .header(COOKIE, format!("settle_session={admin}"))
        .header(CONTENT_TYPE, "text/csv")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = res.json().await.unwrap();
    assert!(
        e.to_string()
            .contains("The file is 1.5 MB; an import takes at most 1.0 MB"),
        "{e}"
    );
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn contact_and_erp_payment_batches_answer_each_record(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, k) = key(&app, ApiScope::ReadWrite).await;
    app.api_post("/api/v1/companies", &k, &company("C2001", "Acme"), None)
        .await;
    app.api_post("/api/v1/invoices", &k, &invoice("INV-1", "100.00"), None)
        .await;
    let contacts = json!({ "records": [
        { "company_id": "C2001", "email": "ap@acme.example", "name": "Dana" },
        { "company_id": "C2001", "email": "not-an-email", "name": "X" },
        { "company_id": "NOPE", "email": "x@nope.example", "name": "Y" },
        { "company_id": "C2001", "email": "AP@acme.example", "name": "Dana again" }
    ]});
    let b: Value = app
        .api_post("/api/v1/contacts/batch", &k, &contacts, None)
        .await
        .json()
        .await
        .unwrap();
    let results: Vec<&str> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["created", "error", "error", "error"]);
    assert_eq!(b["results"][1]["errors"][0]["pointer"], "/records/1/email");
    assert_eq!(
        b["results"][2]["errors"][0]["pointer"],
        "/records/2/company_id"
    );
    assert_eq!(b["results"][3]["errors"][0]["pointer"], "/records/3/email");
    let pay = |id: &str, amount: &str| {
        json!({ "id": id, "company_id": "C2001", "kind": "credit", "received_on": "2026-11-20",
                "allocations": [{ "invoice": "INV-1", "amount": amount }] })
    };
    let batch =
        json!({ "records": [pay("CR-1", "30.00"), pay("CR-2", "80.00"), pay("CR-1", "30.00")] });
    let b: Value = app
        .api_post("/api/v1/external-payments/batch", &k, &batch, None)
        .await
        .json()
        .await
        .unwrap();
    let results: Vec<&str> = b["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["created", "error", "unchanged"], "{b}");
    assert_eq!(
        b["results"][1]["errors"][0]["pointer"],
        "/records/1/allocations/0/amount"
    );
    assert!(b["results"][0]["payment"]
        .as_str()
        .unwrap()
        .starts_with("P-"));
    assert_eq!(b["results"][2]["payment"], b["results"][0]["payment"]);
    let i: Value = app
        .api_get("/api/v1/companies/C2001/invoices/INV-1", &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        i["balance"], "70.00",
        "the credit applied once; the 80.00 refused"
    );
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_body_past_the_limit_is_a_documented_problem(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, secret) = key(&app, ApiScope::ReadWrite).await;
    let records: Vec<Value> = (0..30_000)
        .map(|i| company(&format!("C{i}"), &"N".repeat(90)))
        .collect();
    let res = app
        .api_post(
            "/api/v1/companies/batch",
            &secret,
            &json!({ "records": records }),
            None,
        )
        .await;
    let p = problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(p["detail"].as_str().unwrap().contains("2 MB"), "{p}");
    let doc: Value = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/companies/batch"]["post"]["responses"]["413"].is_object());
}

#[sqlx::test(migrations = "../server/migrations")]
async fn credit_on_account_is_read_and_applied_through_the_api(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let (_, secret) = key(&app, ApiScope::ReadWrite).await;
    // An ERP credit memo is credit on account for C1001.
    let memo = json!({ "company_id": "C1001", "number": "CM-API-1", "issue_date": "2026-11-01",
        "due_date": "2026-11-01", "total": "40.00", "status": "credit_memo" });
    let res = app.api_post("/api/v1/invoices", &secret, &memo, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let company: Value = app
        .api_get("/api/v1/companies/C1001", &secret)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(company["unapplied_credit"], "40.00");
    let invoice: String = sqlx::query_scalar(
        "SELECT number FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1001') \
         AND status = 'open' AND balance > 30 ORDER BY due_date LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let path = "/api/v1/companies/C1001/credit-applications";
    // More than is left: refused at its line, nothing applied.
    let body = json!({ "allocations": [{ "invoice": invoice, "amount": "40.01" }] });
    let p = problem(
        app.api_post(path, &secret, &body, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/credit", "{p}");
    let body = json!({ "allocations": [{ "invoice": "NOPE", "amount": "1.00" }] });
    let p = problem(
        app.api_post(path, &secret, &body, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/allocations/0/invoice", "{p}");
    // Applied once for a key, however often it is sent.
    let body = json!({ "allocations": [{ "invoice": invoice, "amount": "30.00" }] });
    for _ in 0..2 {
        let res = app.api_post(path, &secret, &body, Some("credit-1")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["applied"], "30.00");
        assert_eq!(v["unapplied_credit"], "10.00");
    }
    let p = problem(
        app.api_post(
            "/api/v1/companies/C9999/credit-applications",
            &secret,
            &body,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("C9999"), "{p}");
    assert_eq!(server::ledger::balances_off(&pool).await.unwrap(), 0);
    assert_eq!(server::ledger::credits_off(&pool).await.unwrap(), 0);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_companys_billing_state_is_two_letters_and_kept_when_left_out(pool: PgPool) {
    let app = spawn(pool.clone()).await;
    let (_, secret) = key(&app, ApiScope::ReadWrite).await;
    let bad = json!({ "id": "C2090", "name": "Lakeview", "billing_state": "Illinois" });
    let p = problem(
        app.api_post("/api/v1/companies", &secret, &bad, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["pointer"], "/billing_state", "{p}");
    let good = json!({ "id": "C2090", "name": "Lakeview", "billing_state": "ct" });
    assert_eq!(
        app.api_post("/api/v1/companies", &secret, &good, None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let renamed = json!({ "id": "C2090", "name": "Lakeview Supply" });
    assert_eq!(
        app.api_post("/api/v1/companies", &secret, &renamed, None)
            .await
            .status(),
        StatusCode::OK
    );
    let state: String =
        sqlx::query_scalar("SELECT billing_state FROM companies WHERE code = 'C2090'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(state, "CT");
}

#[sqlx::test(migrations = "../server/migrations")]
async fn the_aging_is_the_book_in_the_api_and_the_exports_and_refuses_a_bad_day(pool: PgPool) {
    let app = spawn(pool).await;
    let (_, k) = key(&app, ApiScope::Read).await;
    let book: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT sum(balance) FROM invoices WHERE status = 'open'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let res = app.api_get("/api/v1/reports/aging?limit=3", &k).await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["object"], "aging");
    assert_eq!(
        r["totals"]["open"],
        format!("{book:.2}"),
        "today's aging is the book"
    );
    assert_eq!(r["data"].as_array().unwrap().len(), 3);
    let opens: Vec<f64> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["figures"]["open"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        opens.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {opens:?}"
    );
    let today = r["as_of"].as_str().unwrap().to_string();
    // A day long before the demo data: nothing was open.
    let r: Value = app
        .api_get("/api/v1/reports/aging?as_of=2001-01-01", &k)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["companies"].as_u64(), r["totals"]["open"].as_str()),
        (Some(0), Some("0.00"))
    );
    let tomorrow =
        chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap() + chrono::Duration::days(1);
    for (query, parameter, status) in [
        (
            "as_of=30/11/2026".to_string(),
            "as_of",
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("as_of={tomorrow}"),
            "as_of",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "as_of=1999-12-31".to_string(),
            "as_of",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("as_of=".to_string(), "as_of", StatusCode::BAD_REQUEST),
        ("sort=size".to_string(), "sort", StatusCode::BAD_REQUEST),
        ("limit=0".to_string(), "limit", StatusCode::BAD_REQUEST),
    ]
    .map(|(q, p, s)| (format!("aging?{q}"), p, s))
    .into_iter()
    .chain(
        [
            ("to=", "to", StatusCode::BAD_REQUEST),
            ("from=2026-11-31", "from", StatusCode::BAD_REQUEST),
            (
                "from=2026-01-01&to=2026-06-30",
                "from",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "from=2026-06-30&to=2026-06-01",
                "to",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ]
        .map(|(q, p, s)| (format!("deposits?{q}"), p, s)),
    ) {
        let p = problem(
            app.api_get(&format!("/api/v1/reports/{query}"), &k).await,
            status,
        )
        .await;
        assert_eq!(p["errors"][0]["parameter"], parameter, "{query}");
    }
    // Staff export it; a customer may not.
    let clerk = app.session_for(common::CLERK).await;
    let res = app.page("/exports/aging.csv?sort=name", Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains(&format!("settle-aging-{today}.csv")));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("Company,Name,Current,1–30"), "{csv}");
    let last = csv.lines().last().unwrap();
    assert!(
        last.starts_with("Total,") && last.contains(&format!(",{book:.2},")),
        "{last}"
    );
    let res = app.page("/exports/aging.xlsx", Some(&clerk)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        &res.bytes().await.unwrap()[..2],
        b"PK",
        "a zip: the workbook"
    );
    let res = app
        .page("/exports/aging.csv?as_of=tomorrow", Some(&clerk))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let customer = app.session_for(common::CUSTOMER).await;
    for path in ["/exports/aging.csv", "/exports/aging.xlsx"] {
        assert_eq!(
            app.page(path, Some(&customer)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

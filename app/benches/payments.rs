//! Payments over real HTTP: the real router on a random port, 16 concurrent clerks paying
//! invoices through the `pay_invoices` server function for a fixed time (default 20 s,
//! `BENCH_SECONDS`). Prints payments/s, p50 and p99 latency, and checks that the sum of the
//! payments equals the sum of the balance reductions. A benchmark, not a test: it asserts
//! nothing about time. Run with `make bench-payments`.

use leptos::config::LeptosOptions;
use reqwest::header::COOKIE;
use rust_decimal::Decimal;
use server::gateway::PaymentGateway;
use server::{AppState, Config};
use shared::card::CardNumber;
use sqlx::PgPool;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const EXTRA_COMPANIES: i64 = 2_000;
const INVOICES_PER_COMPANY: i64 = 50;

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-payments sets it)");
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let pool = server::db::fresh_database(&url, "settle_bench_pay", 40)
        .await
        .expect("a fresh benchmark database");
    let mut config = Config::for_tests(&url);
    config.db_max_connections = 40;
    let state = AppState::new(pool.clone(), config);

    let started = Instant::now();
    server::demo::seed(&pool, state.gateway.as_ref())
        .await
        .unwrap();
    load(&pool, state.gateway.as_ref()).await;
    let (invoices, open_sum): (i64, Decimal) =
        sqlx::query_as("SELECT count(*), sum(balance) FROM invoices WHERE balance > 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    println!(
        "seeded {invoices} open invoices in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let options = LeptosOptions::builder()
        .output_name("settle")
        .site_root("target/site")
        .build();
    let router = app::serve::router(state.clone(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // Work for each client: invoices (with their company and card) no other client touches.
    let work: Vec<(String, i64, i64, Decimal)> = sqlx::query_as(
        "SELECT c.code, i.id, m.id, i.balance FROM invoices i JOIN companies c ON c.id = i.company_id \
         JOIN payment_methods m ON m.company_id = c.id AND m.last4 = '4242' \
         WHERE i.balance > 0 ORDER BY c.id, i.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut queues: Vec<Vec<(String, i64, i64, Decimal)>> = vec![Vec::new(); CLIENTS];
    for (n, w) in work.into_iter().enumerate() {
        queues[n % CLIENTS].push(w);
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for queue in queues {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let res = http
                .post(format!("{base}/api/login"))
                .form(&[("email", "clerk@settle.example"), ("password", "demo-clerk-pass")])
                .send()
                .await
                .unwrap();
            let cookie = res
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with("settle_session="))
                .map(|v| v.split(';').next().unwrap().to_string())
                .expect("session");
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            for (code, invoice_id, method_id, balance) in queue {
                if Instant::now() >= deadline {
                    break;
                }
                let body = serde_json::json!({ "payment": {
                    "company": code, "method_id": method_id,
                    "lines": [{ "invoice_id": invoice_id, "amount": balance.to_string(), "short_pay_reason": "" }],
                    "consent_channel": "phone", "consent_reference": "benchmark",
                    "idempotency_key": uuid::Uuid::new_v4().to_string(),
                }});
                let t = Instant::now();
                let res = http.post(format!("{base}/api/pay_invoices")).header(COOKIE, &cookie).json(&body).send().await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 3 {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            eprintln!("refused: {status} {text}");
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("failed: {e}");
                        }
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = seconds as f64;
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    println!("{CLIENTS} clients for {seconds} s over HTTP");
    println!("payments:   {} ok, {errors} failed", latencies.len());
    println!(
        "throughput: {:.1} payments/s",
        latencies.len() as f64 / elapsed
    );
    println!(
        "latency:    p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );

    let (paid, after): (Decimal, Decimal) = sqlx::query_as(
        "SELECT (SELECT COALESCE(sum(amount), 0) FROM payments WHERE idempotency_key IS NOT NULL AND status = 'approved'), \
                (SELECT sum(balance) FROM invoices WHERE balance > 0)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let reduced = open_sum - after;
    println!(
        "check:      payments {paid} = balance reductions {reduced}: {}",
        if paid == reduced { "yes" } else { "NO" }
    );
    let processing: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments WHERE status = 'processing'")
            .fetch_one(&pool)
            .await
            .unwrap();
    println!("left processing: {processing}");
}

async fn load(pool: &PgPool, gateway: &dyn PaymentGateway) {
    sqlx::query(
        "INSERT INTO companies (code, name) SELECT 'B' || lpad(g::text, 5, '0'), 'Bench Company ' || g \
         FROM generate_series(1, $1) g",
    )
    .bind(EXTRA_COMPANIES)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance) \
         SELECT c.id, 'BINV-' || c.id || '-' || k, DATE '2026-09-01', DATE '2026-10-01', 100 + k, 100 + k \
         FROM companies c CROSS JOIN generate_series(1, $1) k WHERE c.code LIKE 'B%'",
    )
    .bind(INVOICES_PER_COMPANY)
    .execute(pool)
    .await
    .unwrap();
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM companies WHERE code LIKE 'B%' ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    let card = CardNumber::parse("4242424242424242").unwrap();
    for id in ids {
        let t = gateway.tokenize_card(&card, 12, 2030).await.unwrap();
        sqlx::query(
            "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand, exp_month, exp_year, is_default) \
             VALUES ($1, 'card', $2, 'Bench', $3, $4, 12, 2030, true)",
        )
        .bind(id)
        .bind(&t.token)
        .bind(&t.last4)
        .bind(&t.brand)
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

//! Payments through the Stripe adapter, timed on a release build beside the same payments
//! through the sandbox, in one run (`make bench` runs it on a fresh database with Stripe's API
//! as its published description defines it: scripts/stripe-mock.py, STRIPE_API_BASE). Each
//! payment is the engine's whole path — recorded, charged, resolved — for one invoice, by
//! STRIPE_CLIENTS (8) clerks at once, STRIPE_PAYMENTS (200) on each gateway. The Stripe figures
//! include the mock's own work (it checks every request and answer against the description),
//! so they bound the adapter from above. Prints `name=value` lines; a benchmark, not a test.

use server::authority::Principal;
use server::gateway::{PaymentGateway, SandboxGateway, StripeGateway, StripeSettings};
use shared::auth::{Role, SessionUser};
use shared::method::NewCard;
use shared::money::{Currency, Money};
use shared::payment::{Consent, LineInput, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::{CompanyId, InvoiceId, MethodId, UserId};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the browser's Stripe.js does with the publishable key: a PaymentMethod from the card,
/// the SetupIntent confirmed with it.
async fn confirm_card_setup(http: &reqwest::Client, base: &str, secret: &str) -> String {
    let post = |path: String, body: String| {
        http.post(format!("{base}{path}"))
            .bearer_auth("pk_test_bench")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let pm: serde_json::Value = serde_json::from_slice(
        &post(
            "/v1/payment_methods".into(),
            "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2030".into(),
        )
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap(),
    )
    .unwrap();
    let intent = secret.split("_secret_").next().unwrap().to_string();
    let done = post(
        format!("/v1/setup_intents/{intent}/confirm"),
        format!(
            "client_secret={secret}&payment_method={}",
            pm["id"].as_str().unwrap()
        ),
    )
    .await
    .unwrap();
    assert!(done.status().is_success());
    intent
}

/// One payment to make: the company, its code, the method, the invoice and its balance.
type Job = (
    CompanyId,
    String,
    MethodId,
    InvoiceId,
    rust_decimal::Decimal,
);

struct Work {
    company: CompanyId,
    code: String,
    method: MethodId,
    invoices: Vec<(InvoiceId, rust_decimal::Decimal)>,
}

async fn clerk(pool: &PgPool) -> Principal {
    let id: UserId =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'clerk@settle.example'")
            .fetch_one(pool)
            .await
            .unwrap();
    Principal::of_session(SessionUser {
        id,
        name: "Casey Clerk".into(),
        email: "clerk@settle.example".into(),
        role: Role::Clerk,
        company: None,
    })
    .unwrap()
}

/// Pays up to `payments` invoices, one per payment, `clients` at once; the times of those
/// that were paid.
async fn run(
    pool: &PgPool,
    gateway: Arc<dyn PaymentGateway>,
    work: Vec<Work>,
    clients: usize,
    payments: usize,
) -> (Vec<Duration>, usize) {
    let config = Arc::new(server::Config::for_tests("postgres://unused"));
    let who = clerk(pool).await;
    let mut queues: Vec<Vec<Job>> = (0..clients).map(|_| Vec::new()).collect();
    let mut n = 0;
    // Each client its own companies, so no two wait on one company's lock.
    for (i, w) in work.into_iter().enumerate() {
        for (inv, balance) in w.invoices {
            if n < payments {
                queues[i % clients].push((w.company, w.code.clone(), w.method, inv, balance));
                n += 1;
            }
        }
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for queue in queues {
        let (pool, gateway, config, who) =
            (pool.clone(), gateway.clone(), config.clone(), who.clone());
        tasks.push(tokio::spawn(async move {
            let (mut times, mut failed) = (Vec::new(), 0);
            for (company, code, method, invoice, balance) in queue {
                let input = PaymentInput {
                    company: code,
                    method_id: method,
                    lines: vec![LineInput {
                        invoice_id: invoice,
                        amount: Money::new(balance, Currency::USD),
                        short_pay_code: String::new(),
                        short_pay_reason: String::new(),
                    }],
                    consent_channel: "phone".into(),
                    consent_reference: "benchmark".into(),
                    idempotency_key: uuid::Uuid::new_v4().to_string(),
                    policy_override: String::new(),
                    on_account: None,
                    surcharge: None,
                };
                let req = PaymentRequest::parse(
                    &input,
                    Consent::parse_staff("phone", "benchmark").unwrap(),
                    Currency::USD,
                )
                .unwrap();
                let scope = who.reach(company, "Company").unwrap();
                let t = Instant::now();
                match server::payments::pay(
                    &pool,
                    gateway.as_ref(),
                    &config,
                    &scope,
                    &req,
                    server::companies::today(),
                )
                .await
                {
                    Ok(PaymentOutcome::Paid(_)) => times.push(t.elapsed()),
                    other => {
                        failed += 1;
                        if failed == 1 {
                            eprintln!("a payment did not go through: {other:?}");
                        }
                    }
                }
            }
            (times, failed)
        }));
    }
    let (mut times, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (l, f) = t.await.unwrap();
        times.extend(l);
        failed += f;
    }
    let _ = started;
    times.sort();
    (times, failed)
}

fn report(name: &str, times: &[Duration], failed: usize, elapsed: Duration) -> f64 {
    let q = |p: f64| {
        times
            .get(((times.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let rate = times.len() as f64 / elapsed.as_secs_f64();
    println!("{name}_payments_per_s={rate:.0}");
    println!("{name}_payment_p50_ms={:.2}", q(0.5));
    println!("{name}_payment_p99_ms={:.2}", q(0.99));
    println!("{name}_payments_failed={failed}");
    rate
}

/// The demo's companies with open invoices, each with the method `method_sql` picks.
async fn work(pool: &PgPool, method_sql: &str) -> Vec<Work> {
    let rows: Vec<(CompanyId, String, Option<MethodId>)> = sqlx::query_as(&format!(
        "SELECT c.id, c.code, ({method_sql}) FROM companies c ORDER BY c.id"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (company, code, method) in rows {
        let Some(method) = method else { continue };
        let invoices: Vec<(InvoiceId, rust_decimal::Decimal)> = sqlx::query_as(
            "SELECT id, balance FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY id",
        )
        .bind(company)
        .fetch_all(pool)
        .await
        .unwrap();
        out.push(Work {
            company,
            code,
            method,
            invoices,
        });
    }
    out
}

#[tokio::main]
async fn main() {
    let clients = count("STRIPE_CLIENTS", 8);
    let payments = count("STRIPE_PAYMENTS", 200);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let base = std::env::var("STRIPE_API_BASE").expect("STRIPE_API_BASE (the mock)");
    let pool = server::db::connect(&url, clients as u32 + 2)
        .await
        .expect("database");
    server::db::migrate(&pool).await.expect("migrations");
    let sandbox = Arc::new(SandboxGateway::new(pool.clone(), Duration::ZERO));
    server::demo::seed(&pool, sandbox.as_ref())
        .await
        .expect("demo data");
    let stripe = Arc::new(StripeGateway::new(
        pool.clone(),
        StripeSettings {
            secret_key: "sk_test_bench".into(),
            publishable_key: "pk_test_bench".into(),
            webhook_secrets: vec!["whsec_bench".into()],
            api_base: base.clone(),
        },
        Duration::from_secs(15),
    ));

    // A Stripe card for every company, saved as the add-card form does.
    let http = reqwest::Client::new();
    let who = clerk(&pool).await;
    let companies: Vec<CompanyId> = sqlx::query_scalar("SELECT id FROM companies ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    for company in &companies {
        let customer = stripe.customer(company.0).await.unwrap();
        let setup = stripe.card_setup(&customer).await.unwrap();
        let intent =
            confirm_card_setup(&http, &base, setup.client_secret.as_deref().unwrap()).await;
        let pm = stripe.card_from_setup(company.0, &intent).await.unwrap();
        server::methods::add_card(
            &pool,
            stripe.as_ref(),
            &who.reach(*company, "Company").unwrap(),
            &NewCard {
                token: pm,
                holder_name: "Bench Holder".into(),
            },
            server::companies::today(),
        )
        .await
        .unwrap();
    }

    // The open invoices, half through each gateway, interleaved so neither gets the easy ones.
    let stripe_work = work(
        &pool,
        "SELECT m.id FROM payment_methods m WHERE m.company_id = c.id AND m.gateway = 'stripe' LIMIT 1",
    )
    .await;
    let sandbox_work = work(
        &pool,
        "SELECT m.id FROM payment_methods m WHERE m.company_id = c.id AND m.gateway = 'sandbox' \
         AND m.kind = 'card' AND m.active ORDER BY m.is_default DESC, m.id LIMIT 1",
    )
    .await;
    let split = |w: Vec<Work>, odd: bool| -> Vec<Work> {
        w.into_iter()
            .map(|mut w| {
                w.invoices = w
                    .invoices
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| (i % 2 == 1) == odd)
                    .map(|(_, x)| x)
                    .collect();
                w
            })
            .collect()
    };
    let t = Instant::now();
    let (times, failed) = run(
        &pool,
        sandbox.clone(),
        split(sandbox_work, false),
        clients,
        payments,
    )
    .await;
    let sandbox_rate = report("sandbox", &times, failed, t.elapsed());
    let t = Instant::now();
    let (times, failed) = run(
        &pool,
        stripe.clone(),
        split(stripe_work, true),
        clients,
        payments,
    )
    .await;
    let stripe_rate = report("stripe", &times, failed, t.elapsed());
    println!(
        "stripe_vs_sandbox_payments={:.2}",
        stripe_rate / sandbox_rate.max(f64::EPSILON)
    );
    // The mock's own time for one request Settle makes (a PaymentMethod read, checked and
    // answered): a payment through Stripe is two such requests (the method, the intent).
    let pm: String = sqlx::query_scalar(
        "SELECT gateway_token FROM payment_methods WHERE gateway = 'stripe' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut reads = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/v1/payment_methods/{pm}"))
            .bearer_auth("sk_test_bench")
            .header(
                "Stripe-Version",
                server::gateway::stripe::client::API_VERSION,
            )
            .send()
            .await
            .unwrap();
        let _ = r.bytes().await;
        reads.push(t.elapsed());
    }
    reads.sort();
    println!(
        "stripe_mock_request_p50_ms={:.2}",
        reads[reads.len() / 2].as_secs_f64() * 1000.0
    );
    println!(
        "ledger_invoices_off={}",
        server::ledger::balances_off(&pool).await.unwrap()
    );
}

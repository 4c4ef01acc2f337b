//! The NACHA rail's two heavy steps, timed on a release build (`make bench` runs it on a fresh
//! database): writing the file of 10,000 waiting debits (ACH_ENTRIES) at a cut-off — read, trace
//! numbers, the bytes, every entry marked, the copy in the outbox folder — and applying the
//! bank's file of 1,000 returns (ACH_RETURNS, written by achkit through scripts/ach-returns.py):
//! each payment returned and its invoice reopened. Prints `name=value` lines; a benchmark, not a
//! test.

use chrono::Utc;
use serde_json::json;
use server::ach_files::settings::NachaSettings;
use server::ach_files::{inbox, outbox, rail::NachaRail, vault};
use server::gateway::{PaymentGateway, SandboxGateway};
use shared::bank::RoutingNumber;
use shared::money::Money;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let entries = count("ACH_ENTRIES", 10_000);
    let returns = count("ACH_RETURNS", 1_000).min(entries);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = server::db::connect(&url, 8).await.expect("database");
    server::db::migrate(&pool).await.expect("migrations");
    let sandbox = SandboxGateway::new(pool.clone(), Duration::ZERO);
    server::demo::seed(&pool, &sandbox)
        .await
        .expect("demo data");
    let dir = std::env::temp_dir().join(format!("settle-bench-ach-{}", std::process::id()));
    let settings = NachaSettings::example(&dir);
    std::fs::create_dir_all(&settings.inbox).unwrap();
    let rail = NachaRail::new(pool.clone(), Arc::new(settings.clone()), Arc::new(sandbox));

    // The debits: a thousand customers' accounts, each debited in turn, each with its payment
    // (pending, one invoice line of its own) as the engine leaves it, for a thousand companies.
    let routing = RoutingNumber::parse("110000000").unwrap();
    let mut tokens = Vec::new();
    for i in 0..1000.min(entries) {
        let token = vault::keep(
            &pool,
            &settings.vault_key,
            &routing,
            &format!("{:012}", 7_000_000 + i),
        )
        .await
        .expect("an account");
        tokens.push(token);
    }
    let keys: Vec<String> = (0..entries)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let amounts: Vec<i64> = (0..entries as i64)
        .map(|i| 1000 + (i * 7919) % 500_000)
        .collect();
    // The payments first, as the engine records each before it charges.
    sqlx::query(
        "WITH e AS (SELECT k.key, k.cents, k.n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(key, cents, n)),
              c AS (INSERT INTO companies (code, name)
                    SELECT 'ACH-B' || k, 'ACH bench customer ' || k FROM generate_series(0, 999) k
                    RETURNING id, (substr(code, 6))::int AS k),
              i AS (INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance)
                    SELECT c.id, 'ACH-BENCH-' || e.n, current_date, current_date, e.cents / 100.0, 0
                    FROM e JOIN c ON c.k = e.n % 1000
                    RETURNING id, number),
              p AS (INSERT INTO payments (company_id, amount, status, idempotency_key, gateway_key)
                    SELECT c.id, e.cents / 100.0, 'pending', e.key::uuid, e.key
                    FROM e JOIN c ON c.k = e.n % 1000
                    RETURNING id, amount, gateway_key)
         INSERT INTO payment_allocations (payment_id, invoice_id, amount)
         SELECT p.id, i.id, p.amount FROM p JOIN e ON e.key = p.gateway_key
         JOIN i ON i.number = 'ACH-BENCH-' || e.n",
    )
    .bind(&keys)
    .bind(&amounts)
    .execute(&pool)
    .await
    .expect("payments");
    let started = Instant::now();
    for (i, (key, cents)) in keys.iter().zip(&amounts).enumerate() {
        rail.charge(
            &tokens[i % tokens.len()],
            Money::usd(rust_decimal::Decimal::new(*cents, 2)),
            key,
        )
        .await
        .expect("an entry");
    }
    let charge_ms = started.elapsed().as_secs_f64() * 1000.0;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await.ok();

    let now = Utc::now();
    let started = Instant::now();
    let written = outbox::write_file(&pool, &settings, now, now)
        .await
        .expect("the file")
        .expect("debits were waiting");
    let write_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    outbox::export(&pool, &settings.outbox)
        .await
        .expect("the outbox folder");
    let export_ms = started.elapsed().as_secs_f64() * 1000.0;

    // The bank's return file, written by achkit.
    let traces: Vec<(String, i64)> = sqlx::query_as(
        "SELECT trace, cents FROM ach_entries WHERE file_id = $1 ORDER BY trace LIMIT $2",
    )
    .bind(written.id)
    .bind(returns as i64)
    .fetch_all(&pool)
    .await
    .expect("traces");
    let notices: Vec<_> = traces
        .iter()
        .map(|(trace, cents)| {
            json!({"kind": "return", "code": "R01", "trace": trace, "routing": "110000000",
                   "account": "000123456789", "cents": cents})
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = dir.join("returns.json");
    std::fs::write(
        &spec,
        json!({"odfi": "021000021", "notices": notices}).to_string(),
    )
    .unwrap();
    let file = dir.join("returns.ach");
    let made = std::process::Command::new(root.join(".data/venv/bin/python"))
        .arg(root.join("scripts/ach-returns.py"))
        .arg(&spec)
        .arg(&file)
        .status()
        .expect("achkit writes the return file (make tools installs it)");
    assert!(made.success());
    let bytes = std::fs::read(&file).unwrap();
    let started = Instant::now();
    let read = inbox::read_file(&pool, &settings, "returns.ach", &bytes)
        .await
        .expect("the return file");
    let apply_ms = started.elapsed().as_secs_f64() * 1000.0;
    let returned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments WHERE status = 'returned'")
            .fetch_one(&pool)
            .await
            .unwrap();
    println!("ach_debits_entered={entries}");
    println!("ach_debits_entered_ms={charge_ms:.0}");
    println!("ach_file_entries={}", written.entries);
    println!("ach_file_write_ms={write_ms:.0}");
    println!("ach_file_to_outbox_ms={export_ms:.1}");
    println!(
        "ach_file_bytes={}",
        std::fs::metadata(settings.outbox.join(&written.name))
            .unwrap()
            .len()
    );
    println!("ach_returns_in_file={}", read.returned + read.unknown);
    println!("ach_returns_apply_ms={apply_ms:.0}");
    println!("ach_payments_returned={returned}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! `make seed-large`: recreates the database named by `SETTLE_LARGE_DB` (default
//! `settle_large`) on the server of DATABASE_URL, loads the demo data and the large book
//! (`server::large`), and prints what it loaded and how long it took.

use server::gateway::SandboxGateway;
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make seed-large sets it)");
    let name = std::env::var("SETTLE_LARGE_DB").unwrap_or_else(|_| "settle_large".into());
    let started = Instant::now();
    let pool = server::db::fresh_database(&url, &name, 4)
        .await
        .unwrap_or_else(|e| panic!("a fresh database {name}: {e}"));
    let gateway = SandboxGateway::new(pool.clone(), Duration::ZERO);
    server::demo::seed(&pool, &gateway)
        .await
        .expect("the demo data");
    let today = server::companies::today();
    let loaded = server::large::load_with_progress(
        &pool,
        server::large::Scale::FULL,
        today,
        |step, took| println!("seed-large: {step} in {:.1} s", took.as_secs_f64()),
    )
    .await
    .expect("the large book");
    println!(
        "seed-large: {} companies, {} invoices, {} payment methods, {} payments into {name} in {:.1} s",
        loaded.companies,
        loaded.invoices,
        loaded.methods,
        loaded.payments,
        started.elapsed().as_secs_f64()
    );
}

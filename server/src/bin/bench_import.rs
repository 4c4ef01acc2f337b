//! Imports 100,000 invoice rows (IMPORT_ROWS) for 1,000 new companies through System →
//! Import's code path (preview, then commit of the valid rows), then the same file again,
//! and prints each time as `name=value` lines. A benchmark, not a test: run it on a release
//! build (`make bench-import`) against a database it may write to (DATABASE_URL).

use server::authority::Principal;
use server::integration::import;
use shared::import::{CommitMode, ImportKind};
use std::fmt::Write;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = server::db::connect(&url, 4).await.expect("database");
    server::db::migrate(&pool).await.expect("migrations");
    let admin: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
            .fetch_optional(&pool)
            .await
            .expect("users");
    let admin = match admin {
        Some(a) => a,
        None => sqlx::query_scalar(
            "INSERT INTO users (email, name, role, password_hash) VALUES ('bench@settle.example', 'Bench', 'admin', 'x') RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .expect("a user"),
    };
    let by = &Principal::of_user(&pool, shared::UserId(admin))
        .await
        .and_then(|p| Ok(p.admin()?))
        .expect("an admin");
    // A run's own companies and numbers, so runs never collide.
    let run = chrono::Utc::now().timestamp() % 100_000;
    let mut companies = String::from("company_id,name\n");
    for c in 0..1000 {
        writeln!(companies, "B{run}-{c:04},Bench company {c}").unwrap();
    }
    let mut invoices = String::from("company_id,number,po_number,issue_date,due_date,total\n");
    for i in 0..rows {
        let c = i % 1000;
        let cents = 1000 + (i * 7919) % 500_000;
        writeln!(
            invoices,
            "B{run}-{c:04},INV-{i:07},PO-{},2026-{:02}-01,2026-{:02}-28,{}.{:02}",
            i % 977,
            1 + i % 9,
            2 + i % 9,
            cents / 100,
            cents % 100
        )
        .unwrap();
    }
    let p = import::upload(
        &pool,
        by,
        ImportKind::Companies,
        "companies.csv",
        companies.as_bytes(),
    )
    .await
    .expect("companies preview");
    import::commit(&pool, by, p.id, CommitMode::AllOrNothing)
        .await
        .expect("companies");
    println!("import_rows={rows}");
    println!("import_file_bytes={}", invoices.len());
    let t = Instant::now();
    let p = import::upload(
        &pool,
        by,
        ImportKind::Invoices,
        "invoices.csv",
        invoices.as_bytes(),
    )
    .await
    .expect("preview");
    let preview = t.elapsed();
    assert_eq!(p.counts.created, rows, "{:?}", p.errors.first());
    let t = Instant::now();
    let done = import::commit(&pool, by, p.id, CommitMode::AllOrNothing)
        .await
        .expect("commit");
    let commit = t.elapsed();
    assert_eq!(done.created, rows);
    println!("import_preview_s={:.2}", preview.as_secs_f64());
    println!("import_commit_s={:.2}", commit.as_secs_f64());
    println!("import_total_s={:.2}", (preview + commit).as_secs_f64());
    let t = Instant::now();
    let again = import::upload(
        &pool,
        by,
        ImportKind::Invoices,
        "invoices.csv",
        invoices.as_bytes(),
    )
    .await
    .expect("again");
    assert_eq!(again.counts.unchanged, rows);
    println!(
        "import_same_file_again_preview_s={:.2}",
        t.elapsed().as_secs_f64()
    );
    let off = server::ledger::balances_off(&pool).await.expect("ledger");
    println!("import_ledger_off={off}");
}

//! CRM → Companies search on a large book: 100,000 companies and 600,000 invoices.
//!
//! Run with `make bench-search` (uses DATABASE_URL, else the local cluster). It recreates the
//! database `settle_bench` on that server, loads it, and prints the latency of each kind of
//! search (p50 / p95 / max over repeated runs). It asserts nothing about time.

use chrono::NaiveDate;
use server::companies;
use shared::company::CompanySearch;
use sqlx::PgPool;
use std::time::{Duration, Instant};

const COMPANIES: i64 = 100_000;
const INVOICES_PER_COMPANY: i64 = 6;
const RUNS: usize = 40;

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-search sets it)");
    let pool = server::db::fresh_database(&url, "settle_bench", 5)
        .await
        .expect("a fresh benchmark database");

    let started = Instant::now();
    load(&pool).await;
    println!(
        "loaded {COMPANIES} companies and {} invoices in {:.1} s",
        COMPANIES * INVOICES_PER_COMPANY,
        started.elapsed().as_secs_f64()
    );

    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let cases: [(&str, &str, i64); 7] = [
        ("whole book, page 1", "", 1),
        ("whole book, page 1,000", "", 1_000),
        ("exact Company ID", "C054321", 1),
        ("Company ID prefix", "C0543", 1),
        ("name word", "harbor", 1),
        ("two letters (common)", "an", 1),
        ("no match", "zzqx", 1),
    ];
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9}",
        "search", "matches", "p50 ms", "p95 ms", "max ms"
    );
    for (label, text, page) in cases {
        let search = CompanySearch::parse(text).unwrap();
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for i in 0..RUNS + 3 {
            let t = Instant::now();
            let result = companies::search(&pool, &search, page, today)
                .await
                .unwrap();
            if i >= 3 {
                times.push(t.elapsed());
            }
            total = result.total;
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label:<34} {total:>9} {:>9.2} {:>9.2} {:>9.2}",
            ms(times[RUNS / 2]),
            ms(times[RUNS * 95 / 100]),
            ms(times[RUNS - 1])
        );
    }
}

async fn load(pool: &PgPool) {
    sqlx::query(
        "INSERT INTO companies (code, name) \
         SELECT 'C' || lpad(g::text, 6, '0'), \
                (ARRAY['Harbor','Summit','Cedar','Northgate','Lakeside','Ironwood','Prairie','Coastal', \
                       'Redstone','Mountain','Keystone','Riverbend','Silverline','Granite','Oak','Bayshore', \
                       'Pioneer','Maple','Falcon','Evergreen'])[1 + g % 20] || ' ' || \
                (ARRAY['Construction','Mechanical','Electric','Plumbing','Facilities','Supply','Fabrication', \
                       'Roofing','Services','Builders','Landscaping','Properties','Clinic','Auto Body', \
                       'Contractors','Cabinetry','Marine','Maintenance','Bakery','Logistics','Hotels', \
                       'Fire Protection','Dental','Living','Boatworks'])[1 + (g / 20) % 25] || ' ' || g \
         FROM generate_series(1, $1) g",
    )
    .bind(COMPANIES)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance) \
         SELECT c.id, 'INV-' || c.id || '-' || k, d - 30, d, t, CASE WHEN k % 3 = 0 THEN 0 ELSE t END \
         FROM companies c CROSS JOIN generate_series(1, $1) k \
         CROSS JOIN LATERAL (SELECT DATE '2026-11-25' - ((c.id * 7 + k * 13) % 200 - 30)::int AS d, \
                                    (((c.id * 31 + k * 17) % 500000) / 100.0 + 10)::numeric(14,2) AS t) x",
    )
    .bind(INVOICES_PER_COMPANY)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

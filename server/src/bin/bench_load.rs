//! `make bench`: the release server under load on the large book (`make seed-large`), every
//! figure printed as a `name=value` line. A benchmark, not a test: it asserts nothing about
//! time (the invariants it checks are the ledger's, and they are tests too).
//!
//! - Company Open Invoices pages (a company with about 20 open invoices and the one with
//!   10,000) fetched by BENCH_CLIENTS (16) connections for BENCH_SECONDS each: p50, p99,
//!   req/s, HTML size, and the server's RSS while serving them; the dashboard (staff home) the
//!   same way, and the time its snapshot of the whole book takes to make.
//! - CRM company search per kind (exact id, prefix, name word, two letters, no match, a deep
//!   page) through `server::companies::search` on the same database, with the plans
//!   (`EXPLAIN (ANALYZE, BUFFERS)`) printed as `#` lines.
//! - Payments of INVOICES_PER_PAYMENT (2) invoices each over HTTP by 16 clerks, beside the
//!   bare SQL of the same transaction (locks, payment, allocations, balances, audit) through
//!   a pool of the same size, in the same run.
//!
//! Set by scripts/bench.sh: BENCH_URL (the release server), BENCH_DATABASE_URL (its
//! database), BENCH_SERVER_PID.

use chrono::NaiveDate;
use reqwest::header::COOKIE;
use rust_decimal::Decimal;
use shared::company::CompanySearch;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn print(name: &str, value: impl std::fmt::Display) {
    println!("{name}={value}");
}

struct Bench {
    base: String,
    http: reqwest::Client,
    cookie: String,
    pool: PgPool,
    pid: Option<u32>,
    clients: usize,
    seconds: u64,
}

#[tokio::main]
async fn main() {
    let base = std::env::var("BENCH_URL").expect("BENCH_URL (make bench sets it)");
    let url = std::env::var("BENCH_DATABASE_URL").expect("BENCH_DATABASE_URL (make bench sets it)");
    let clients = env_or("BENCH_CLIENTS", 16usize);
    let pool = PgPoolOptions::new()
        .max_connections(clients as u32)
        .connect(&url)
        .await
        .expect("the benchmark database");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let cookie = sign_in(&http, &base).await;
    let bench = Bench {
        base,
        http,
        cookie,
        pool,
        pid: std::env::var("BENCH_SERVER_PID")
            .ok()
            .and_then(|p| p.parse().ok()),
        clients,
        seconds: env_or("BENCH_SECONDS", 10u64),
    };
    let per_payment = env_or("INVOICES_PER_PAYMENT", 2usize).max(1);
    if let Ok(log) = std::env::var("BENCH_PG_LOG") {
        bench.round_trips(per_payment, &log).await;
        return;
    }
    print("bench_clients", clients);
    print("bench_seconds_per_phase", bench.seconds);
    bench.rss("rss_idle");

    // BENCH_ONLY: `aging` stops after the aging report; `payments` runs the payments alone.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "payments" {
        let small: String = sqlx::query_scalar(
            "SELECT c.code FROM company_balances b JOIN companies c ON c.id = b.company_id \
             ORDER BY abs(b.open_invoices - 20), c.id LIMIT 1",
        )
        .fetch_one(&bench.pool)
        .await
        .unwrap();
        let big: String = sqlx::query_scalar(
            "SELECT c.code FROM company_balances b JOIN companies c ON c.id = b.company_id \
             ORDER BY b.open_invoices DESC, c.id LIMIT 1",
        )
        .fetch_one(&bench.pool)
        .await
        .unwrap();
        bench.aging(&big, &small).await;
        if only == "aging" {
            return;
        }
        bench
            .pages("page_20", &format!("/ops/crm/companies/{small}"))
            .await;
        bench
            .pages("page_10k", &format!("/ops/crm/companies/{big}"))
            .await;
        bench.pages("dashboard", "/ops").await;
        bench.rss("rss_after_pages");

        bench.search().await;
    }

    print("invoices_per_payment", per_payment);
    let (http_rate, http_p99) = bench.payments_over_http(per_payment).await;
    let (sql_rate, sql_p99) = bench.payments_bare_sql(per_payment).await;
    print(
        "payments_http_vs_bare_sql",
        format!("{:.2}", http_rate / sql_rate.max(f64::EPSILON)),
    );
    let _ = (http_p99, sql_p99);
    bench.rss("rss_after_payments");
    bench.ledger().await;
}

async fn sign_in(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .post(format!("{base}/api/login"))
        .form(&[
            ("email", "clerk@settle.example"),
            ("password", "demo-clerk-pass"),
        ])
        .send()
        .await
        .expect("the server answers");
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("settle_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a session cookie from the demo clerk's sign-in")
}

/// Milliseconds at the `p` quantile of sorted durations.
/// Prints `<name>_<label>_ms` for each quantile of `times`.
fn print_times(name: &str, times: &mut [Duration], quantiles: &[(&str, f64)]) {
    times.sort();
    for (label, p) in quantiles {
        print(
            &format!("{name}_{label}_ms"),
            format!("{:.2}", quantile(times, *p)),
        );
    }
}

fn quantile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

impl Bench {
    /// The server's resident memory now and at its peak, in MB.
    fn rss(&self, name: &str) {
        let Some(pid) = self.pid else { return };
        let mb = |field: &str| status_kb(pid, field).unwrap_or(0.0) / 1024.0;
        print(&format!("{name}_mb"), format!("{:.1}", mb("VmRSS:")));
        print(&format!("{name}_peak_mb"), format!("{:.1}", mb("VmHWM:")));
    }

    /// GETs `path` from every client for the phase's time; prints the figures.
    async fn pages(&self, name: &str, path: &str) {
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let bytes = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..self.clients {
            let (http, url, cookie) = (self.http.clone(), url.clone(), self.cookie.clone());
            let (bytes, failed) = (bytes.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match http.get(&url).header(COOKIE, &cookie).send().await {
                        Ok(r) if r.status().is_success() => {
                            let body = r.bytes().await.unwrap_or_default();
                            bytes.store(body.len() as u64, Ordering::Relaxed);
                            times.push(t.elapsed());
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                times
            }));
        }
        let peak = self.sample_rss(deadline);
        let cpu_before = (self.server_cpu_ms(), machine_busy_ms());
        let mut times = Vec::new();
        for t in tasks {
            times.extend(t.await.unwrap());
        }
        times.sort();
        // Where the time goes: the server's own CPU, and the whole machine's (the server,
        // PostgreSQL and this load generator share its cores).
        let n = times.len().max(1) as f64;
        if let (Some(before), Some(after)) = (cpu_before.0, self.server_cpu_ms()) {
            print(
                &format!("{name}_server_cpu_ms_per_req"),
                format!("{:.2}", (after - before) / n),
            );
        }
        print(
            &format!("{name}_machine_cpu_ms_per_req"),
            format!("{:.2}", (machine_busy_ms() - cpu_before.1) / n),
        );
        print(&format!("{name}_html_bytes"), bytes.load(Ordering::Relaxed));
        print(
            &format!("{name}_p50_ms"),
            format!("{:.2}", quantile(&times, 0.5)),
        );
        print(
            &format!("{name}_p99_ms"),
            format!("{:.2}", quantile(&times, 0.99)),
        );
        print(
            &format!("{name}_req_per_s"),
            format!("{:.0}", times.len() as f64 / self.seconds as f64),
        );
        print(&format!("{name}_failed"), failed.load(Ordering::Relaxed));
        if let Some(mb) = peak.await.unwrap() {
            print(&format!("{name}_rss_max_mb"), format!("{mb:.1}"));
        }
    }

    /// CPU time the server process has used (user and system), in ms.
    fn server_cpu_ms(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid?)).ok()?;
        // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some(ticks * 10.0)
    }

    /// The largest RSS seen every 100 ms until `deadline`.
    fn sample_rss(&self, deadline: Instant) -> tokio::task::JoinHandle<Option<f64>> {
        let pid = self.pid;
        tokio::spawn(async move {
            let pid = pid?;
            let mut max: f64 = 0.0;
            while Instant::now() < deadline {
                if let Some(kb) = status_kb(pid, "VmRSS:") {
                    max = max.max(kb / 1024.0);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Some(max)
        })
    }

    /// The aging on the large book, in process (the query's time, as a report page or the
    /// API pays it): the whole book as of today and as of 90 days ago, one company (the largest
    /// and a 20-invoice one), and the XLSX export of every company.
    async fn aging(&self, big: &str, small: &str) {
        use server::reports::aging;
        use shared::aging::AgingQuery;
        let staff = self.staff().await;
        let today = server::reports::today(&self.pool).await.unwrap();
        for (name, as_of) in [
            ("aging_book_today", None),
            (
                "aging_book_90_days_ago",
                Some(today - chrono::Duration::days(90)),
            ),
        ] {
            let q = AgingQuery {
                as_of,
                ..Default::default()
            };
            let mut times = Vec::new();
            let mut companies = 0;
            for i in 0..4 {
                let t = Instant::now();
                let r = aging::report(&self.pool, &staff, &q, aging::PAGE_ROWS)
                    .await
                    .unwrap();
                if i > 0 {
                    times.push(t.elapsed());
                }
                companies = r.companies;
            }
            print(&format!("{name}_companies"), companies);
            print_times(name, &mut times, &[("p50", 0.5), ("max", 1.0)]);
        }
        for (name, code) in [("aging_company_10k", big), ("aging_company_20", small)] {
            let mut times = Vec::new();
            for i in 0..55 {
                let t = Instant::now();
                aging::company(&self.pool, &staff, code, None)
                    .await
                    .unwrap()
                    .unwrap();
                if i >= 5 {
                    times.push(t.elapsed());
                }
            }
            print_times(name, &mut times, &[("p50", 0.5), ("p99", 0.99)]);
        }
        let t = Instant::now();
        let all = aging::all(&self.pool, &staff, &AgingQuery::default())
            .await
            .unwrap();
        let read = t.elapsed();
        let workbook = aging::xlsx(&all).unwrap();
        print("aging_xlsx_rows", all.rows.len());
        print("aging_xlsx_bytes", workbook.bytes);
        print(
            "aging_xlsx_read_ms",
            format!("{:.0}", read.as_secs_f64() * 1e3),
        );
        print(
            "aging_xlsx_total_ms",
            format!("{:.0}", t.elapsed().as_secs_f64() * 1e3),
        );
        // The dashboard's figures of the whole book: the first made with every past month's
        // receivables to add up, the next with them kept (as every few minutes in production).
        sqlx::query("DELETE FROM receivables_month_ends")
            .execute(&self.pool)
            .await
            .unwrap();
        for name in ["dashboard_snapshot_cold_ms", "dashboard_snapshot_ms"] {
            let t = Instant::now();
            server::reports::dashboard::refresh(&self.pool)
                .await
                .unwrap();
            print(name, format!("{:.0}", t.elapsed().as_secs_f64() * 1e3));
        }
    }

    async fn staff(&self) -> server::authority::Staff {
        let clerk_id: i64 =
            sqlx::query_scalar("SELECT id FROM users WHERE role = 'clerk' AND active LIMIT 1")
                .fetch_one(&self.pool)
                .await
                .unwrap();
        server::authority::Principal::of_user(&self.pool, shared::UserId(clerk_id))
            .await
            .unwrap()
            .staff()
            .unwrap()
    }

    async fn search(&self) {
        const RUNS: usize = 60;
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let cases: [(&str, &str, i64); 6] = [
            ("exact_id", "C054321", 1),
            ("prefix", "C0543", 1),
            ("name_word", "harbor", 1),
            ("two_letters", "an", 1),
            ("no_match", "zzqx", 1),
            ("deep_page", "", 1_000),
        ];
        let staff = self.staff().await;
        for (kind, text, page) in cases {
            let search = CompanySearch::parse(text).unwrap();
            let mut times = Vec::with_capacity(RUNS);
            let mut total = 0;
            for i in 0..RUNS + 5 {
                let t = Instant::now();
                let result = server::companies::search(&self.pool, &staff, &search, page, today)
                    .await
                    .unwrap();
                if i >= 5 {
                    times.push(t.elapsed());
                }
                total = result.total;
            }
            times.sort();
            print(&format!("search_{kind}_matches"), total);
            print(
                &format!("search_{kind}_p50_ms"),
                format!("{:.2}", quantile(&times, 0.5)),
            );
            print(
                &format!("search_{kind}_p99_ms"),
                format!("{:.2}", quantile(&times, 0.99)),
            );
            for line in server::companies::explain_search(&self.pool, &search, page, today)
                .await
                .unwrap()
            {
                println!("# {kind}: {line}");
            }
        }
    }

    /// Work for payments: per client, companies of its own (no two clients touch one), each
    /// with `per_payment` open invoices and its default card.
    async fn payment_work(&self, per_payment: usize, skip: i64) -> Vec<Vec<Work>> {
        let rows: Vec<Work> = sqlx::query_as(
            "SELECT c.id AS company_id, c.code, m.id AS method_id, array_agg(i.id ORDER BY i.id) AS invoices, \
                    array_agg(i.balance ORDER BY i.id) AS balances \
             FROM companies c JOIN payment_methods m ON m.company_id = c.id AND m.is_default AND m.active \
             CROSS JOIN LATERAL (SELECT id, balance FROM invoices WHERE company_id = c.id AND balance > 0 \
                                 ORDER BY id LIMIT $1) i \
             WHERE c.code LIKE 'C0%' GROUP BY c.id, c.code, m.id HAVING count(*) = $1 \
             ORDER BY c.id OFFSET $2 LIMIT 30000",
        )
        .bind(per_payment as i64)
        .bind(skip)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        let mut queues: Vec<Vec<Work>> = (0..self.clients).map(|_| Vec::new()).collect();
        for (n, work) in rows.into_iter().enumerate() {
            queues[n % self.clients].push(work);
        }
        queues
    }

    async fn payments_over_http(&self, per_payment: usize) -> (f64, f64) {
        let queues = self.payment_work(per_payment, 0).await;
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let mut tasks = Vec::new();
        let refused_shown = Arc::new(AtomicBool::new(false));
        for queue in queues {
            let (http, base, cookie) = (self.http.clone(), self.base.clone(), self.cookie.clone());
            let refused_shown = refused_shown.clone();
            tasks.push(tokio::spawn(async move {
                let (mut times, mut failed) = (Vec::new(), 0u64);
                for w in queue {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    match pay_over_http(&http, &base, &cookie, &w).await {
                        Ok(()) => times.push(t.elapsed()),
                        Err(refused) => {
                            failed += 1;
                            if !refused_shown.swap(true, Ordering::Relaxed) {
                                eprintln!("{refused}");
                            }
                        }
                    }
                }
                (times, failed)
            }));
        }
        self.report("payments_http", tasks).await
    }

    /// PostgreSQL round trips per payment over HTTP, read from the statement log `log` of a
    /// server whose database logs every statement (`log_statement = 'all'`, set by
    /// scripts/bench.sh, with the server's background work paused): what is logged while
    /// payments run one after another, after a few that warm the server's prepared statements.
    /// Prints the count per payment and, as `#` lines, each statement's share.
    async fn round_trips(&self, per_payment: usize, log: &str) {
        const WARM: usize = 5;
        const COUNTED: usize = 20;
        let mut work = self
            .payment_work(per_payment, 0)
            .await
            .into_iter()
            .flatten();
        let mut pay = async |n: usize| {
            for w in work.by_ref().take(n) {
                pay_over_http(&self.http, &self.base, &self.cookie, &w)
                    .await
                    .unwrap();
            }
        };
        pay(WARM).await;
        let from = std::fs::metadata(log).map_or(0, |m| m.len());
        pay(COUNTED).await;
        let text = std::fs::read(log).expect("the statement log");
        let text = String::from_utf8_lossy(&text[from as usize..]);
        // `… [pid] LOG:  statement: BEGIN` (simple protocol) and `… LOG:  execute name: SQL`.
        let statements: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_once("] LOG:  ").map(|(_, m)| m))
            .filter_map(|m| {
                m.strip_prefix("statement: ").or_else(|| {
                    m.strip_prefix("execute ")
                        .and_then(|r| r.split_once(": ").map(|(_, q)| q))
                })
            })
            .map(|q| q.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        print("invoices_per_payment", per_payment);
        print(
            "payment_round_trips",
            format!("{:.1}", statements.len() as f64 / COUNTED as f64),
        );
        let mut shares = std::collections::BTreeMap::<String, usize>::new();
        for q in statements {
            *shares.entry(q.chars().take(100).collect()).or_default() += 1;
        }
        let mut shares: Vec<_> = shares.into_iter().collect();
        shares.sort_by_key(|s| std::cmp::Reverse(s.1));
        for (q, n) in shares {
            println!("# {:.2} {q}", n as f64 / COUNTED as f64);
        }
    }

    /// The same transaction as a payment's, in bare SQL on a pool of the same size: lock the
    /// invoices and the method, record the payment, take each line off its balance with its
    /// allocation, one audit row.
    async fn payments_bare_sql(&self, per_payment: usize) -> (f64, f64) {
        // Other companies than the HTTP run's (those are paid now).
        let queues = self.payment_work(per_payment, 0).await;
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let mut tasks = Vec::new();
        for queue in queues {
            let pool = self.pool.clone();
            tasks.push(tokio::spawn(async move {
                let (mut times, mut failed) = (Vec::new(), 0u64);
                for w in queue {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    match bare_payment(&pool, &w).await {
                        Ok(()) => times.push(t.elapsed()),
                        Err(e) => {
                            failed += 1;
                            eprintln!("a bare-SQL payment failed: {e}");
                        }
                    }
                }
                (times, failed)
            }));
        }
        self.report("payments_bare_sql", tasks).await
    }

    async fn report(
        &self,
        name: &str,
        tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, u64)>>,
    ) -> (f64, f64) {
        let cpu_before = (self.server_cpu_ms(), machine_busy_ms());
        let (mut times, mut failed) = (Vec::new(), 0);
        for t in tasks {
            let (l, f) = t.await.unwrap();
            times.extend(l);
            failed += f;
        }
        times.sort();
        let rate = times.len() as f64 / self.seconds as f64;
        let p99 = quantile(&times, 0.99);
        print(&format!("{name}_per_s"), format!("{rate:.0}"));
        print(
            &format!("{name}_p50_ms"),
            format!("{:.2}", quantile(&times, 0.5)),
        );
        print(&format!("{name}_p99_ms"), format!("{p99:.2}"));
        print(&format!("{name}_failed"), failed);
        // Where the time goes (the server's CPU is the HTTP payments' only).
        let n = times.len().max(1) as f64;
        if let (Some(before), Some(after)) = (cpu_before.0, self.server_cpu_ms()) {
            print(
                &format!("{name}_server_cpu_ms_per_payment"),
                format!("{:.2}", (after - before) / n),
            );
        }
        print(
            &format!("{name}_machine_cpu_ms_per_payment"),
            format!("{:.2}", (machine_busy_ms() - cpu_before.1) / n),
        );
        (rate, p99)
    }

    /// The ledger after the load: balances are totals less what counting payments took, and
    /// the kept company figures add up.
    async fn ledger(&self) {
        print(
            "ledger_invoices_off",
            server::ledger::balances_off(&self.pool).await.unwrap(),
        );
        print(
            "ledger_company_figures_off",
            server::ledger::company_balances_off(&self.pool)
                .await
                .unwrap(),
        );
    }
}

/// A kB field (`VmRSS:`, `VmHWM:`) of a process's /proc status.
fn status_kb(pid: u32, field: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time every core of the machine has been busy, in ms (from /proc/stat, 100 ticks/s).
fn machine_busy_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else {
        return 0.0;
    };
    let ticks: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    busy * 10.0
}

#[derive(sqlx::FromRow)]
struct Work {
    company_id: i64,
    code: String,
    method_id: i64,
    invoices: Vec<i64>,
    balances: Vec<Decimal>,
}

/// One payment of `w`'s invoices in full with its default card, as the payment dialog posts
/// it; the refusal's status and body when it is not paid.
async fn pay_over_http(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    w: &Work,
) -> Result<(), String> {
    let lines: Vec<_> = w
        .invoices
        .iter()
        .zip(&w.balances)
        .map(|(id, b)| {
            serde_json::json!({
                "invoice_id": id,
                "amount": { "amount": b.to_string(), "currency": "USD" },
                "short_pay_reason": "",
            })
        })
        .collect();
    let body = serde_json::json!({ "payment": {
        "company": w.code, "method_id": w.method_id, "lines": lines,
        "consent_channel": "phone", "consent_reference": "benchmark",
        "idempotency_key": uuid::Uuid::new_v4().to_string(),
    }});
    let res = http
        .post(format!("{base}/api/pay_invoices"))
        .header(COOKIE, cookie)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("a payment failed: {e}"))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("a payment was refused: {status} {text}"))
    }
}

async fn bare_payment(pool: &PgPool, w: &Work) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT id, balance FROM invoices WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&w.invoices)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query("SELECT id FROM payment_methods WHERE id = $1 AND company_id = $2 FOR SHARE")
        .bind(w.method_id)
        .bind(w.company_id)
        .fetch_one(&mut *tx)
        .await?;
    let amount: Decimal = w.balances.iter().sum();
    let payment: i64 = sqlx::query_scalar(
        "INSERT INTO payments (company_id, method_id, amount, status, memo) \
         VALUES ($1, $2, $3, 'approved', 'bare SQL benchmark') RETURNING id",
    )
    .bind(w.company_id)
    .bind(w.method_id)
    .bind(amount)
    .fetch_one(&mut *tx)
    .await?;
    for (id, balance) in w.invoices.iter().zip(&w.balances) {
        let after: Decimal = sqlx::query_scalar(
            "UPDATE invoices SET balance = balance - $2, updated_at = now() WHERE id = $1 RETURNING balance",
        )
        .bind(id)
        .bind(balance)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO payment_allocations (payment_id, invoice_id, amount, balance_after) VALUES ($1, $2, $3, $4)",
        )
        .bind(payment)
        .bind(id)
        .bind(balance)
        .bind(after)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO audit_events (action, entity_type, entity_id, on_behalf_company_id) \
         VALUES ('payment.approved', 'payment', $1, $2)",
    )
    .bind(payment.to_string())
    .bind(w.company_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

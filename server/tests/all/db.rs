//! The back end on a real PostgreSQL: each test gets a fresh database with the migrations.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use server::companies;
use server::demo::{self, SeedReport};
use server::gateway::SandboxGateway;
use server::people::sessions;
use server::people::users::{self, NewUser};
use server::Config;
use shared::auth::{LoginInput, Role};
use shared::company::{CompanyCode, CompanySearch};
use shared::invoice::{AgingBucket, InvoiceQuery, InvoiceSearch, InvoiceSort};
use shared::AppError;
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

async fn seeded(pool: &PgPool) {
    let r = demo::seed_as_of(pool, &gw(pool), today()).await.unwrap();
    assert!(matches!(r, SeedReport::Seeded { .. }), "{r:?}");
}

fn gw(pool: &PgPool) -> SandboxGateway {
    SandboxGateway::new(pool.clone(), Duration::ZERO)
}

fn search(s: &str) -> CompanySearch {
    CompanySearch::parse(s).unwrap()
}

/// A staff member as the door makes one (their role is all the capability needs).
fn staff() -> server::authority::Staff {
    server::authority::Principal::of_session(shared::auth::SessionUser {
        id: shared::UserId(1),
        name: "Casey Clerk".into(),
        email: "clerk@settle.example".into(),
        role: Role::Clerk,
        company: None,
    })
    .unwrap()
    .staff()
    .unwrap()
}

/// Staff's scope for the company `id`.
fn scope(id: shared::CompanyId) -> server::authority::CompanyScope {
    server::authority::Principal::Staff(staff())
        .reach(id, "Company")
        .unwrap()
}

/// Every open invoice of a company, in the list's default order (one page that holds them all).
async fn all_open(pool: &PgPool, id: shared::CompanyId) -> Vec<shared::invoice::OpenInvoice> {
    let all = InvoiceSearch::parse(&InvoiceQuery::default()).unwrap();
    server::invoices::search(pool, &scope(id), &all, 100_000, today())
        .await
        .unwrap()
        .page
        .items
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn seeding_is_idempotent_even_when_concurrent(pool: PgPool) {
    let g = gw(&pool);
    let (a, b) = tokio::join!(
        demo::seed_as_of(&pool, &g, today()),
        demo::seed_as_of(&pool, &g, today())
    );
    let reports = [a.unwrap(), b.unwrap()];
    assert_eq!(
        reports
            .iter()
            .filter(|r| **r == SeedReport::AlreadySeeded)
            .count(),
        1,
        "{reports:?}"
    );
    let before = (
        count(&pool, "companies").await,
        count(&pool, "invoices").await,
        count(&pool, "users").await,
        count(&pool, "payments").await,
    );
    assert_eq!(
        demo::seed_as_of(&pool, &gw(&pool), today()).await.unwrap(),
        SeedReport::AlreadySeeded
    );
    let after = (
        count(&pool, "companies").await,
        count(&pool, "invoices").await,
        count(&pool, "users").await,
        count(&pool, "payments").await,
    );
    assert_eq!(before, after);
    assert_eq!(before.0, 40);
    assert!(
        (450..=750).contains(&before.1),
        "about 600 invoices, got {}",
        before.1
    );
    assert_eq!(before.2, 7);
}

#[sqlx::test(migrations = "./migrations")]
async fn demo_invoices_cover_every_aging_bucket_and_payment_state(pool: PgPool) {
    seeded(&pool).await;
    let mut buckets = HashSet::new();
    let mut page = 1;
    loop {
        let companies = companies::search(&pool, &staff(), &search(""), page, today())
            .await
            .unwrap();
        for c in &companies.items {
            let id = server::authority::id_of(&pool, &c.code).await.unwrap();
            for inv in all_open(&pool, id).await {
                buckets.insert(inv.aging());
            }
        }
        if !companies.has_next() {
            break;
        }
        page += 1;
    }
    assert_eq!(buckets.len(), AgingBucket::ALL.len(), "{buckets:?}");
    let (paid, partly): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE balance = 0), count(*) FILTER (WHERE balance > 0 AND balance < total) FROM invoices",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(paid > 20, "paid invoices: {paid}");
    assert!(partly > 20, "partly paid invoices: {partly}");
}

#[sqlx::test(migrations = "./migrations")]
async fn balances_match_allocations(pool: PgPool) {
    seeded(&pool).await;
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invoices i LEFT JOIN LATERAL ( \
             SELECT COALESCE(sum(a.amount), 0) AS paid FROM payment_allocations a \
             JOIN payments p ON p.id = a.payment_id \
             WHERE a.invoice_id = i.id AND p.status IN ('approved', 'pending', 'settled')) x ON true \
         WHERE i.total - x.paid <> i.balance",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mismatched, 0);
    let unbalanced_payments: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payments p WHERE p.amount <> \
             (SELECT COALESCE(sum(amount), 0) FROM payment_allocations a WHERE a.payment_id = p.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unbalanced_payments, 0);
    // The company list's figures are the sums of its open invoices.
    let c = &companies::search(&pool, &staff(), &search("C1001"), 1, today())
        .await
        .unwrap()
        .items[0];
    let id = server::authority::id_of(&pool, &c.code).await.unwrap();
    let invoices = all_open(&pool, id).await;
    let sum: Decimal = invoices.iter().map(|i| i.balance.amount()).sum();
    let overdue: Decimal = invoices
        .iter()
        .filter(|i| i.days_overdue > 0)
        .map(|i| i.balance.amount())
        .sum();
    assert_eq!(c.open_balance.amount(), sum);
    assert_eq!(c.overdue.amount(), overdue);
    assert_eq!(c.open_invoices, invoices.len() as i64);
}

#[sqlx::test(migrations = "./migrations")]
async fn search_matches_company_id_and_name(pool: PgPool) {
    seeded(&pool).await;
    let by_id = companies::search(&pool, &staff(), &search("c1007"), 1, today())
        .await
        .unwrap();
    assert_eq!(by_id.total, 1);
    assert_eq!(by_id.items[0].code.as_str(), "C1007");
    assert_eq!(by_id.items[0].name, "Ironwood Fabrication Works");

    let by_name = companies::search(&pool, &staff(), &search("ROOFING"), 1, today())
        .await
        .unwrap();
    assert_eq!(by_name.total, 1);
    assert_eq!(by_name.items[0].name, "Prairie State Roofing");

    // "C100" is in C1001..C1009 (and in no name): an exact Company ID would come first.
    let partial = companies::search(&pool, &staff(), &search("C100"), 1, today())
        .await
        .unwrap();
    assert_eq!(partial.total, 9);

    let exact_first = companies::search(&pool, &staff(), &search("C1040"), 1, today())
        .await
        .unwrap();
    assert_eq!(exact_first.items[0].code.as_str(), "C1040");

    // LIKE wildcards are literal.
    assert_eq!(
        companies::search(&pool, &staff(), &search("%"), 1, today())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        companies::search(&pool, &staff(), &search("_"), 1, today())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        companies::search(&pool, &staff(), &search("&"), 1, today())
            .await
            .unwrap()
            .total,
        4
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn search_pages_through_every_company_once(pool: PgPool) {
    seeded(&pool).await;
    for i in 0..70 {
        sqlx::query("INSERT INTO companies (code, name) VALUES ($1, $2)")
            .bind(format!("X{i:04}"))
            .bind(format!("Extra Company {i:02}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    let first = companies::search(&pool, &staff(), &search(""), 1, today())
        .await
        .unwrap();
    assert_eq!(first.total, 110);
    assert_eq!(first.items.len(), 50);
    assert_eq!(first.last_page(), 3);
    let mut seen = HashSet::new();
    for p in 1..=3 {
        let page = companies::search(&pool, &staff(), &search(""), p, today())
            .await
            .unwrap();
        for c in page.items {
            assert!(seen.insert(c.code.to_string()), "{} twice", c.code);
        }
    }
    assert_eq!(seen.len(), 110);
    // A page past the end is clamped to the last one.
    let past = companies::search(&pool, &staff(), &search(""), 99, today())
        .await
        .unwrap();
    assert_eq!(past.page, 3);
    assert_eq!(past.items.len(), 10);
}

#[sqlx::test(migrations = "./migrations")]
async fn open_invoices_are_the_ones_with_a_balance_by_due_date(pool: PgPool) {
    seeded(&pool).await;
    let id = server::authority::id_of(&pool, &CompanyCode::parse("C1003").unwrap())
        .await
        .unwrap();
    let open = all_open(&pool, id).await;
    let expected: i64 =
        sqlx::query_scalar("SELECT count(*) FROM invoices WHERE company_id = $1 AND balance > 0")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(open.len() as i64, expected);
    assert!(open.iter().all(|i| i.balance.is_positive()));
    assert!(open.windows(2).all(|w| w[0].due_date <= w[1].due_date));
    let missing = server::authority::id_of(&pool, &CompanyCode::parse("NOPE").unwrap()).await;
    assert!(matches!(
        missing,
        Err(server::Error::App(AppError::NotFound(_)))
    ));
}

#[sqlx::test(migrations = "./migrations")]
async fn schema_refuses_bad_states(pool: PgPool) {
    seeded(&pool).await;
    let over = sqlx::query(
        "UPDATE invoices SET balance = total + 1 WHERE id = (SELECT min(id) FROM invoices)",
    )
    .execute(&pool)
    .await;
    assert!(over.is_err(), "balance above total");
    let negative = sqlx::query(
        "UPDATE invoices SET balance = -0.01 WHERE id = (SELECT min(id) FROM invoices)",
    )
    .execute(&pool)
    .await;
    assert!(negative.is_err(), "negative balance");
    let dup = sqlx::query("INSERT INTO companies (code, name) VALUES ('C1001', 'Duplicate')")
        .execute(&pool)
        .await;
    assert!(dup.is_err(), "duplicate Company ID");
    let orphan_customer = sqlx::query(
        "INSERT INTO users (email, name, role, password_hash) VALUES ('x@y.example', 'X', 'customer', 'h')",
    )
    .execute(&pool)
    .await;
    assert!(orphan_customer.is_err(), "customer without a company");
    let ach_without_document = sqlx::query(
        "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, routing_number, account_type, holder_type) \
         VALUES ((SELECT min(id) FROM companies), 'ach', 'tok_x', 'X', '6789', '110000000', 'checking', 'business')",
    )
    .execute(&pool)
    .await;
    assert!(
        ach_without_document.is_err(),
        "ACH without an authorization document"
    );
}

fn config() -> Config {
    Config::for_tests("postgres://unused")
}

async fn user(pool: &PgPool, email: &str, password: &str) -> shared::UserId {
    let mut conn = pool.acquire().await.unwrap();
    users::create(
        &mut conn,
        NewUser {
            email,
            name: "Test Clerk",
            role: Role::Clerk,
            company_id: None,
            password,
        },
    )
    .await
    .unwrap()
}

fn input(email: &str, password: &str) -> LoginInput {
    LoginInput::parse(email, password).unwrap()
}

async fn login_ok(pool: &PgPool, cfg: &Config, email: &str, password: &str) -> users::SignedIn {
    users::login(pool, cfg, &input(email, password), None, None, None, None)
        .await
        .unwrap()
}

async fn login_error(pool: &PgPool, cfg: &Config, email: &str, password: &str) -> AppError {
    match users::login(pool, cfg, &input(email, password), None, None, None, None).await {
        Ok(_) => panic!("{email} signed in with {password:?}"),
        Err(e) => e.into_app(),
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn login_opens_a_session_and_locks_after_ten_failures(pool: PgPool) {
    let cfg = config();
    user(&pool, "kim@settle.example", "right-password").await;
    let ok = login_ok(&pool, &cfg, "KIM@settle.example", "right-password").await;
    assert_eq!(ok.user.email, "kim@settle.example");
    let resolved = sessions::resolve(&pool, &cfg, &ok.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.id, ok.user.id);

    for attempt in 1..=9 {
        let e = login_error(&pool, &cfg, "kim@settle.example", "wrong").await;
        assert_eq!(
            e.message_for("password").as_deref(),
            Some("The email or password is incorrect."),
            "attempt {attempt}"
        );
    }
    let tenth = login_error(&pool, &cfg, "kim@settle.example", "wrong").await;
    assert_eq!(tenth, AppError::LockedOut { minutes: 30 });
    // Locked: even the right password is refused, with the time left.
    let locked = login_error(&pool, &cfg, "kim@settle.example", "right-password").await;
    assert!(
        matches!(locked, AppError::LockedOut { minutes: 29 | 30 }),
        "{locked:?}"
    );
    // After the lock expires the right password works again and the count starts over.
    sqlx::query("UPDATE sign_in_failures SET locked_until = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    login_ok(&pool, &cfg, "kim@settle.example", "right-password").await;
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM sign_in_failures")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 0);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'user.locked_out'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

async fn login_from(
    pool: &PgPool,
    cfg: &Config,
    email: &str,
    password: &str,
    client: &str,
) -> Result<users::SignedIn, AppError> {
    users::login(
        pool,
        cfg,
        &input(email, password),
        None,
        None,
        None,
        Some(client),
    )
    .await
    .map_err(|e| e.into_app())
}

#[sqlx::test(migrations = "./migrations")]
async fn a_strangers_failures_never_lock_the_owner_out(pool: PgPool) {
    let cfg = config();
    user(&pool, "kim@settle.example", "right-password").await;
    for _ in 0..10 {
        let _ = login_from(&pool, &cfg, "kim@settle.example", "guess", "203.0.113.66").await;
    }
    // The stranger's pair is locked, the owner elsewhere is not.
    let stranger = login_from(
        &pool,
        &cfg,
        "kim@settle.example",
        "right-password",
        "203.0.113.66",
    )
    .await;
    assert!(
        matches!(stranger, Err(AppError::LockedOut { .. })),
        "{stranger:?}"
    );
    login_from(
        &pool,
        &cfg,
        "kim@settle.example",
        "right-password",
        "198.51.100.10",
    )
    .await
    .unwrap();
    // An address without an account answers exactly as one with: wrong, then locked.
    for attempt in 1..=9 {
        let e = login_from(
            &pool,
            &cfg,
            "nobody@settle.example",
            "guess",
            "203.0.113.66",
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.message_for("password").as_deref(),
            Some("The email or password is incorrect."),
            "{attempt}"
        );
    }
    assert_eq!(
        login_from(
            &pool,
            &cfg,
            "nobody@settle.example",
            "guess",
            "203.0.113.66"
        )
        .await
        .unwrap_err(),
        AppError::LockedOut { minutes: 30 }
    );
    // A client that fails at 100 addresses in the hour is refused before any check.
    sqlx::query("UPDATE rate_windows SET used = 100 WHERE key = 'sign-in-client:203.0.113.66'")
        .execute(&pool)
        .await
        .unwrap();
    let refused = login_from(&pool, &cfg, "someone@settle.example", "x", "203.0.113.66").await;
    assert!(
        matches!(refused, Err(AppError::LockedOut { .. })),
        "{refused:?}"
    );
    login_from(
        &pool,
        &cfg,
        "kim@settle.example",
        "right-password",
        "198.51.100.10",
    )
    .await
    .unwrap();
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_email_gets_the_same_answer_as_a_wrong_password(pool: PgPool) {
    let e = login_error(&pool, &config(), "nobody@settle.example", "x").await;
    assert_eq!(
        e.message_for("password").as_deref(),
        Some("The email or password is incorrect.")
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn sessions_rotate_expire_and_end(pool: PgPool) {
    let mut cfg = config();
    let id = user(&pool, "lee@settle.example", "pw-123456").await;
    let first = login_ok(&pool, &cfg, "lee@settle.example", "pw-123456").await;
    // Signing in again from the same browser replaces the session id.
    let second = users::login(
        &pool,
        &cfg,
        &input("lee@settle.example", "pw-123456"),
        None,
        Some(&first.token),
        None,
        None,
    )
    .await
    .unwrap();
    assert_ne!(first.token, second.token);
    assert!(sessions::resolve(&pool, &cfg, &first.token)
        .await
        .unwrap()
        .is_none());
    assert!(sessions::resolve(&pool, &cfg, &second.token)
        .await
        .unwrap()
        .is_some());
    // Only a hash of the token is stored.
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
    )
    .bind(&second.token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    // Idle too long.
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(sessions::resolve(&pool, &cfg, &second.token)
        .await
        .unwrap()
        .is_none());
    cfg.session_idle = Duration::from_secs(3600);
    assert!(sessions::resolve(&pool, &cfg, &second.token)
        .await
        .unwrap()
        .is_some());
    // Past the absolute limit, however active.
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(sessions::resolve(&pool, &cfg, &second.token)
        .await
        .unwrap()
        .is_none());
    assert_eq!(sessions::purge_expired(&pool).await.unwrap(), 1);

    // A disabled user's sessions stop working.
    let third = login_ok(&pool, &cfg, "lee@settle.example", "pw-123456").await;
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(sessions::resolve(&pool, &cfg, &third.token)
        .await
        .unwrap()
        .is_none());
    let e = login_error(&pool, &cfg, "lee@settle.example", "pw-123456").await;
    assert!(e.message_for("email").unwrap().contains("disabled"));
}

#[tokio::test]
async fn an_unreachable_database_fails_fast_with_one_clear_line() {
    let started = std::time::Instant::now();
    let err = server::db::connect("postgres://settle@127.0.0.1:1/settle", 2)
        .await
        .expect_err("no server listens on port 1");
    let line = err.to_string();
    assert!(
        line.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/settle: "),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let bad = server::db::connect("not a url", 2)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        bad.starts_with("DATABASE_URL is not a valid PostgreSQL URL"),
        "{bad}"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_housekeeping_unit_runs_on_one_instance_at_a_time(pool: PgPool) {
    use server::housekeeping::{exclusively, Unit};
    let (started, release) = (
        std::sync::Arc::new(tokio::sync::Notify::new()),
        std::sync::Arc::new(tokio::sync::Notify::new()),
    );
    let (s, r) = (started.clone(), release.clone());
    let first = tokio::spawn({
        let pool = pool.clone();
        async move {
            exclusively(&pool, Unit::Reconcile, async move {
                s.notify_one();
                r.notified().await;
                1
            })
            .await
            .unwrap()
        }
    });
    started.notified().await;
    // Another instance (another connection) finds the unit taken, and runs nothing.
    let ran = std::sync::atomic::AtomicBool::new(false);
    let second = exclusively(&pool, Unit::Reconcile, async {
        ran.store(true, std::sync::atomic::Ordering::SeqCst);
    })
    .await
    .unwrap();
    assert_eq!(second, None);
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    // A different unit is free meanwhile.
    assert_eq!(
        exclusively(&pool, Unit::AchSync, async { 2 })
            .await
            .unwrap(),
        Some(2)
    );
    release.notify_one();
    assert_eq!(first.await.unwrap(), Some(1));
    // Released: the next pass runs.
    assert_eq!(
        exclusively(&pool, Unit::Reconcile, async { 3 })
            .await
            .unwrap(),
        Some(3)
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_unit_that_panics_or_is_cancelled_leaves_its_lock_behind(pool: PgPool) {
    use server::housekeeping::{exclusively, Unit};
    // A small pool, as an instance's: the connection that held the lock goes back to it.
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let panicked = tokio::spawn({
        let small = small.clone();
        async move {
            exclusively(&small, Unit::AchSync, async {
                panic!("the unit fails half way");
            })
            .await
        }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    // Cancelled mid-way (its instance stops waiting for it).
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        exclusively(&small, Unit::AchSync, std::future::pending::<()>()),
    )
    .await;
    assert!(cancelled.is_err());
    // The next tick, on the same pooled connection, and another instance: both get the unit.
    assert_eq!(
        exclusively(&small, Unit::AchSync, async { 1 })
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        exclusively(&pool, Unit::AchSync, async { 2 })
            .await
            .unwrap(),
        Some(2)
    );
    // This database's advisory locks only: the test harness takes its own, in another database,
    // while it creates the databases of tests running beside this one.
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(held, 0, "no advisory lock outlives its unit");
}

async fn session_of(pool: &PgPool, email: &str) -> String {
    let id: shared::UserId = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sessions::create(&mut conn, id, &config(), None)
        .await
        .unwrap()
}

async fn acting_as(pool: &PgPool, email: &str, role: Role) -> server::authority::Principal {
    let id: shared::UserId = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap();
    server::authority::Principal::of_session(shared::auth::SessionUser {
        id,
        name: email.into(),
        email: email.into(),
        role,
        company: None,
    })
    .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn admins_disable_and_promote_staff_but_never_themselves_or_the_last_admin(pool: PgPool) {
    seeded(&pool).await;
    let cfg = config();
    let admin = acting_as(&pool, "admin@settle.example", Role::Admin)
        .await
        .admin()
        .unwrap();
    let clerk_session = session_of(&pool, "clerk@settle.example").await;
    server::people::invitations::request_reset(&pool, &cfg, "clerk@settle.example", None)
        .await
        .unwrap();
    let clerk = acting_as(&pool, "clerk@settle.example", Role::Clerk).await;
    let clerk_id = clerk.initiator().unwrap();
    // A clerk changes no one: the door gives them no admin capability (and the calls take
    // nothing else).
    assert_eq!(clerk.admin().unwrap_err(), AppError::Forbidden);
    // Disabled: signed out at once, their reset link spent, no sign-in, no new reset.
    users::set_staff_active(&pool, &admin, clerk_id, false)
        .await
        .unwrap();
    assert!(sessions::resolve(&pool, &cfg, &clerk_session)
        .await
        .unwrap()
        .is_none());
    let open_links: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_tokens WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(clerk_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(open_links, 0);
    let e = login_error(&pool, &cfg, "clerk@settle.example", "demo-clerk-pass").await;
    assert_eq!(e.field().unwrap().field, "email", "{e:?}");
    // Enabled again, and made an admin.
    users::set_staff_active(&pool, &admin, clerk_id, true)
        .await
        .unwrap();
    login_ok(&pool, &cfg, "clerk@settle.example", "demo-clerk-pass").await;
    users::set_staff_role(&pool, &admin, clerk_id, Role::Admin)
        .await
        .unwrap();
    let role: Role = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(clerk_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, Role::Admin);
    // Nobody changes their own account here.
    for refused in [
        users::set_staff_active(&pool, &admin, admin.id(), false).await,
        users::set_staff_role(&pool, &admin, admin.id(), Role::Clerk).await,
    ] {
        assert_eq!(
            refused.unwrap_err().into_app().field().unwrap().field,
            "user"
        );
    }
    // The first admin made a clerk by the second; then the second is the last active admin:
    // a stale session that still says admin cannot take that away.
    let second = acting_as(&pool, "clerk@settle.example", Role::Admin)
        .await
        .admin()
        .unwrap();
    users::set_staff_role(&pool, &second, admin.id(), Role::Clerk)
        .await
        .unwrap();
    let stale = acting_as(&pool, "admin@settle.example", Role::Admin)
        .await
        .admin()
        .unwrap();
    for refused in [
        users::set_staff_active(&pool, &stale, clerk_id, false).await,
        users::set_staff_role(&pool, &stale, clerk_id, Role::Clerk).await,
    ] {
        let e = refused.unwrap_err().into_app();
        assert!(e.to_string().contains("last active admin"), "{e}");
    }
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action IN ('user.disabled', 'user.enabled', 'user.role_changed')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 4);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_tokenizer_limit_is_shared_by_every_instance(pool: PgPool) {
    use server::gateway::sandbox::TOKENIZE_LIMIT;
    // Two instances: two gateways on one database, one caller alternating between them.
    let (a, b) = (gw(&pool), gw(&pool));
    for i in 0..TOKENIZE_LIMIT {
        let g = if i % 2 == 0 { &a } else { &b };
        assert!(g.allow_tokenization("203.0.113.9").await.unwrap(), "{i}");
    }
    assert!(!a.allow_tokenization("203.0.113.9").await.unwrap());
    assert!(!b.allow_tokenization("203.0.113.9").await.unwrap());
    // Another caller is unaffected.
    assert!(b.allow_tokenization("203.0.113.10").await.unwrap());
}

#[sqlx::test(migrations = "./migrations")]
async fn the_large_book_keeps_the_ledger_and_the_kept_company_figures(pool: PgPool) {
    use server::large::{self, Loaded, Scale};
    seeded(&pool).await;
    let scale = Scale {
        companies: 40,
        invoices: 2_000,
        big_company_invoices: 300,
    };
    let loaded = large::load(&pool, scale, today()).await.unwrap();
    assert_eq!(
        loaded,
        Loaded {
            companies: 40,
            invoices: 2_000,
            methods: 80,
            payments: 1_000,
        }
    );
    assert_eq!(server::ledger::balances_off(&pool).await.unwrap(), 0);
    assert_eq!(
        server::ledger::company_balances_off(&pool).await.unwrap(),
        0
    );
    // The big company's figures come from the kept row, and agree with its invoices.
    let code = CompanyCode::parse(&large::company_code(1)).unwrap();
    let id = server::authority::id_of(&pool, &code).await.unwrap();
    let detail = companies::detail(&pool, &scope(id), today()).await.unwrap();
    assert_eq!(detail.open_invoices, 300);
    // Every kind of change keeps the kept figures: a part payment, a payment in full of
    // several companies' invoices in one statement, a new invoice, a deleted one.
    for sql in [
        "UPDATE invoices SET balance = balance - 1 WHERE id IN (SELECT id FROM invoices WHERE balance > 1 ORDER BY id LIMIT 5)",
        "UPDATE invoices SET balance = 0 WHERE id IN (SELECT id FROM invoices WHERE balance > 0 ORDER BY id DESC LIMIT 50)",
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance) \
         SELECT id, 'NEW-' || id, DATE '2026-11-01', DATE '2026-12-01', 10, 10 FROM companies ORDER BY id LIMIT 3",
        "DELETE FROM invoices WHERE number LIKE 'NEW-%' AND company_id = (SELECT min(id) FROM companies)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
        assert_eq!(server::ledger::company_balances_off(&pool).await.unwrap(), 0, "{sql}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_large_company_s_invoices_page_sort_and_filter_on_the_server(pool: PgPool) {
    use server::large::{self, Scale};
    let scale = Scale {
        companies: 10,
        invoices: 3_000,
        big_company_invoices: 1_200,
    };
    large::load(&pool, scale, today()).await.unwrap();
    let code = CompanyCode::parse(&large::company_code(1)).unwrap();
    let id = server::authority::id_of(&pool, &code).await.unwrap();
    let every = all_open(&pool, id).await;
    assert_eq!(every.len(), 1_200);
    let page = |q: InvoiceQuery, per_page: i64| {
        let pool = pool.clone();
        async move {
            let s = InvoiceSearch::parse(&q).unwrap();
            server::invoices::search(&pool, &scope(id), &s, per_page, today())
                .await
                .unwrap()
        }
    };
    let query = |q: &str, aging: &str, sort: &str, dir: &str, page: i64| InvoiceQuery {
        q: q.into(),
        aging: aging.into(),
        sort: sort.into(),
        dir: dir.into(),
        page,
    };
    // Unfiltered: the kept figures, and pages that together are the whole list, in order.
    let first = page(query("", "", "", "", 1), 50).await;
    let sum: Decimal = every.iter().map(|i| i.balance.amount()).sum();
    assert_eq!((first.page.total, first.balance.amount()), (1_200, sum));
    let mut paged = Vec::new();
    for p in 1..=24 {
        paged.extend(page(query("", "", "", "", p), 50).await.page.items);
    }
    assert_eq!(paged, every);
    // A page past the end is the last page.
    assert_eq!(page(query("", "", "", "", 99), 50).await.page.page, 24);
    // Every order, both ways.
    for sort in InvoiceSort::ALL {
        for dir in ["asc", "desc"] {
            let items = page(query("", "", sort.key(), dir, 1), 2_000)
                .await
                .page
                .items;
            let key = |i: &shared::invoice::OpenInvoice| match sort {
                InvoiceSort::Number => (0, i.number.clone()),
                InvoiceSort::Due | InvoiceSort::DaysOverdue => {
                    (0, format!("{}{}", i.due_date, i.number))
                }
                InvoiceSort::Balance => (0, format!("{:020}", i.balance.amount())),
            };
            let ordered = items.windows(2).all(|w| match (sort, dir) {
                (InvoiceSort::DaysOverdue, "desc") => w[0].due_date <= w[1].due_date,
                (InvoiceSort::DaysOverdue, _) => w[0].due_date >= w[1].due_date,
                (_, "asc") => key(&w[0]) <= key(&w[1]),
                _ => key(&w[0]) >= key(&w[1]),
            });
            assert!(ordered, "{sort:?} {dir}");
            assert_eq!(items.len(), 1_200);
        }
    }
    // Aging buckets: exactly the invoices of the bucket, with their count and balance.
    for bucket in AgingBucket::ALL {
        let got = page(query("", bucket.key(), "", "", 1), 2_000).await;
        let want: Vec<_> = every
            .iter()
            .filter(|i| i.aging() == bucket)
            .cloned()
            .collect();
        let want_sum: Decimal = want.iter().map(|i| i.balance.amount()).sum();
        assert_eq!(got.page.total, want.len() as i64, "{bucket:?}");
        assert_eq!(got.balance.amount(), want_sum, "{bucket:?}");
        assert_eq!(got.page.items, want, "{bucket:?}");
    }
    // A search by part of an invoice or PO number, case aside; a search that matches nothing.
    let got = page(query("l-10001", "", "", "", 1), 2_000).await;
    assert!(got.page.total > 0);
    assert!(got.page.items.iter().all(|i| i.number.contains("L-10001")));
    let po = every.iter().find_map(|i| i.po_number.clone()).unwrap();
    let got = page(query(&po.to_lowercase(), "", "", "", 1), 2_000).await;
    assert!(got
        .page
        .items
        .iter()
        .all(|i| i.po_number.as_deref() == Some(po.as_str())));
    let none = page(query("no-such-invoice", "", "", "", 1), 50).await;
    assert_eq!((none.page.total, none.page.items.len()), (0, 0));
    assert!(none.balance.amount().is_zero());
    // Wildcards are searched for, not obeyed.
    assert_eq!(page(query("%", "", "", "", 1), 50).await.page.total, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn searches_at_scale_count_to_a_limit_and_put_the_exact_company_first(pool: PgPool) {
    use server::companies::SEARCH_COUNT_LIMIT;
    use server::large::{self, Scale};
    use shared::page::Total;
    let scale = Scale {
        companies: 12_000,
        invoices: 100,
        big_company_invoices: 10,
    };
    large::load(&pool, scale, today()).await.unwrap();
    // The whole book past 10,000 companies: the planner's estimate, said to be one.
    let book = companies::search(&pool, &staff(), &search(""), 1, today())
        .await
        .unwrap();
    assert_eq!(book.total_is, Total::About);
    assert!((11_000..13_000).contains(&book.total), "{}", book.total);
    // A deep page of the whole book, in order.
    let deep = companies::search(&pool, &staff(), &search(""), 200, today())
        .await
        .unwrap();
    assert_eq!((deep.page, deep.items.len()), (200, 50));
    assert!(deep
        .items
        .windows(2)
        .all(|w| w[0].name.to_lowercase() <= w[1].name.to_lowercase()));
    // A search matching most of the book: counting stops at the limit.
    let most = companies::search(&pool, &staff(), &search("c0"), 1, today())
        .await
        .unwrap();
    assert_eq!(
        (most.total, most.total_is),
        (SEARCH_COUNT_LIMIT, Total::AtLeast)
    );
    assert_eq!(most.items.len(), 50);
    // Two common letters, counted, each page in name order.
    let common = companies::search(&pool, &staff(), &search("an"), 2, today())
        .await
        .unwrap();
    assert_eq!(common.total_is, Total::Exact);
    assert!(common
        .items
        .windows(2)
        .all(|w| w[0].name.to_lowercase() <= w[1].name.to_lowercase()));
    assert!(common
        .items
        .iter()
        .all(|c| c.name.to_lowercase().contains("an") || c.code.as_str().contains("AN")));
    // A search that is also a Company ID: that company first on page 1 only, every match
    // once across the pages, case aside.
    let code = large::company_code(1_000);
    let mut seen = HashSet::new();
    let first = companies::search(
        &pool,
        &staff(),
        &search(&code[..5].to_lowercase()),
        1,
        today(),
    )
    .await
    .unwrap();
    assert_eq!(first.total_is, Total::Exact);
    assert!(first.total > 50, "{}", first.total);
    for p in 1..=first.last_page() {
        let page = companies::search(&pool, &staff(), &search(&code[..5]), p, today())
            .await
            .unwrap();
        for c in page.items {
            assert!(c.code.as_str().starts_with(&code[..5]), "{}", c.code);
            assert!(seen.insert(c.code.to_string()), "{} twice", c.code);
        }
    }
    assert_eq!(seen.len() as i64, first.total);
    let exact = companies::search(&pool, &staff(), &search(&code.to_lowercase()), 1, today())
        .await
        .unwrap();
    assert_eq!(exact.items[0].code.as_str(), code);
    // A Company ID inside 100 others ("C0019" is in "C001900"…): exact first, then the
    // others by name, none twice over the pages.
    sqlx::query("INSERT INTO companies (code, name) VALUES ('C0019', 'Zephyr Holdings')")
        .execute(&pool)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let p1 = companies::search(&pool, &staff(), &search("c0019"), 1, today())
        .await
        .unwrap();
    assert_eq!((p1.total, p1.last_page()), (101, 3));
    assert_eq!(p1.items[0].code.as_str(), "C0019");
    for p in 1..=p1.last_page() {
        for c in companies::search(&pool, &staff(), &search("c0019"), p, today())
            .await
            .unwrap()
            .items
        {
            assert!(!seen.contains(&c.code.to_string()), "{} twice", c.code);
            seen.push(c.code.to_string());
        }
    }
    assert_eq!(seen.len(), 101);
    assert!(seen[1..].iter().all(|c| c != "C0019"));
}

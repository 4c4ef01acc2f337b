//! A large book for benchmarks and load tests (`make seed-large`): by default 100,000
//! companies, 1,000,000 invoices (one company holds 10,000 open ones), 200,000 saved cards and
//! 500,000 recorded payments, on top of the demo data, loaded with `COPY`.
//!
//! Everything is derived from row numbers (no randomness), so two loads are identical, and
//! the rows keep the ledger's rules: each invoice's balance is its total less its payments.

use crate::Result;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::PgPool;
use std::fmt::Write;

/// How much to load.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub companies: i64,
    pub invoices: i64,
    /// Open invoices of the first company (`C000001`), out of `invoices`.
    pub big_company_invoices: i64,
}

impl Scale {
    pub const FULL: Scale = Scale {
        companies: 100_000,
        invoices: 1_000_000,
        big_company_invoices: 10_000,
    };
}

/// What was loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub companies: i64,
    pub invoices: i64,
    pub methods: i64,
    pub payments: i64,
}

/// The Company ID of the `n`th large company (from 1): `C000001`, …
pub fn company_code(n: i64) -> String {
    format!("C{n:06}")
}

const FIRST: [&str; 40] = [
    "Harbor",
    "Summit",
    "Cedar",
    "Northgate",
    "Lakeside",
    "Ironwood",
    "Prairie",
    "Coastal",
    "Redstone",
    "Mountain",
    "Keystone",
    "Riverbend",
    "Silverline",
    "Granite",
    "Oak",
    "Bayshore",
    "Pioneer",
    "Maple",
    "Falcon",
    "Evergreen",
    "Willow",
    "Beacon",
    "Copper",
    "Highland",
    "Meridian",
    "Sterling",
    "Timber",
    "Union",
    "Valley",
    "Westfield",
    "Aspen",
    "Blue Ridge",
    "Canyon",
    "Delta",
    "Eastwood",
    "Frontier",
    "Golden",
    "Heritage",
    "Liberty",
    "Orchard",
];
const SECOND: [&str; 25] = [
    "Construction",
    "Mechanical",
    "Electric",
    "Plumbing",
    "Facilities",
    "Supply",
    "Fabrication",
    "Roofing",
    "Services",
    "Builders",
    "Landscaping",
    "Properties",
    "Clinic",
    "Auto Body",
    "Contractors",
    "Cabinetry",
    "Marine",
    "Maintenance",
    "Bakery",
    "Logistics",
    "Hotels",
    "Fire Protection",
    "Dental",
    "Living",
    "Boatworks",
];
const SUFFIX: [&str; 8] = [
    "Inc", "LLC", "Co", "Group", "Partners", "Ltd", "Corp", "& Sons",
];

fn company_name(n: i64) -> String {
    let n = n as usize;
    format!(
        "{} {} {}",
        FIRST[n % 40],
        SECOND[(n / 40) % 25],
        SUFFIX[(n / 1000) % 8]
    )
}

/// Loads `scale` into a database that holds the demo data (or nothing), one `COPY` per table.
pub async fn load(pool: &PgPool, scale: Scale, today: NaiveDate) -> Result<Loaded> {
    load_with_progress(pool, scale, today, |_, _| {}).await
}

/// [`load`], telling `progress` each step's name and how long it took.
pub async fn load_with_progress(
    pool: &PgPool,
    scale: Scale,
    today: NaiveDate,
    mut progress: impl FnMut(&str, std::time::Duration),
) -> Result<Loaded> {
    let mut step = std::time::Instant::now();
    let mut done = |name: &str| {
        progress(name, step.elapsed());
        step = std::time::Instant::now();
    };
    let base = |table: &str| format!("SELECT COALESCE(max(id), 0) FROM {table}");
    let company0: i64 = sqlx::query_scalar(&base("companies"))
        .fetch_one(pool)
        .await?;
    let invoice0: i64 = sqlx::query_scalar(&base("invoices"))
        .fetch_one(pool)
        .await?;
    let method0: i64 = sqlx::query_scalar(&base("payment_methods"))
        .fetch_one(pool)
        .await?;
    let payment0: i64 = sqlx::query_scalar(&base("payments"))
        .fetch_one(pool)
        .await?;
    let mut loaded = Loaded::default();
    // A book loaded in bulk is history, not news: no events (feed, webhooks) for its rows.
    sqlx::query("ALTER TABLE payments DISABLE TRIGGER payments_event")
        .execute(pool)
        .await?;
    sqlx::query("ALTER TABLE payment_methods DISABLE TRIGGER methods_event")
        .execute(pool)
        .await?;

    let mut rows = Copy::new(pool, "COPY companies (id, code, name) FROM STDIN");
    for n in 1..=scale.companies {
        rows.row(format_args!(
            "{}\t{}\t{}",
            company0 + n,
            company_code(n),
            company_name(n)
        ))
        .await?;
    }
    loaded.companies = rows.finish().await?;
    done("companies");

    // Two saved cards per company: a Visa (the default) and a Mastercard, with the sandbox's
    // tokens behind them.
    let mut tokens = Copy::new(
        pool,
        "COPY sandbox_tokens (token, kind, behaviour, brand, last4, exp_month, exp_year) FROM STDIN",
    );
    let mut methods = Copy::new(
        pool,
        "COPY payment_methods (id, company_id, kind, gateway_token, holder_name, last4, card_brand, \
         exp_month, exp_year, is_default) FROM STDIN",
    );
    for n in 1..=scale.companies {
        for (k, brand, last4) in [(0, "visa", "4242"), (1, "mastercard", "4444")] {
            let token = format!("tok_large_{n}_{k}");
            tokens
                .row(format_args!(
                    "{token}\tcard\tapprove\t{brand}\t{last4}\t12\t2030"
                ))
                .await?;
            methods
                .row(format_args!(
                    "{}\t{}\tcard\t{token}\tAccounts Payable\t{last4}\t{brand}\t12\t2030\t{}",
                    method0 + 2 * (n - 1) + k + 1,
                    company0 + n,
                    if k == 0 { "t" } else { "f" }
                ))
                .await?;
        }
    }
    tokens.finish().await?;
    loaded.methods = methods.finish().await?;
    done("payment methods and their tokens");

    // Invoices, their payments and the allocations stream side by side as three COPYs that
    // end in this order: each COPY checks its foreign keys when it ends, by which time the
    // invoices and payments it names are committed.
    // Invoices: the big company's first (all open, every other one part paid), then the rest
    // spread over the other companies: a quarter paid in full, a quarter part paid.
    let mut invoices = Copy::new(
        pool,
        "COPY invoices (id, company_id, number, po_number, issue_date, due_date, total, balance) FROM STDIN",
    );
    let mut payments = Copy::new(
        pool,
        "COPY payments (id, number, company_id, amount, status, memo, created_at, updated_at) FROM STDIN",
    );
    let mut allocations = Copy::new(
        pool,
        "COPY payment_allocations (payment_id, invoice_id, amount, balance_after) FROM STDIN",
    );
    let mut payment = payment0;
    let others = (scale.companies - 1).max(1);
    for g in 0..scale.invoices {
        let id = invoice0 + g + 1;
        let big = g < scale.big_company_invoices;
        let company = if big { 1 } else { 2 + (g % others) };
        let overdue = (g * 7) % 200 - 30;
        let due = today - Duration::days(overdue);
        let issue = due - Duration::days(30);
        let total = Decimal::new(1_000 + (g * 3_131) % 2_500_000, 2);
        let paid = match (big, g % 4) {
            (true, 0 | 2) | (false, 1) => (total / Decimal::TWO).round_dp(2),
            (false, 0) => total,
            _ => Decimal::ZERO,
        };
        let po = if g % 10 < 7 {
            format!("PO-{}", 10_000 + (g * 13) % 90_000)
        } else {
            "\\N".to_string()
        };
        invoices
            .row(format_args!(
                "{id}\t{}\tL-{}\t{po}\t{issue}\t{due}\t{total}\t{}",
                company0 + company,
                100_000 + g,
                total - paid
            ))
            .await?;
        if paid > Decimal::ZERO {
            payment += 1;
            let on = (issue + Duration::days(10 + g % 20)).min(today);
            payments
                .row(format_args!(
                    "{payment}\tL-P-{payment}\t{}\t{paid}\tsettled\tCheck {}\t{on} 10:30:00+00\t{on} 10:30:00+00",
                    company0 + company,
                    1_000 + g % 9_000
                ))
                .await?;
            allocations
                .row(format_args!("{payment}\t{id}\t{paid}\t{}", total - paid))
                .await?;
        }
    }
    loaded.invoices = invoices.finish().await?;
    done("invoices");
    loaded.payments = payments.finish().await?;
    done("payments");
    allocations.finish().await?;
    done("allocations");

    for (table, seq) in [
        ("companies", "companies_id_seq"),
        ("invoices", "invoices_id_seq"),
        ("payment_methods", "payment_methods_id_seq"),
        ("payments", "payments_id_seq"),
    ] {
        sqlx::query(&format!(
            "SELECT setval('{seq}', (SELECT max(id) FROM {table}))"
        ))
        .execute(pool)
        .await?;
    }
    sqlx::query("ALTER TABLE payments ENABLE TRIGGER payments_event")
        .execute(pool)
        .await?;
    sqlx::query("ALTER TABLE payment_methods ENABLE TRIGGER methods_event")
        .execute(pool)
        .await?;
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    done("sequences, VACUUM ANALYZE");
    Ok(loaded)
}

/// One `COPY … FROM STDIN` in text format, sent in chunks of about 1 MB.
struct Copy<'a> {
    pool: &'a PgPool,
    statement: &'static str,
    copy: Option<sqlx::postgres::PgCopyIn<sqlx::pool::PoolConnection<sqlx::Postgres>>>,
    buf: String,
}

impl<'a> Copy<'a> {
    fn new(pool: &'a PgPool, statement: &'static str) -> Self {
        Copy {
            pool,
            statement,
            copy: None,
            buf: String::with_capacity(1 << 20),
        }
    }

    async fn row(&mut self, row: std::fmt::Arguments<'_>) -> Result<()> {
        self.buf
            .write_fmt(row)
            .expect("writing to a String cannot fail");
        self.buf.push('\n');
        if self.buf.len() >= 1 << 20 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.copy.is_none() {
            self.copy = Some(self.pool.copy_in_raw(self.statement).await?);
        }
        let copy = self.copy.as_mut().expect("started above");
        copy.send(self.buf.as_bytes()).await?;
        self.buf.clear();
        Ok(())
    }

    /// Sends what is left and ends the COPY; the number of rows copied.
    async fn finish(mut self) -> Result<i64> {
        self.flush().await?;
        let copy = self.copy.take().expect("flush starts the copy");
        Ok(copy.finish().await? as i64)
    }
}

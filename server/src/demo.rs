//! Demo data: about 40 companies with contacts and ~600 invoices spread over every aging
//! bucket (some partly paid, some paid), staff and customer users. Seeded only into an empty
//! database, so running it again changes nothing.

use crate::audit::{self, Action, Actor, Entity, Event};
use crate::gateway::{PaymentGateway, TEST_ACH_RETURNS, TEST_ACH_SETTLES, TEST_ROUTING};
use crate::people::users::{self, NewUser};
use crate::Result;
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::Digest;
use shared::auth::{DemoAccount, Role};
use shared::card::CardNumber;
use shared::CompanyId;
use sqlx::{PgConnection, PgPool};

const COMPANIES: [&str; 40] = [
    "Harborview Construction LLC",
    "Blue Ridge Mechanical Inc.",
    "Summit Electrical Contractors",
    "Cedar Creek Plumbing & Heating",
    "Northgate Facilities Group",
    "Lakeside Restaurant Supply Co.",
    "Ironwood Fabrication Works",
    "Prairie State Roofing",
    "Coastal HVAC Services",
    "Redstone Builders Inc.",
    "Mountain West Landscaping",
    "Keystone Property Management",
    "Riverbend Medical Clinic",
    "Silverline Auto Body",
    "Granite Peak General Contractors",
    "Oak Hollow Cabinetry",
    "Bayshore Marine Repair",
    "Pioneer Industrial Maintenance",
    "Maple Street Bakery Group",
    "Falcon Logistics Corp.",
    "Evergreen School District Facilities",
    "Copperfield Hotel & Suites",
    "Tri-County Fire Protection",
    "Westfield Dental Partners",
    "Sunrise Senior Living",
    "Anchor Point Boatworks",
    "Heritage Flooring Co.",
    "Brightwater Pool & Spa",
    "Midland Steel Erectors",
    "Crescent City Catering",
    "Valley Verde Farms",
    "Stonebridge Masonry",
    "Pinecrest Golf Club",
    "Metro Transit Fleet Services",
    "Kingsley Commercial Painting",
    "Union Square Office Interiors",
    "Timberline Millwork",
    "Clearwater Water Treatment",
    "Hillside Veterinary Hospital",
    "Grand Avenue Glass & Door",
];

const FIRST: [&str; 16] = [
    "Maria", "James", "Aisha", "Robert", "Chen", "Linda", "Diego", "Sarah", "Kwame", "Emily",
    "Tom", "Priya", "Olga", "Marcus", "Hannah", "Luis",
];
const LAST: [&str; 16] = [
    "Alvarez",
    "Thompson",
    "Okafor",
    "Nguyen",
    "Schmidt",
    "Patel",
    "Murphy",
    "Kowalski",
    "Rossi",
    "Johansson",
    "Brooks",
    "Tanaka",
    "Fischer",
    "Reyes",
    "Walsh",
    "Haddad",
];

/// Staff demo sign-ins.
pub const ADMIN: (&str, &str) = ("admin@settle.example", "demo-admin-pass");
pub const CLERK: (&str, &str) = ("clerk@settle.example", "demo-clerk-pass");
/// Every demo customer user signs in with this password.
pub const CUSTOMER_PASSWORD: &str = "demo-customer-pass";
/// Companies (by Company ID) that get a customer user.
pub const CUSTOMER_COMPANIES: [&str; 5] = ["C1001", "C1002", "C1003", "C1006", "C1013"];

/// The email of the demo customer user of `code` (e.g. `ap@c1001.example`).
pub fn customer_email(code: &str) -> String {
    format!("ap@{}.example", code.to_ascii_lowercase())
}

/// The demo sign-ins shown on the login page in demo mode.
pub fn accounts() -> Vec<DemoAccount> {
    let mut out = vec![
        DemoAccount {
            label: Role::Admin.label().into(),
            email: ADMIN.0.into(),
            password: ADMIN.1.into(),
        },
        DemoAccount {
            label: Role::Clerk.label().into(),
            email: CLERK.0.into(),
            password: CLERK.1.into(),
        },
    ];
    out.extend(CUSTOMER_COMPANIES.iter().take(2).map(|code| DemoAccount {
        label: format!("{} ({code})", Role::Customer.label()),
        email: customer_email(code),
        password: CUSTOMER_PASSWORD.into(),
    }));
    out
}

#[derive(Debug, PartialEq, Eq)]
pub enum SeedReport {
    /// The database already had companies: nothing was added.
    AlreadySeeded,
    Seeded {
        companies: usize,
        invoices: usize,
        users: usize,
    },
}

/// Seeds the demo data into an empty database, dated around today.
pub async fn seed(pool: &PgPool, gateway: &dyn PaymentGateway) -> Result<SeedReport> {
    seed_as_of(pool, gateway, crate::companies::today()).await
}

/// Seeds the demo data with invoices dated around `today`. Concurrent calls are serialised;
/// only the first into an empty database adds anything.
pub async fn seed_as_of(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    today: NaiveDate,
) -> Result<SeedReport> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock(7243501) AS locked")
        .fetch_one(&mut *tx)
        .await?;
    let has_data = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM companies) AS "any!""#)
        .fetch_one(&mut *tx)
        .await?;
    if has_data {
        return Ok(SeedReport::AlreadySeeded);
    }
    // The demo's history (methods on file, old payments) is not news: no email about it.
    sqlx::query!("SELECT set_config('settle.no_mail', 'on', true) AS quiet")
        .fetch_one(&mut *tx)
        .await?;
    let mut rng = StdRng::seed_from_u64(20261125);
    let mut invoices = 0;
    let mut invoice_no = 240_000;
    let mut company_ids = Vec::new();
    for (i, name) in COMPANIES.iter().enumerate() {
        let code = format!("C{}", 1001 + i);
        let id = sqlx::query_scalar!(
            r#"INSERT INTO companies (code, name, billing_state) VALUES ($1, $2, $3) RETURNING id AS "id: CompanyId""#,
            code,
            name,
            BILLING_STATES[i % BILLING_STATES.len()]
        )
        .fetch_one(&mut *tx)
        .await?;
        company_ids.push((code.clone(), id));
        add_methods(&mut tx, gateway, id, i, name).await?;
        add_contacts(&mut tx, &mut rng, id, name).await?;
        let count = rng.gen_range(8..=22);
        for _ in 0..count {
            invoice_no += rng.gen_range(1..=9);
            add_invoice(&mut tx, &mut rng, id, invoice_no, today).await?;
            invoices += 1;
        }
    }
    let mut users_added = 0;
    for (email, password, role, name) in [
        (ADMIN.0, ADMIN.1, Role::Admin, "Avery Admin"),
        (CLERK.0, CLERK.1, Role::Clerk, "Casey Clerk"),
    ] {
        users::create(
            &mut tx,
            NewUser {
                email,
                name,
                role,
                company_id: None,
                password,
            },
        )
        .await?;
        users_added += 1;
    }
    for code in CUSTOMER_COMPANIES {
        let (_, company_id) = company_ids
            .iter()
            .find(|(c, _)| c == code)
            .expect("customer company exists");
        let name = format!(
            "{} {}",
            FIRST[rng.gen_range(0..FIRST.len())],
            LAST[rng.gen_range(0..LAST.len())]
        );
        users::create(
            &mut tx,
            NewUser {
                email: &customer_email(code),
                name: &name,
                role: Role::Customer,
                company_id: Some(*company_id),
                password: CUSTOMER_PASSWORD,
            },
        )
        .await?;
        users_added += 1;
    }
    audit::record(
        &mut tx,
        Event {
            actor: Actor::SYSTEM,
            on_behalf_of: None,
            action: Action::DemoSeeded,
            entity: Entity::Database,
            entity_id: None,
            details: json!({ "companies": COMPANIES.len(), "invoices": invoices, "as_of": today }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SeedReport::Seeded {
        companies: COMPANIES.len(),
        invoices,
        users: users_added,
    })
}

async fn add_contacts(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    company_id: CompanyId,
    company: &str,
) -> Result<()> {
    let domain: String = company
        .split_whitespace()
        .next()
        .unwrap_or("company")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    for title in ["Accounts Payable", "Controller"]
        .iter()
        .take(rng.gen_range(1..=2))
    {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        sqlx::query!(
            "INSERT INTO contacts (company_id, name, title, email, phone) VALUES ($1, $2, $3, $4, $5)",
            company_id as CompanyId,
            format!("{first} {last}"),
            *title,
            format!("{}.{}@{domain}.example", first.to_lowercase(), last.to_lowercase()),
            format!("(555) {:03}-{:04}", rng.gen_range(200..999), rng.gen_range(0..10000))
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn add_invoice(
    conn: &mut PgConnection,
    rng: &mut StdRng,
    company_id: CompanyId,
    number: i64,
    today: NaiveDate,
) -> Result<()> {
    let terms = [15, 30, 30, 30, 45, 60][rng.gen_range(0..6)];
    // Days past due: spread over current (negative = not yet due), 1–30, 31–60, 61–90, 90+.
    let overdue: i64 = match rng.gen_range(0..100) {
        0..=29 => -rng.gen_range(1..=terms),
        30..=54 => rng.gen_range(1..=30),
        55..=69 => rng.gen_range(31..=60),
        70..=81 => rng.gen_range(61..=90),
        _ => rng.gen_range(91..=200),
    };
    let due = today - Duration::days(overdue);
    let issue = due - Duration::days(terms);
    let total = Decimal::new(rng.gen_range(15_000..2_500_000), 2);
    // Some invoices are partly paid, some paid in full.
    let paid = match rng.gen_range(0..100) {
        0..=11 => total,
        12..=29 => (total * Decimal::new(rng.gen_range(15..=80), 2)).round_dp(2),
        _ => Decimal::ZERO,
    };
    let po = (rng.gen_range(0..10) < 7).then(|| format!("PO-{}", rng.gen_range(10_000..99_999)));
    let invoice_id = sqlx::query_scalar!(
        "INSERT INTO invoices (company_id, number, po_number, issue_date, due_date, total, balance) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        company_id as CompanyId,
        format!("INV-{number}"),
        po,
        issue,
        due,
        total,
        total - paid
    )
    .fetch_one(&mut *conn)
    .await?;
    if paid > Decimal::ZERO {
        let paid_on = (issue + Duration::days(rng.gen_range(1..=terms))).min(today);
        let payment_id = sqlx::query_scalar!(
            "INSERT INTO payments (company_id, amount, status, memo, created_at, updated_at) \
             VALUES ($1, $2, 'settled', $3, $4::date + time '10:30', $4::date + time '10:30') RETURNING id",
            company_id as CompanyId,
            paid,
            format!("Check {}", rng.gen_range(1000..9999)),
            paid_on
        )
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT INTO payment_allocations (payment_id, invoice_id, amount) VALUES ($1, $2, $3)",
            payment_id,
            invoice_id,
            paid
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A one-page PDF standing in for a customer's signed ACH debit authorization.
fn authorization_pdf(company: &str) -> Vec<u8> {
    let mut doc = crate::pdf::Document::new("ACH debit authorization");
    doc.page().text(
        72.0,
        720.0,
        12.0,
        false,
        &format!("ACH debit authorization - {company} - signed (demo document)"),
    );
    doc.finish()
}

/// Where the demo companies are billed, in turn: among them a state that refuses card
/// surcharges (Connecticut, the fourth company) and one that caps them (Colorado, the fifth).
const BILLING_STATES: [&str; 10] = ["IL", "TX", "CA", "CT", "CO", "NY", "WA", "GA", "OH", "MA"];

/// Saved methods made through the gateway: every company has a Visa that approves (its
/// default); the first ten also have cards that decline; the first five an ACH account with
/// its authorization document (C1003's is the sandbox account that gets returned).
async fn add_methods(
    conn: &mut PgConnection,
    gateway: &dyn PaymentGateway,
    company_id: CompanyId,
    index: usize,
    company: &str,
) -> Result<()> {
    let holder = format!("{company} AP");
    let mut cards = vec![("4242424242424242", 12, 2029, true)];
    if index < 10 {
        cards.push(("4000000000000002", 8, 2028, false));
        cards.push(("4000000000009995", 3, 2030, false));
    }
    for (number, month, year, default) in cards {
        let number = CardNumber::parse(number)?;
        let token = gateway
            .tokenize_card(&number, month, year)
            .await
            .map_err(|e| crate::Error::Other(e.to_string()))?;
        sqlx::query!(
            "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand, \
                 exp_month, exp_year, is_default, card_funding) VALUES ($1, 'card', $2, $3, $4, $5, $6, $7, $8, $9)",
            company_id as CompanyId,
            token.token,
            holder,
            token.last4,
            token.brand,
            month as i16,
            year as i16,
            default,
            crate::gateway::sandbox::funding_of(number.expose())
        )
        .execute(&mut *conn)
        .await?;
    }
    if index < 5 {
        let account = if index == 2 {
            TEST_ACH_RETURNS
        } else {
            TEST_ACH_SETTLES
        };
        let token = gateway
            .tokenize_bank_account(&crate::gateway::BankAccountNumbers {
                routing_number: TEST_ROUTING,
                account_number: account,
                holder_name: &holder,
                account_type: Some("checking"),
            })
            .await
            .map_err(|e| crate::Error::Other(e.to_string()))?;
        let pdf = authorization_pdf(company);
        let document_id = sqlx::query_scalar!(
            "INSERT INTO documents (company_id, kind, file_name, content_type, size_bytes, sha256, content, signed_on) \
             VALUES ($1, 'ach_authorization', 'ach-authorization.pdf', 'application/pdf', $2, $3, $4, DATE '2026-01-15') \
             RETURNING id",
            company_id as CompanyId,
            pdf.len() as i32,
            sha2::Sha256::digest(&pdf).to_vec(),
            pdf
        )
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, bank_name, \
                 routing_number, account_type, holder_type, authorization_document_id) \
             VALUES ($1, 'ach', $2, $3, $4, $7, $5, 'checking', 'business', $6)",
            company_id as CompanyId,
            token,
            holder,
            &account[account.len() - 4..],
            TEST_ROUTING,
            document_id,
            shared::bank::bank_name(TEST_ROUTING)
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

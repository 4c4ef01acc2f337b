//! Customer statements, read back by independent tools: the PDF rendered page by page by
//! poppler's `pdftoppm` and its text read by `pdftotext`; it says what the aging says, lists
//! every open invoice and the month's payments, and its pay link opens a pay link for the open
//! invoices (the same one on a second download).

use crate::common;

use chrono::Datelike;
use common::{fixture, Fixture};
use server::reports::statements::{self, Statement};
use shared::payment::PaymentOutcome;
use shared::statement::Period;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("settle-statement-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The PDF's text as `pdftotext -layout` reads it, and how many pages `pdftoppm` rendered.
fn read_back(pdf: &[u8], dir: &Path) -> (String, usize) {
    let file = dir.join("statement.pdf");
    std::fs::write(&file, pdf).unwrap();
    let text = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let rendered = Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "40",
            file.to_str().unwrap(),
            dir.join("page").to_str().unwrap(),
        ])
        .output()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(
        rendered.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let pages = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("page") && name.ends_with(".png")
        })
        .count();
    (String::from_utf8(text.stdout).unwrap(), pages)
}

async fn staff_statement(f: &Fixture) -> Statement {
    let today = server::reports::today(&f.pool).await.unwrap();
    statements::for_staff(
        &f.pool,
        &f.config,
        &f.clerk.staff().unwrap(),
        "C1002",
        Period::parse(None, today).unwrap(),
    )
    .await
    .unwrap()
    .expect("C1002")
}

#[sqlx::test(migrations = "./migrations")]
async fn a_statement_pdf_reads_back_as_the_companys_account_with_a_pay_link(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    sqlx::query(
        "UPDATE seller_settings SET statement_remittance = 'Mail checks to: Northwind Supply, PO Box 4410, Dayton OH 45401'",
    )
    .execute(&f.pool)
    .await
    .unwrap();
    // A payment this month.
    let inv = f.open().await[0];
    let PaymentOutcome::Paid(paid) = f.pay_in_full(f.method("4242").await, inv).await.unwrap()
    else {
        panic!("declined")
    };
    let s = staff_statement(&f).await;
    let today = server::reports::today(&f.pool).await.unwrap();
    let aging =
        server::reports::aging::company(&f.pool, &f.clerk.staff().unwrap(), "C1002", Some(today))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        s.account, aging,
        "the statement's account is the aging of its day"
    );
    assert!(!s.account.lines.is_empty());
    let d = dir();
    let (text, pages) = read_back(&statements::pdf(&s), &d);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Northwind Supply".to_string(),
        "Statement".into(),
        s.period.label(),
        s.account.name.clone(),
        "Company ID C1002".into(),
        "Mail checks to: Northwind Supply, PO Box 4410, Dayton OH 45401".into(),
        paid.number.clone(),
        format!("Page {pages} of {pages}"),
    ] {
        assert!(flat.contains(&expected), "{expected:?} not in:\n{text}");
    }
    // The figures under their labels: amount due, open balance, past due, unapplied credit.
    let labels = text
        .lines()
        .position(|l| l.contains("Amount due") && l.contains("Unapplied credit"))
        .unwrap();
    let figures: Vec<String> = text
        .lines()
        .skip(labels + 1)
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let fig = &s.account.figures;
    let usd = |d| shared::money::Money::usd(d).display();
    assert_eq!(
        figures,
        [
            usd(s.amount_due()),
            fig.open.display(),
            usd(fig.open.amount() - fig.buckets[0].amount()),
            fig.unapplied_credit.display()
        ]
    );
    // Every open invoice with its balance, on one line of the layout.
    for l in &s.account.lines {
        assert!(
            text.lines()
                .any(|line| line.contains(&l.number)
                    && line.trim_end().ends_with(&l.balance.display())),
            "{} {} not in:\n{text}",
            l.number,
            l.balance.display()
        );
    }
    // The month's payment, as money in.
    let payment_line = text.lines().find(|l| l.contains(&paid.number)).unwrap();
    assert!(
        payment_line.contains("Payment")
            && payment_line.contains(&format!("-{}", shared::money::Money::usd(inv.1).display())),
        "{payment_line}"
    );
    // The pay link: printed, and a real pay link for the open invoices.
    let url = s.pay.clone().expect("a pay link").url;
    assert!(flat.contains(&url), "{url} not in:\n{text}");
    let token = url.rsplit('/').next().unwrap();
    let link = server::pay_links::resolve(&f.pool, token).await.unwrap();
    let open = f.count("SELECT count(*) FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002') AND status = 'open' AND balance > 0").await;
    assert_eq!(link.scope().id(), f.company_id);
    assert_eq!(
        f.count("SELECT cardinality(invoice_ids)::bigint FROM pay_links ORDER BY id DESC LIMIT 1")
            .await,
        open.min(200)
    );
    // A second download reuses the link; no email goes out for it.
    let again = staff_statement(&f).await;
    assert_eq!(again.pay, s.pay);
    assert_eq!(f.count("SELECT count(*) FROM pay_links").await, 1);
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'pay_link'")
            .await,
        0
    );
    // The portal's statement of the same company points to the portal.
    let customer = f.customer_of("C1002").await;
    let mine = statements::for_customer(&f.pool, &f.config, &f.scope(&customer), s.period)
        .await
        .unwrap();
    assert_eq!(mine.account, s.account);
    let (portal_text, _) = read_back(&statements::pdf(&mine), &dir());
    assert!(
        portal_text.contains(&format!("{}/portal", f.config.public_url)),
        "{portal_text}"
    );
    let _ = std::fs::remove_dir_all(d);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_long_statement_runs_onto_more_pages_each_headed_and_counted(pool: sqlx::PgPool) {
    let f = fixture(pool).await;
    // Ninety more open invoices.
    sqlx::query(
        "INSERT INTO invoices (company_id, number, issue_date, due_date, total, balance) \
         SELECT $1, 'INV-LONG-' || n, current_date - 40, current_date - 10, 100 + n, 100 + n FROM generate_series(1, 90) n",
    )
    .bind(f.company_id)
    .execute(&f.pool)
    .await
    .unwrap();
    let s = staff_statement(&f).await;
    let (text, pages) = read_back(&statements::pdf(&s), &dir());
    assert!(pages >= 3, "{pages} pages");
    assert!(text.contains(&format!("Page 1 of {pages}")));
    assert!(text.contains("continued"));
    for n in [1, 45, 90] {
        assert!(text.contains(&format!("INV-LONG-{n} ")), "INV-LONG-{n}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_schedule_emails_last_months_statement_once_to_each_company_with_a_balance(
    pool: sqlx::PgPool,
) {
    let f = fixture(pool).await;
    let admin = f.admin().await;
    // Off until an admin sets a day.
    assert_eq!(statements::send_due(&f.pool, &f.config).await.unwrap(), 0);
    let today = server::reports::today(&f.pool).await.unwrap();
    let set = |day: &str| {
        shared::statement::StatementSchedule::parse(day, "Wire: Chase 021000021").unwrap()
    };
    if today.day() < 28 {
        // A day still to come this month: nothing yet.
        statements::set_schedule(&f.pool, &admin, &set(&(today.day() + 1).to_string()))
            .await
            .unwrap();
        assert_eq!(statements::send_due(&f.pool, &f.config).await.unwrap(), 0);
    }
    statements::set_schedule(&f.pool, &admin, &set("1"))
        .await
        .unwrap();
    let expected = f
        .count(
            "SELECT count(*) FROM companies c JOIN company_balances b ON b.company_id = c.id \
             WHERE b.open_balance > 0 AND EXISTS (SELECT 1 FROM company_mail_contacts(c.id))",
        )
        .await;
    assert!(expected > 1);
    // Two instances at once: each company's statement is issued once.
    let (a, b) = tokio::join!(
        statements::send_due(&f.pool, &f.config),
        statements::send_due(&f.pool, &f.config)
    );
    assert_eq!((a.unwrap() + b.unwrap()) as i64, expected);
    let last = Period::parse(None, today).unwrap().previous();
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM statements WHERE month = '{}'",
            last.from
        ))
        .await,
        expected
    );
    // Each to every AP contact of its company, once, carrying its statement.
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'statement'")
            .await,
        f.count("SELECT count(*) FROM statements s, company_mail_contacts(s.company_id)")
            .await
    );
    assert_eq!(
        f.count("SELECT count(*) FROM emails e JOIN statements s ON s.id = e.statement_id WHERE e.company_id = s.company_id").await,
        f.count("SELECT count(*) FROM emails WHERE kind = 'statement'").await
    );
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM emails WHERE kind = 'statement' LIMIT 1")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(
        subject.starts_with(&format!("Statement for {}:", last.label())),
        "{subject}"
    );
    // Again: nothing more.
    assert_eq!(statements::send_due(&f.pool, &f.config).await.unwrap(), 0);
    // What was sent reads back: C1002's month, its remittance details, its SHA-256 kept.
    let (pdf, sha): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT pdf, sha256 FROM statements WHERE company_id = $1")
            .bind(f.company_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    use sha2::Digest;
    assert_eq!(sha2::Sha256::digest(&pdf).to_vec(), sha);
    let (text, _) = read_back(&pdf, &dir());
    assert!(text.contains(&last.label()), "{text}");
    assert!(text.contains("Wire: Chase 021000021"), "{text}");
    assert!(text.contains("/pay/"), "{text}");
    let schedule = statements::schedule(&f.pool).await.unwrap();
    assert_eq!(
        (schedule.day, schedule.last_month, schedule.last_count),
        (Some(1), Some(last.month()), expected)
    );
}

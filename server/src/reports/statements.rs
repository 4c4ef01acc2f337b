//! Customer statements (migration 0030): a company's account for a month as a PDF — what it
//! owes and how old (its aging on the month's last day, or today), its open invoices then, the
//! month's payments, refunds and credits, and how to pay (a pay link, the seller's remittance
//! details). Staff download one from the company's page (it carries a pay link to the open
//! invoices, made or reused for the company's first AP contact); customers from the portal (it
//! carries the portal's address).

use super::aging::{self, Named};
use crate::audit::{self, Action, Actor, Entity};
use crate::authority::{Admin, CompanyScope, Staff};
use crate::email::mail::{LinkRef, Mail, StatementMail};
use crate::email::{self, NewEmail};
use crate::links::Purpose;
use crate::pdf::{text_width, Document, Page, HEIGHT, WIDTH};
use crate::{Config, Result};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::Digest;
use shared::aging::Bucket;
use shared::aging::CompanyAging;
use shared::format::date;
use shared::money::Money;
use shared::statement::{Period, StatementSchedule};
use shared::{CompanyId, UserId};
use sqlx::PgPool;

/// One line of the month's activity: money in (negative) or back out (positive).
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub day: NaiveDate,
    pub what: String,
    pub reference: String,
    pub amount: Decimal,
}

/// Where a statement says to pay online: a pay link (its id) or the portal.
#[derive(Clone, Debug, PartialEq)]
pub struct PayOnline {
    pub url: String,
    pub pay_link: Option<i64>,
}

/// What a statement says.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub seller: String,
    pub remittance: String,
    pub period: Period,
    pub time_zone: String,
    pub account: CompanyAging,
    pub activity: Vec<Activity>,
    pub pay: Option<PayOnline>,
}

impl Statement {
    /// What is owed after the unapplied credit is used.
    pub fn amount_due(&self) -> Decimal {
        (self.account.figures.open.amount() - self.account.figures.unapplied_credit.amount())
            .max(Decimal::ZERO)
    }

    /// `statement-C1012-2026-11.pdf`.
    pub fn file_name(&self) -> String {
        format!(
            "statement-{}-{}.pdf",
            shared::document::clean_file_name(&self.account.code),
            self.period.month()
        )
    }
}

/// The month's payments (those returned, declined, failed or voided left out; a return in the
/// month is its own line), refunds and credit memos, in the seller's days.
async fn activity(pool: &PgPool, company: CompanyId, period: Period) -> Result<Vec<Activity>> {
    let rows = sqlx::query!(
        r#"WITH tz AS (SELECT time_zone FROM seller_settings),
           lines AS (
             SELECT COALESCE(p.received_on, (p.created_at AT TIME ZONE tz.time_zone)::date) AS day,
                    'Payment' AS what,
                    p.number || COALESCE(' · ' || p.method_label, ' · ' || p.memo, '') AS reference,
                    -p.amount AS amount
             FROM payments p, tz
             WHERE p.company_id = $1 AND p.status IN ('approved', 'pending', 'settled', 'returned')
             UNION ALL
             SELECT (p.updated_at AT TIME ZONE tz.time_zone)::date, 'Payment returned',
                    p.number || COALESCE(' · ' || p.failure_code, ''), p.amount
             FROM payments p, tz
             WHERE p.company_id = $1 AND p.status = 'returned'
             UNION ALL
             SELECT (r.updated_at AT TIME ZONE tz.time_zone)::date, 'Refund', r.number || ' of ' || p.number, r.amount
             FROM refunds r JOIN payments p ON p.id = r.payment_id, tz
             WHERE p.company_id = $1 AND r.kind = 'refund' AND r.status = 'succeeded'
             UNION ALL
             SELECT (c.created_at AT TIME ZONE tz.time_zone)::date, 'Credit memo', c.number || COALESCE(' · ' || i.number, ''), -c.amount
             FROM credits c JOIN invoices i ON i.id = c.memo_invoice_id, tz
             WHERE c.company_id = $1)
           SELECT day AS "day!", what AS "what!", reference AS "reference!", amount AS "amount!"
           FROM lines WHERE day BETWEEN $2 AND $3 ORDER BY day, reference"#,
        company as CompanyId,
        period.from,
        period.to
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Activity {
            day: r.day,
            what: r.what,
            reference: r.reference,
            amount: r.amount,
        })
        .collect())
}

/// What every statement of a run says of the seller: its name, remittance details and days.
struct Letterhead {
    seller: String,
    remittance: String,
    time_zone: String,
}

impl Letterhead {
    async fn read(pool: &PgPool, config: &Config) -> Result<Letterhead> {
        let r = sqlx::query!("SELECT statement_remittance, time_zone FROM seller_settings")
            .fetch_one(pool)
            .await?;
        Ok(Letterhead {
            seller: config.seller_name.clone(),
            remittance: r.statement_remittance,
            time_zone: r.time_zone,
        })
    }
}

async fn gather(
    pool: &PgPool,
    head: &Letterhead,
    company: Named,
    period: Period,
    pay: Option<PayOnline>,
) -> Result<Statement> {
    let id = CompanyId(company.id);
    Ok(Statement {
        seller: head.seller.clone(),
        remittance: head.remittance.clone(),
        period,
        time_zone: head.time_zone.clone(),
        activity: activity(pool, id, period).await?,
        account: aging::of(pool, company, period.to).await?,
        pay,
    })
}

/// A pay link for the company's open invoices, issued by `sent_by`.
async fn pay_link(
    pool: &PgPool,
    config: &Config,
    sent_by: UserId,
    actor: Actor,
    company: CompanyId,
) -> Result<Option<PayOnline>> {
    Ok(
        crate::pay_links::for_statement(pool, config, sent_by, actor, company)
            .await?
            .map(|(id, url)| PayOnline {
                url,
                pay_link: Some(id),
            }),
    )
}

/// Company `code`'s statement for staff: it carries a pay link to the open invoices.
pub async fn for_staff(
    pool: &PgPool,
    config: &Config,
    staff: &Staff,
    code: &str,
    period: Period,
) -> Result<Option<Statement>> {
    let Some(company) = Named::find(pool, code).await? else {
        return Ok(None);
    };
    let pay = pay_link(
        pool,
        config,
        staff.id(),
        staff.actor(),
        CompanyId(company.id),
    )
    .await?;
    let head = Letterhead::read(pool, config).await?;
    Ok(Some(gather(pool, &head, company, period, pay).await?))
}

/// The statement of the customer's own company: it points to the portal.
pub async fn for_customer(
    pool: &PgPool,
    config: &Config,
    scope: &CompanyScope,
    period: Period,
) -> Result<Statement> {
    let portal = PayOnline {
        url: format!("{}/portal", config.public_url),
        pay_link: None,
    };
    let company = sqlx::query_as!(
        Named,
        "SELECT id, code, name FROM companies WHERE id = $1",
        scope.id() as CompanyId
    )
    .fetch_one(pool)
    .await?;
    let head = Letterhead::read(pool, config).await?;
    gather(pool, &head, company, period, Some(portal)).await
}

/// The schedule and the remittance details, with the last month sent.
pub async fn schedule(pool: &PgPool) -> Result<StatementSchedule> {
    let r = sqlx::query!(
        r#"WITH last AS (SELECT max(month) AS month FROM statements)
           SELECT statement_day, statement_remittance, to_char(last.month, 'YYYY-MM') AS last_month,
                  (SELECT count(*) FROM statements s WHERE s.month = last.month) AS "last_count!"
           FROM seller_settings, last"#
    )
    .fetch_one(pool)
    .await?;
    Ok(StatementSchedule {
        day: r.statement_day.map(|d| d as u32),
        remittance: r.statement_remittance,
        last_month: r.last_month,
        last_count: r.last_count,
    })
}

/// Sets the schedule and the remittance details (admins); audited. The statements it sends
/// carry pay links issued in this admin's name.
pub async fn set_schedule(pool: &PgPool, admin: &Admin, s: &StatementSchedule) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE seller_settings SET statement_day = $1, statement_remittance = $2, \
             statement_set_by = CASE WHEN $1::smallint IS NULL THEN statement_set_by ELSE $3 END, updated_at = now()",
        s.day.map(|d| d as i16),
        s.remittance,
        admin.id() as UserId
    )
    .execute(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::StatementsChanged,
        Entity::Settings,
        "statements",
        json!({ "day": s.day, "remittance": s.remittance }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Companies handled per pass of the schedule.
const BATCH: i64 = 50;

/// Sends the month before's statements when the schedule's day has come (the seller's today):
/// to every company with an open balance and an AP contact with an email address, once per
/// company and month (the statement is kept as sent, and its messages attach it). A crash or a
/// second instance leaves none out and sends none twice. How many statements were issued.
pub async fn send_due(pool: &PgPool, config: &Config) -> Result<usize> {
    let settings = sqlx::query!(
        r#"SELECT statement_day, statement_set_by, seller_today() AS "today!" FROM seller_settings"#
    )
    .fetch_one(pool)
    .await?;
    let (Some(day), Some(set_by)) = (settings.statement_day, settings.statement_set_by) else {
        return Ok(0);
    };
    if settings.today.day() < day as u32 {
        return Ok(0);
    }
    let period = Period::parse(None, settings.today)
        .map_err(|e| crate::Error::Other(e.message))?
        .previous();
    let head = Letterhead::read(pool, config).await?;
    let mut issued = 0;
    loop {
        let due = sqlx::query_as!(
            Named,
            r#"SELECT c.id, c.code, c.name FROM companies c
               JOIN company_balances f ON f.company_id = c.id
               WHERE f.open_balance > 0
                 AND NOT EXISTS (SELECT 1 FROM statements s WHERE s.company_id = c.id AND s.month = $1)
                 AND EXISTS (SELECT 1 FROM company_mail_contacts(c.id))
               ORDER BY c.id LIMIT $2"#,
            period.from,
            BATCH
        )
        .fetch_all(pool)
        .await?;
        if due.is_empty() {
            return Ok(issued);
        }
        for company in due {
            if issue(pool, config, &head, UserId(set_by), company, period).await? {
                issued += 1;
            }
        }
    }
}

/// Issues one company's statement of `period` and queues it to its AP contacts, in one
/// transaction; false when another pass issued it first.
async fn issue(
    pool: &PgPool,
    config: &Config,
    head: &Letterhead,
    sent_by: UserId,
    named: Named,
    period: Period,
) -> Result<bool> {
    let company = CompanyId(named.id);
    let pay = pay_link(pool, config, sent_by, Actor::SYSTEM, company).await?;
    let s = gather(pool, head, named, period, pay).await?;
    let bytes = pdf(&s);
    let mut tx = pool.begin().await?;
    let Some(id) = sqlx::query_scalar!(
        "INSERT INTO statements (company_id, month, file_name, pdf, sha256, amount_due) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (company_id, month) DO NOTHING RETURNING id",
        company as CompanyId,
        period.from,
        s.file_name(),
        &bytes,
        sha2::Sha256::digest(&bytes).to_vec(),
        s.amount_due()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    let contacts = sqlx::query!(
        r#"SELECT email AS "email!", name FROM company_mail_contacts($1)"#,
        company as CompanyId
    )
    .fetch_all(&mut *tx)
    .await?;
    for c in contacts {
        email::enqueue(
            &mut tx,
            NewEmail {
                mail: Mail::Statement(Box::new(StatementMail {
                    statement_id: id,
                    company_name: s.account.name.clone(),
                    company_code: s.account.code.clone(),
                    month: s.period.label(),
                    amount_due: s.amount_due(),
                    currency: config.currency,
                    file_name: s.file_name(),
                    link: s.pay.as_ref().and_then(|p| p.pay_link).map(|id| LinkRef {
                        purpose: Purpose::PayLink,
                        id,
                    }),
                })),
                recipient: &c.email,
                recipient_name: c.name.as_deref(),
                dedupe_key: format!("statement:{id}:{}", c.email),
                company: Some(company),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

const LEFT: f32 = 54.0;
const RIGHT: f32 = WIDTH - 54.0;
const BOTTOM: f32 = 72.0;
const ROW: f32 = 15.0;

fn usd(amount: Decimal) -> String {
    Money::usd(amount).display()
}

/// A table's columns: (title, right edge for figures or left edge for text, right-aligned).
type Columns = [(&'static str, f32, bool)];

/// Writes a statement page by page.
struct Writer<'a> {
    doc: Document,
    y: f32,
    s: &'a Statement,
}

impl Writer<'_> {
    fn page(&mut self) -> &mut Page {
        let last = self.doc.pages() - 1;
        self.doc.pages_mut().nth(last).expect("a page")
    }

    /// A new page, headed as a continuation after the first.
    fn new_page(&mut self) {
        let continued = self.doc.pages() > 0;
        self.doc.page();
        self.y = HEIGHT - 54.0;
        if continued {
            let head = format!(
                "Statement · {} ({}) · {} · continued",
                self.s.account.name,
                self.s.account.code,
                self.s.period.label()
            );
            let y = self.y;
            self.page().text(LEFT, y, 9.0, false, &head);
            self.y -= 24.0;
        }
    }

    /// Room for `height` more points, or a new page.
    fn room(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    fn heading(&mut self, title: &str) {
        self.room(60.0);
        self.y -= 10.0;
        let y = self.y;
        self.page().text(LEFT, y, 12.0, true, title);
        self.y -= 18.0;
    }

    fn header_row(&mut self, columns: &Columns) {
        let y = self.y;
        let page = self.page();
        page.band(LEFT - 4.0, y - 4.0, RIGHT - LEFT + 8.0, ROW, 0.93);
        for (title, at, right) in columns {
            if *right {
                page.text_right(*at, y, 8.5, true, title);
            } else {
                page.text(*at, y, 8.5, true, title);
            }
        }
        self.y -= ROW;
    }

    /// A row of cells under `columns`, the header again on a new page.
    fn row(&mut self, columns: &Columns, cells: &[String]) {
        if self.room(ROW) {
            self.header_row(columns);
        }
        let y = self.y;
        let page = self.page();
        for (i, ((_, at, right), cell)) in columns.iter().zip(cells).enumerate() {
            if *right {
                page.text_right(*at, y, 9.0, false, cell);
            } else {
                let next = columns
                    .get(i + 1)
                    .map_or(RIGHT, |(_, n, r)| if *r { *n - 80.0 } else { *n });
                page.text_fit(*at, y, 9.0, false, cell, next - at - 8.0);
            }
        }
        page.rule(LEFT - 4.0, y - 4.5, RIGHT + 4.0, y - 4.5, 0.3, 0.85);
        self.y -= ROW;
    }
}

/// The statement as a PDF.
pub fn pdf(s: &Statement) -> Vec<u8> {
    let title = format!("Statement {} {}", s.account.code, s.period.month());
    let mut w = Writer {
        doc: Document::new(&title),
        y: 0.0,
        s,
    };
    w.new_page();
    let f = &s.account.figures;
    // The seller, the title and the month.
    {
        let y = w.y;
        let page = w.page();
        page.text(LEFT, y - 6.0, 18.0, true, &s.seller);
        page.text_right(RIGHT, y - 6.0, 18.0, true, "Statement");
        page.text_right(RIGHT, y - 24.0, 10.0, false, &s.period.label());
        page.text_right(
            RIGHT,
            y - 38.0,
            9.0,
            false,
            &format!("As of {} ({})", date(s.period.to), s.time_zone),
        );
        page.text(LEFT, y - 44.0, 9.0, true, "Account");
        page.text(LEFT, y - 58.0, 11.0, true, &s.account.name);
        page.text(
            LEFT,
            y - 72.0,
            9.0,
            false,
            &format!("Company ID {}", s.account.code),
        );
    }
    w.y -= 100.0;
    // What is owed.
    {
        let y = w.y;
        let page = w.page();
        page.band(LEFT - 4.0, y - 46.0, RIGHT - LEFT + 8.0, 58.0, 0.95);
        let boxes = [
            ("Amount due", usd(s.amount_due())),
            ("Open balance", f.open.display()),
            ("Past due", usd(f.open.amount() - f.buckets[0].amount())),
            ("Unapplied credit", f.unapplied_credit.display()),
        ];
        let width = (RIGHT - LEFT) / boxes.len() as f32;
        for (i, (label, value)) in boxes.iter().enumerate() {
            let x = LEFT + width * i as f32 + 6.0;
            page.text(x, y - 4.0, 8.5, false, label);
            page.text(x, y - 26.0, if i == 0 { 15.0 } else { 12.0 }, true, value);
        }
    }
    w.y -= 72.0;
    // The aging.
    w.heading("Aging");
    let step = (RIGHT - LEFT) / 7.0;
    let aging: Vec<(&'static str, f32, bool)> = Bucket::ALL
        .iter()
        .enumerate()
        .map(|(i, b)| (b.label(), LEFT + step * (i as f32 + 1.0), true))
        .chain([("Open balance", RIGHT, true)])
        .collect();
    w.header_row(&aging);
    let mut cells: Vec<String> = f.buckets.iter().map(Money::display).collect();
    cells.push(f.open.display());
    w.row(&aging, &cells);
    if !f.disputed.is_zero() {
        let y = w.y;
        w.page().text(
            LEFT,
            y,
            8.5,
            false,
            &format!("Of which in dispute: {}", f.disputed.display()),
        );
        w.y -= ROW;
    }
    // The open invoices.
    w.heading(&format!("Open invoices ({})", s.account.lines.len()));
    let invoices: [(&'static str, f32, bool); 5] = [
        ("Invoice", LEFT, false),
        ("Issued", LEFT + 150.0, false),
        ("Due", LEFT + 250.0, false),
        ("Days past due", LEFT + 420.0, true),
        ("Balance", RIGHT, true),
    ];
    if s.account.lines.is_empty() {
        let y = w.y;
        w.page().text(LEFT, y, 9.5, false, "Nothing is open.");
        w.y -= ROW;
    } else {
        w.header_row(&invoices);
        for l in &s.account.lines {
            w.row(
                &invoices,
                &[
                    l.number.clone(),
                    date(l.issue_date),
                    date(l.due_date),
                    if l.days_past_due > 0 {
                        l.days_past_due.to_string()
                    } else {
                        "–".into()
                    },
                    l.balance.display(),
                ],
            );
        }
    }
    // The month's activity.
    w.heading(&format!("Payments and credits in {}", s.period.label()));
    let activity: [(&'static str, f32, bool); 4] = [
        ("Date", LEFT, false),
        ("Activity", LEFT + 90.0, false),
        ("Reference", LEFT + 210.0, false),
        ("Amount", RIGHT, true),
    ];
    if s.activity.is_empty() {
        let y = w.y;
        w.page()
            .text(LEFT, y, 9.5, false, "No payments or credits this month.");
        w.y -= ROW;
    } else {
        w.header_row(&activity);
        for a in &s.activity {
            w.row(
                &activity,
                &[
                    date(a.day),
                    a.what.clone(),
                    a.reference.clone(),
                    usd(a.amount),
                ],
            );
        }
    }
    // How to pay.
    w.heading("How to pay");
    if let Some(PayOnline { url, .. }) = &s.pay {
        let label = url;
        w.room(ROW);
        let y = w.y;
        let page = w.page();
        page.text(LEFT, y, 9.5, true, "Online:");
        let shown = if text_width(label, 9.0, false) > RIGHT - LEFT - 50.0 {
            "Pay these invoices online (link)"
        } else {
            label.as_str()
        };
        page.link(LEFT + 50.0, y, 9.0, shown, url);
        w.y -= ROW + 2.0;
    }
    for line in s.remittance.lines() {
        w.room(ROW);
        let y = w.y;
        w.page().text_fit(LEFT, y, 9.5, false, line, RIGHT - LEFT);
        w.y -= 13.0;
    }
    w.room(ROW);
    let y = w.y - 4.0;
    w.page().text(
        LEFT,
        y,
        9.0,
        false,
        &format!(
            "Please quote Company ID {} with every payment.",
            s.account.code
        ),
    );
    // Footers, now that the pages are counted.
    let count = w.doc.pages();
    for (i, page) in w.doc.pages_mut().enumerate() {
        page.text_right(
            RIGHT,
            40.0,
            8.0,
            false,
            &format!("Page {} of {count}", i + 1),
        );
        page.text(LEFT, 40.0, 8.0, false, &title);
    }
    w.doc.finish()
}

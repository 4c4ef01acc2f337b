//! Data in from the ERP and the payments feed, on a real PostgreSQL: the balance rule under
//! races, ERP payments applied once, per-record results, and a feed that never skips or
//! repeats an event while payments are being written.

use crate::common;

use common::{d, fixture, key, Fixture};
use rust_decimal::Decimal;
use server::audit::Actor;
use server::integration::erp::{self, Outcome};
use server::integration::feed::{self, Cursor};
use shared::erp::{
    ExternalAllocation, ExternalKind, ExternalPaymentRecord, InvoiceRecord, InvoiceStatus,
};
use shared::InvoiceId;
use sqlx::PgPool;

const KEY: Actor = Actor {
    user_id: None,
    role: None,
    api_key_id: None,
};

fn invoice(number: &str, total: &str, due: &str) -> InvoiceRecord {
    InvoiceRecord {
        company_id: "C1002".into(),
        number: number.into(),
        po_number: None,
        issue_date: "2026-10-01".into(),
        due_date: due.into(),
        currency: None,
        total: total.into(),
        status: InvoiceStatus::Open,
    }
}

fn check(id: &str, lines: &[(&str, &str)]) -> ExternalPaymentRecord {
    ExternalPaymentRecord {
        id: id.into(),
        company_id: "C1002".into(),
        kind: ExternalKind::Check,
        received_on: "2026-11-20".into(),
        reference: Some("4471".into()),
        allocations: lines
            .iter()
            .map(|(i, a)| ExternalAllocation {
                invoice: i.to_string(),
                amount: a.to_string(),
            })
            .collect(),
    }
}

impl Fixture {
    async fn upsert(&self, records: &[InvoiceRecord]) -> Vec<Outcome> {
        let mut tx = self.pool.begin().await.unwrap();
        let out = erp::upsert_invoices(&mut tx, KEY, records).await.unwrap();
        tx.commit().await.unwrap();
        out
    }

    async fn record(&self, r: &ExternalPaymentRecord) -> erp::Recorded {
        let mut tx = self.pool.begin().await.unwrap();
        let out = erp::record_external_payments(&mut tx, KEY, std::slice::from_ref(r))
            .await
            .unwrap()
            .remove(0);
        tx.commit().await.unwrap();
        out
    }

    async fn invoice_id(&self, number: &str) -> InvoiceId {
        sqlx::query_scalar("SELECT id FROM invoices WHERE company_id = $1 AND number = $2")
            .bind(self.company_id)
            .bind(number)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn off(&self) -> (i64, i64) {
        (
            server::ledger::balances_off(&self.pool).await.unwrap(),
            server::ledger::company_balances_off(&self.pool)
                .await
                .unwrap(),
        )
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn an_erp_update_that_had_not_seen_a_payment_never_undoes_it(pool: PgPool) {
    let f = fixture(pool).await;
    assert_eq!(
        f.upsert(&[invoice("ERP-1", "500.00", "2026-12-01")]).await,
        [Outcome::Created]
    );
    let id = f.invoice_id("ERP-1").await;
    let visa = f.method("4242").await;
    f.pay(
        &f.clerk,
        &f.request(visa, &[(id, "120.00", "partial")], &key()),
    )
    .await
    .unwrap();
    assert_eq!(f.balance(id).await, d("380.00"));
    // The ERP, not yet knowing of the payment, sends the invoice again with a new due date.
    assert_eq!(
        f.upsert(&[invoice("ERP-1", "500.00", "2026-12-15")]).await,
        [Outcome::Updated]
    );
    assert_eq!(
        f.balance(id).await,
        d("380.00"),
        "the payment stays applied"
    );
    // The same record again changes nothing.
    assert_eq!(
        f.upsert(&[invoice("ERP-1", "500.00", "2026-12-15")]).await,
        [Outcome::Unchanged]
    );
    // A raised total raises the balance by as much; a lowered one lowers it.
    f.upsert(&[invoice("ERP-1", "600.00", "2026-12-15")]).await;
    assert_eq!(f.balance(id).await, d("480.00"));
    f.upsert(&[invoice("ERP-1", "120.00", "2026-12-15")]).await;
    assert_eq!(
        f.balance(id).await,
        Decimal::ZERO,
        "lowered to what was paid: settled"
    );
    assert_eq!(f.off().await, (0, 0));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_total_below_what_is_applied_or_cancelling_a_paid_invoice_is_refused(pool: PgPool) {
    let f = fixture(pool).await;
    f.upsert(&[
        invoice("ERP-2", "300.00", "2026-12-01"),
        invoice("ERP-3", "50.00", "2026-12-01"),
    ])
    .await;
    let id = f.invoice_id("ERP-2").await;
    let visa = f.method("4242").await;
    f.pay(
        &f.clerk,
        &f.request(visa, &[(id, "200.00", "partial")], &key()),
    )
    .await
    .unwrap();
    let out = f.upsert(&[invoice("ERP-2", "199.99", "2026-12-01")]).await;
    let Outcome::Refused(errs) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(errs[0].field, "total");
    assert!(
        errs[0].message.contains("$200.00 applied"),
        "{}",
        errs[0].message
    );
    assert_eq!(f.balance(id).await, d("100.00"), "nothing changed");
    let mut cancel = invoice("ERP-2", "300.00", "2026-12-01");
    cancel.status = InvoiceStatus::Cancelled;
    let out = f.upsert(&[cancel]).await;
    assert!(
        matches!(&out[0], Outcome::Refused(e) if e[0].field == "status"),
        "{out:?}"
    );
    // Without payments an invoice can be cancelled: its balance goes to 0; reopened, back.
    let mut cancel = invoice("ERP-3", "50.00", "2026-12-01");
    cancel.status = InvoiceStatus::Cancelled;
    assert_eq!(f.upsert(&[cancel]).await, [Outcome::Updated]);
    assert_eq!(f.balance(f.invoice_id("ERP-3").await).await, Decimal::ZERO);
    f.upsert(&[invoice("ERP-3", "50.00", "2026-12-01")]).await;
    assert_eq!(f.balance(f.invoice_id("ERP-3").await).await, d("50.00"));
    assert_eq!(f.off().await, (0, 0));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_erp_payment_sent_many_times_at_once_reduces_the_balance_once(pool: PgPool) {
    let f = fixture(pool).await;
    f.upsert(&[
        invoice("ERP-4", "1000.00", "2026-12-01"),
        invoice("ERP-5", "80.00", "2026-12-01"),
    ])
    .await;
    let r = check("CHK-1", &[("ERP-4", "250.00"), ("ERP-5", "80.00")]);
    let sends: Vec<_> = (0..8).map(|_| f.record(&r)).collect();
    let outs = futures::future::join_all(sends).await;
    let created = outs
        .iter()
        .filter(|o| o.outcome == Outcome::Created)
        .count();
    let unchanged = outs
        .iter()
        .filter(|o| o.outcome == Outcome::Unchanged)
        .count();
    assert_eq!((created, unchanged), (1, 7), "{outs:?}");
    let numbers: std::collections::HashSet<_> = outs.iter().map(|o| o.payment.clone()).collect();
    assert_eq!(numbers.len(), 1, "every answer names the one payment");
    assert_eq!(f.balance(f.invoice_id("ERP-4").await).await, d("750.00"));
    assert_eq!(f.balance(f.invoice_id("ERP-5").await).await, Decimal::ZERO);
    // The same id with other amounts is refused; more than the balance is refused by line.
    let other = check("CHK-1", &[("ERP-4", "10.00")]);
    assert!(matches!(f.record(&other).await.outcome, Outcome::Refused(e) if e[0].field == "id"));
    let over = check("CHK-2", &[("ERP-4", "750.01")]);
    let out = f.record(&over).await;
    assert!(
        matches!(&out.outcome, Outcome::Refused(e) if e[0].field == "allocations/0/amount"),
        "{out:?}"
    );
    let closed = check("CHK-3", &[("ERP-5", "1.00")]);
    assert!(
        matches!(f.record(&closed).await.outcome, Outcome::Refused(e) if e[0].field == "allocations/0/amount")
    );
    let missing = check("CHK-4", &[("NOPE", "1.00")]);
    assert!(
        matches!(f.record(&missing).await.outcome, Outcome::Refused(e) if e[0].field == "allocations/0/invoice")
    );
    // An ERP payment is not an event of the payments feed (it came from the ERP).
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events e JOIN payments p ON p.id = e.payment_id WHERE p.source = 'erp'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // The ERP's update of an invoice after its own payment keeps that payment too.
    f.upsert(&[invoice("ERP-4", "1000.00", "2027-01-01")]).await;
    assert_eq!(f.balance(f.invoice_id("ERP-4").await).await, d("750.00"));
    assert_eq!(f.off().await, (0, 0));
}

#[sqlx::test(migrations = "./migrations")]
async fn settle_payments_and_erp_updates_racing_keep_the_ledger(pool: PgPool) {
    let f = fixture(pool).await;
    f.upsert(&[invoice("ERP-6", "1000.00", "2026-12-01")]).await;
    let id = f.invoice_id("ERP-6").await;
    let visa = f.method("4242").await;
    let payments = (0..6).map(|_| {
        let f = &f;
        async move {
            f.pay(
                &f.clerk,
                &f.request(visa, &[(id, "10.00", "partial")], &key()),
            )
            .await
            .unwrap()
        }
    });
    let updates = (0..6).map(|i| {
        let f = &f;
        async move {
            f.upsert(&[invoice(
                "ERP-6",
                "1000.00",
                &format!("2026-12-{:02}", 10 + i),
            )])
            .await
        }
    });
    let erp_payments = (0..3).map(|i| {
        let f = &f;
        async move {
            f.record(&check(&format!("CHK-R{i}"), &[("ERP-6", "5.00")]))
                .await
        }
    });
    futures::join!(
        futures::future::join_all(payments),
        futures::future::join_all(updates),
        futures::future::join_all(erp_payments)
    );
    assert_eq!(f.balance(id).await, d("925.00"), "1000 - 6 × 10 - 3 × 5");
    assert_eq!(f.off().await, (0, 0));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_batch_answers_each_record(pool: PgPool) {
    let f = fixture(pool).await;
    let mut bad = invoice("ERP-8", "12.345", "2026-12-01");
    bad.issue_date = "2026/10/01".into();
    let mut unknown = invoice("ERP-9", "10.00", "2026-12-01");
    unknown.company_id = "NOPE".into();
    let out = f
        .upsert(&[
            invoice("ERP-7", "10.00", "2026-12-01"),
            bad,
            unknown,
            invoice("ERP-7", "11.00", "2026-12-01"),
        ])
        .await;
    assert_eq!(out[0], Outcome::Created);
    let fields = |o: &Outcome| match o {
        Outcome::Refused(e) => e.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
        _ => vec![],
    };
    assert_eq!(fields(&out[1]), ["issue_date", "total"]);
    assert_eq!(fields(&out[2]), ["company_id"]);
    assert_eq!(
        fields(&out[3]),
        ["number"],
        "the same invoice twice in a batch"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'invoice.upserted'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1, "one write, one audit row");
}

/// Flips a demo payment between approved and settled in its own transaction: one event.
async fn flip(pool: &PgPool, payment: i64) {
    sqlx::query("UPDATE payments SET status = CASE WHEN status = 'settled' THEN 'approved' ELSE 'settled' END WHERE id = $1")
        .bind(payment)
        .execute(pool)
        .await
        .unwrap();
}

async fn read_all(pool: &PgPool, mut since: Option<Cursor>, seen: &mut Vec<i64>) -> Option<Cursor> {
    loop {
        let page = feed::payments(pool, since, 7).await.unwrap();
        seen.extend(page.events.iter().map(|e| e.id.0));
        since = Some(page.next);
        if !page.has_more {
            return since;
        }
    }
}

/// Reads until `seen` holds `n` events: transactions still running anywhere on the server
/// (other tests') hold the feed back a moment; it catches up once they end.
async fn read_until(
    pool: &PgPool,
    mut cursor: Option<Cursor>,
    seen: &mut Vec<i64>,
    n: usize,
) -> Option<Cursor> {
    for _ in 0..100 {
        cursor = read_all(pool, cursor, seen).await;
        if seen.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    cursor
}

#[sqlx::test(migrations = "./migrations")]
async fn the_feed_holds_back_a_later_commit_until_every_earlier_writer_is_done(pool: PgPool) {
    let f = fixture(pool).await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM payments WHERE status IN ('approved', 'settled') ORDER BY id LIMIT 2",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    let mut seen = Vec::new();
    let before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE payment_id IS NOT NULL")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let before = before as usize;
    let cursor = read_until(&f.pool, None, &mut seen, before).await;
    // A: writes an event first but commits last; B: writes after A and commits at once.
    let mut a = f.pool.begin().await.unwrap();
    sqlx::query("UPDATE payments SET status = CASE WHEN status = 'settled' THEN 'approved' ELSE 'settled' END WHERE id = $1")
        .bind(ids[0])
        .execute(&mut *a)
        .await
        .unwrap();
    flip(&f.pool, ids[1]).await;
    let page = feed::payments(&f.pool, cursor, 100).await.unwrap();
    assert!(
        page.events.is_empty(),
        "B's event waits while A (older) runs: {page:?}"
    );
    assert_eq!(Some(page.next), cursor, "the cursor stays");
    a.commit().await.unwrap();
    let cursor = read_until(&f.pool, cursor, &mut seen, before + 2).await;
    assert_eq!(seen.len(), before + 2, "both, once");
    let again = feed::payments(&f.pool, cursor, 100).await.unwrap();
    assert!(again.events.is_empty());
}

#[sqlx::test(migrations = "./migrations")]
async fn paging_the_feed_while_payments_are_written_never_skips_or_repeats(pool: PgPool) {
    let f = fixture(pool).await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM payments WHERE status IN ('approved', 'settled') ORDER BY id LIMIT 20",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert!(ids.len() >= 5, "demo payments");
    let writers = ids.iter().map(|&id| {
        let pool = f.pool.clone();
        tokio::spawn(async move {
            for _ in 0..10 {
                flip(&pool, id).await;
            }
        })
    });
    let writers: Vec<_> = writers.collect();
    let mut seen = Vec::new();
    let mut cursor = None;
    while !writers.iter().all(|w| w.is_finished()) {
        cursor = read_all(&f.pool, cursor, &mut seen).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM events WHERE payment_id IS NOT NULL ORDER BY xid, id")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    read_until(&f.pool, cursor, &mut seen, all.len()).await;
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    assert_eq!(seen, all, "every event, in feed order");
}

async fn admin(pool: &PgPool) -> server::authority::Admin {
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    server::authority::Principal::of_user(pool, shared::UserId(id))
        .await
        .unwrap()
        .admin()
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_import_previews_exactly_and_commits_all_or_nothing_or_the_valid_rows(pool: PgPool) {
    use server::integration::import;
    use shared::import::{CommitMode, ImportKind};
    let f = fixture(pool).await;
    let by = &admin(&f.pool).await;
    let csv = "Company ID,Invoice Number,PO,Issue Date,Due Date,Total\n\
               C1002,IMP-1,PO-1,2026-10-01,2026-11-01,100.00\n\
               C1002,IMP-2,,2026-10-01,2026-11-01,12.345\n\
               C1002,IMP-3,,01/10/2026,2026-11-01,10.00\n\
               NOPE,IMP-4,,2026-10-01,2026-11-01,10.00\n\
               C1002,IMP-1,PO-1,2026-10-01,2026-11-01,100.00\n\
               C1002,IMP-5,,2026-10-01,2026-11-01,5.00\n";
    let p = import::upload(
        &f.pool,
        by,
        ImportKind::Invoices,
        "book.csv",
        csv.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        (p.counts.rows, p.counts.created, p.counts.invalid),
        (6, 2, 4),
        "{p:?}"
    );
    let at: Vec<(u64, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        at,
        [(3, "total"), (4, "issue_date"), (5, "company_id"), (6, "—")]
    );
    assert!(p.errors[0].message.contains("more than 2 decimals"));
    assert!(p.errors[3].message.contains("line 2"), "{:?}", p.errors[3]);
    let n = |sql: &'static str| {
        let pool = f.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        n("SELECT count(*) FROM invoices WHERE number LIKE 'IMP-%'").await,
        0,
        "a preview writes nothing"
    );
    let refused = import::commit(&f.pool, by, p.id, CommitMode::AllOrNothing)
        .await
        .unwrap_err()
        .into_app();
    assert!(
        refused
            .to_string()
            .contains("Nothing was imported: 4 rows have errors (the first: line 3"),
        "{refused}"
    );
    assert_eq!(
        n("SELECT count(*) FROM invoices WHERE number LIKE 'IMP-%'").await,
        0
    );
    let done = import::commit(&f.pool, by, p.id, CommitMode::ValidOnly)
        .await
        .unwrap();
    assert_eq!((done.created, done.invalid), (2, 4));
    assert_eq!(
        n("SELECT count(*) FROM invoices WHERE number LIKE 'IMP-%'").await,
        2
    );
    // Committing again (a double click) answers the same and writes nothing more.
    assert_eq!(
        import::commit(&f.pool, by, p.id, CommitMode::ValidOnly)
            .await
            .unwrap(),
        done
    );
    // The same file again: nothing new.
    let again = import::upload(
        &f.pool,
        by,
        ImportKind::Invoices,
        "book.csv",
        csv.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!((again.counts.created, again.counts.unchanged), (0, 2));
    assert_eq!(f.off().await, (0, 0));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_import_preview_takes_no_lock_a_payment_would_wait_for(pool: PgPool) {
    use server::integration::import;
    use shared::import::ImportKind;
    let f = fixture(pool).await;
    let by = &admin(&f.pool).await;
    let (number, total): (String, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT number, total FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1002') \
         AND balance > 0 AND balance < total ORDER BY id LIMIT 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    // A payment (or an ERP update) holds the invoice and the company's figures mid-way.
    let mut holder = f.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM invoices WHERE number = $1 FOR UPDATE")
        .bind(&number)
        .execute(&mut *holder)
        .await
        .unwrap();
    sqlx::query("SELECT 1 FROM companies WHERE code = 'C1002' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    // The preview of a file touching that invoice (a total below what is applied: refused by
    // the balance rule, decided in memory) and a new one answers at once.
    let csv = format!(
        "company_id,number,issue_date,due_date,total\n\
         C1002,{number},2026-10-01,2026-11-01,0.01\n\
         C1002,IMP-NEW,2026-10-01,2026-11-01,5.00\n"
    );
    let preview = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        import::upload(
            &f.pool,
            by,
            ImportKind::Invoices,
            "book.csv",
            csv.as_bytes(),
        ),
    )
    .await
    .expect("the preview waited for a lock")
    .unwrap();
    assert_eq!(
        (preview.counts.created, preview.counts.invalid),
        (1, 1),
        "{preview:?}"
    );
    assert_eq!(preview.errors[0].column, "total");
    assert!(
        preview.errors[0].message.contains("already has"),
        "{:?}",
        preview.errors[0]
    );
    holder.rollback().await.unwrap();
    // Committing decides again, under locks, the same way.
    let done = import::commit(
        &f.pool,
        by,
        preview.id,
        shared::import::CommitMode::ValidOnly,
    )
    .await
    .unwrap();
    assert_eq!((done.created, done.invalid), (1, 1));
    let kept: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT total FROM invoices WHERE number = $1")
            .bind(&number)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(kept, total);
}

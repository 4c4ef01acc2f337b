//! The NACHA rail end to end on a real PostgreSQL: ACH payments become entries, one file per
//! cut-off holds each exactly once (read back whole by the independent parser, PyPI achkit),
//! the bank's return and notification-of-change files — written by achkit, not by Settle —
//! end debits and correct accounts, and a writer killed mid-file leaves nothing behind.

use crate::common;

use chrono::{Duration as Span, Utc};
use common::{d, fixture, key, today, Fixture};
use serde_json::{json, Value};
use server::ach_files::inbox::{self, Read};
use server::ach_files::outbox;
use server::ach_files::rail::NachaRail;
use server::ach_files::settings::NachaSettings;
use server::authority::Principal;
use server::gateway::{tokenize, PaymentGateway, TEST_ROUTING};
use server::{methods, payments};
use shared::method::{
    AuthorizationInput, NewBankAccount, NewBankAccountInput, TokenizeRequest,
    ACH_AUTHORIZATION_VERSION,
};
use shared::payment::{PaymentOutcome, PaymentStatus};
use shared::{MethodId, PaymentId};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-ach-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn settings() -> NachaSettings {
    let s = NachaSettings::example(&folder("rail"));
    std::fs::create_dir_all(&s.inbox).unwrap();
    s
}

struct Rail {
    f: Fixture,
    rail: NachaRail,
    settings: NachaSettings,
}

impl Rail {
    async fn new(pool: PgPool) -> Rail {
        let f = fixture(pool).await;
        let settings = settings();
        let rail = NachaRail::new(
            f.pool.clone(),
            Arc::new(settings.clone()),
            Arc::new(f.gateway.clone()),
        );
        Rail { f, rail, settings }
    }

    /// Saves a bank account for C1002 through the rail's tokenizer: by a customer in the
    /// portal (`online`) or by the clerk with a signed document.
    async fn add_account(&self, account: &str, business: bool, online: bool) -> MethodId {
        let f = &self.f;
        let token = tokenize(
            &self.rail,
            &TokenizeRequest::BankAccount {
                routing_number: TEST_ROUTING.into(),
                account_number: account.into(),
                holder_name: "Ada Lovelace".into(),
                account_type: None,
            },
            today(),
        )
        .await
        .unwrap()
        .token;
        assert!(token.starts_with("nacha_ba_"), "{token}");
        let (who, authorization): (Principal, AuthorizationInput) = if online {
            (
                f.customer_of("C1002").await,
                AuthorizationInput::InPortal {
                    version: ACH_AUTHORIZATION_VERSION.into(),
                    signed_name: "Ada Lovelace".into(),
                    agreed: true,
                },
            )
        } else {
            let doc = methods::store_document(
                &f.pool,
                &f.clerk.staff().unwrap(),
                &f.scope(&f.clerk),
                "signed.pdf",
                PDF,
            )
            .await
            .unwrap();
            (
                f.clerk.clone(),
                AuthorizationInput::Uploaded {
                    document_id: Some(doc.id),
                    signed_on: today().to_string(),
                },
            )
        };
        let input = NewBankAccountInput {
            company: if online {
                String::new()
            } else {
                "C1002".into()
            },
            token,
            holder_name: "Ada Lovelace".into(),
            holder_type: if business { "business" } else { "personal" }.into(),
            account_type: "checking".into(),
            authorization,
        };
        methods::add_bank_account(
            &f.pool,
            &self.rail,
            &who.reach(f.company_id, "Company").unwrap(),
            &NewBankAccount::parse(&input, today()).unwrap(),
            Some("203.0.113.7"),
            Some("Mozilla/5.0 (X11; Linux x86_64)"),
            today(),
        )
        .await
        .unwrap()
        .id
    }

    /// Pays the oldest open invoice of C1002 in full with `method` as the clerk.
    async fn pay(&self, method: MethodId) -> (PaymentId, String, shared::InvoiceId) {
        let f = &self.f;
        let inv = f.open().await[0];
        let req = f.request(method, &[(inv.0, &inv.1.to_string(), "")], &key());
        let outcome = payments::pay(
            &f.pool,
            &self.rail,
            &f.config,
            &f.scope(&f.clerk),
            &req,
            today(),
        )
        .await
        .unwrap();
        let PaymentOutcome::Paid(receipt) = outcome else {
            panic!("declined: {outcome:?}")
        };
        assert_eq!(receipt.status, PaymentStatus::Pending);
        assert_eq!(f.balance(inv.0).await, d("0"));
        (receipt.payment_id, receipt.number, inv.0)
    }

    async fn status(&self, p: PaymentId) -> PaymentStatus {
        sqlx::query_scalar("SELECT status FROM payments WHERE id = $1")
            .bind(p)
            .fetch_one(&self.f.pool)
            .await
            .unwrap()
    }

    async fn trace_of(&self, number: &str) -> String {
        sqlx::query_scalar(
            "SELECT e.trace FROM ach_entries e JOIN payments p ON p.gateway_key = e.gateway_key \
             WHERE p.number = $1",
        )
        .bind(number)
        .fetch_one(&self.f.pool)
        .await
        .unwrap()
    }

    /// Writes a return/NOC file with achkit into the inbox folder under `name`.
    fn bank_sends(&self, name: &str, notices: Value) {
        let spec = folder("spec").join("spec.json");
        std::fs::write(
            &spec,
            json!({ "odfi": "021000021", "notices": notices }).to_string(),
        )
        .unwrap();
        let out = Command::new(root().join(".data/venv/bin/python"))
            .arg(root().join("scripts/ach-returns.py"))
            .arg(&spec)
            .arg(self.settings.inbox.join(name))
            .output()
            .expect("achkit writes the file (make tools installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn count(&self, sql: &str) -> i64 {
        self.f.count(sql).await
    }
}

/// The checker's verdict on one file (achkit, through scripts/nacha-check.py).
fn achkit_reads(path: &Path) -> Value {
    let out = Command::new(root().join(".data/venv/bin/python"))
        .arg(root().join("scripts/nacha-check.py"))
        .arg(path)
        .output()
        .expect("the checker runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "achkit refused the file: {text}");
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn debits_go_to_the_bank_once_in_a_file_and_its_answers_come_back(pool: PgPool) {
    let r = Rail::new(pool).await;
    let ccd = r.add_account("000111222333", true, true).await;
    let web = r.add_account("000444555666", false, true).await;
    let ppd = r.add_account("000777888999", false, false).await;
    // Settle keeps only the last four and the token; the vault keeps the number sealed.
    assert_eq!(
        r.count("SELECT count(*) FROM ach_vault WHERE position('000111222333'::bytea IN account_sealed) > 0")
            .await,
        0
    );
    let (p_ccd, n_ccd, inv_ccd) = r.pay(ccd).await;
    let (p_web, n_web, _) = r.pay(web).await;
    let (p_ppd, n_ppd, inv_ppd) = r.pay(ppd).await;
    assert_eq!(r.count("SELECT count(*) FROM ach_entries").await, 3);

    // The same charge asked again (a reconciler after a crash) is the same entry.
    let key: String = sqlx::query_scalar("SELECT gateway_key FROM payments WHERE id = $1")
        .bind(p_ccd)
        .fetch_one(&r.f.pool)
        .await
        .unwrap();
    let token: String =
        sqlx::query_scalar("SELECT gateway_token FROM payment_methods WHERE id = $1")
            .bind(ccd)
            .fetch_one(&r.f.pool)
            .await
            .unwrap();
    let inv_amount: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT amount FROM payments WHERE id = $1")
            .bind(p_ccd)
            .fetch_one(&r.f.pool)
            .await
            .unwrap();
    let again = r
        .rail
        .charge(&token, shared::money::Money::usd(inv_amount), &key)
        .await
        .unwrap();
    assert_eq!(again.status, server::gateway::ChargeStatus::Pending);
    assert!(r
        .rail
        .charge(&token, shared::money::Money::usd(inv_amount + d("1")), &key)
        .await
        .is_err());
    assert_eq!(r.count("SELECT count(*) FROM ach_entries").await, 3);

    // One file at the cut-off: every debit once, in batches by SEC code.
    let now = Utc::now();
    let cutoff = now + Span::seconds(1);
    let written = outbox::write_file(&r.f.pool, &r.settings, cutoff, now)
        .await
        .unwrap()
        .expect("a file");
    assert_eq!(written.entries, 3);
    assert!(outbox::write_file(&r.f.pool, &r.settings, cutoff, now)
        .await
        .unwrap()
        .is_none());
    let later = cutoff + Span::hours(6);
    assert!(outbox::write_file(&r.f.pool, &r.settings, later, later)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        outbox::export(&r.f.pool, &r.settings.outbox).await.unwrap(),
        1
    );
    assert_eq!(
        outbox::export(&r.f.pool, &r.settings.outbox).await.unwrap(),
        0
    );
    let path = r.settings.outbox.join(&written.name);
    let bytes = std::fs::read_to_string(&path).unwrap();
    let body: String = sqlx::query_scalar("SELECT body FROM ach_files WHERE id = $1")
        .bind(written.id)
        .fetch_one(&r.f.pool)
        .await
        .unwrap();
    assert_eq!(bytes, body, "the folder's file is the kept bytes");
    let v = achkit_reads(&path);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        (v["batches"].as_u64(), v["entries"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(v["total_debit"].as_i64(), Some(written.total_cents));
    let mut traces: Vec<String> = v["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    traces.sort();
    let mut kept = vec![
        r.trace_of(&n_ccd).await,
        r.trace_of(&n_web).await,
        r.trace_of(&n_ppd).await,
    ];
    kept.sort();
    assert_eq!(traces, kept);
    let secs: Vec<String> = body
        .lines()
        .filter(|l| l.starts_with('5'))
        .map(|l| l[50..53].to_string())
        .collect();
    assert_eq!(secs, ["CCD", "PPD", "WEB"]);
    assert!(body.contains("000111222333") && body.contains("P-"));

    // The bank answers: a return, a change of account number, and a trace Settle never sent.
    let t_ccd = r.trace_of(&n_ccd).await;
    let t_web = r.trace_of(&n_web).await;
    r.bank_sends(
        "returns-1.ach",
        json!([
            {"kind": "return", "code": "R01", "trace": t_ccd, "routing": TEST_ROUTING,
             "account": "000111222333", "cents": 1},
            {"kind": "change", "code": "C01", "trace": t_web, "routing": TEST_ROUTING,
             "account": "000444555666", "cents": 0, "corrected": "000444555000"},
            {"kind": "return", "code": "R03", "trace": "021000029999999", "routing": TEST_ROUTING,
             "account": "1", "cents": 5}
        ]),
    );
    let read = inbox::read_inbox(&r.f.pool, &r.settings).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(
        read[0].1,
        Read {
            new: true,
            error: None,
            returned: 1,
            changed: 1,
            unknown: 1
        }
    );
    assert_eq!(r.status(p_ccd).await, PaymentStatus::Returned);
    assert_ne!(r.f.balance(inv_ccd).await, d("0"), "its invoice reopened");
    assert_eq!(r.status(p_web).await, PaymentStatus::Pending);
    let last4: String = sqlx::query_scalar("SELECT last4 FROM payment_methods WHERE id = $1")
        .bind(web)
        .fetch_one(&r.f.pool)
        .await
        .unwrap();
    assert_eq!(last4, "5000");
    assert_eq!(
        r.count("SELECT count(*) FROM audit_events WHERE action = 'payment_method.corrected'")
            .await,
        1
    );
    assert_eq!(
        r.count("SELECT count(*) FROM ach_notices WHERE entry_id IS NULL AND original_trace = '021000029999999'")
            .await,
        1,
        "an unknown trace is kept for staff"
    );
    // The return reaches the customer as a gateway's return does: event and email.
    assert_eq!(
        r.count(&format!(
            "SELECT count(*) FROM events WHERE type = 'payment.returned' AND payment_id = {}",
            p_ccd.0
        ))
        .await,
        1
    );

    // The same file again, under another name: nothing changes.
    let before = r.count("SELECT count(*) FROM ach_notices").await;
    std::fs::copy(
        r.settings.inbox.join("read/returns-1.ach"),
        r.settings.inbox.join("returns-1-again.ach"),
    )
    .unwrap();
    let read = inbox::read_inbox(&r.f.pool, &r.settings).await.unwrap();
    assert_eq!(read[0].1, Read::default());
    assert_eq!(r.count("SELECT count(*) FROM ach_notices").await, before);
    assert_eq!(r.status(p_ccd).await, PaymentStatus::Returned);

    // The PPD debit's window passes: the sync settles it. A late return then reopens it.
    sqlx::query("UPDATE ach_entries SET settles_on = current_date - 1 WHERE trace = $1")
        .bind(r.trace_of(&n_ppd).await)
        .execute(&r.f.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE payments SET ach_next_check_at = now()")
        .execute(&r.f.pool)
        .await
        .unwrap();
    let sync = payments::sync_ach(&r.f.pool, &r.rail, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(sync.recorded, 1, "{sync:?}");
    assert_eq!(r.status(p_ppd).await, PaymentStatus::Settled);
    r.bank_sends(
        "late.ach",
        json!([{"kind": "return", "code": "R10", "trace": r.trace_of(&n_ppd).await,
                "routing": TEST_ROUTING, "account": "000777888999", "cents": 1}]),
    );
    let read = inbox::read_inbox(&r.f.pool, &r.settings).await.unwrap();
    assert_eq!(read[0].1.returned, 1);
    assert_eq!(r.status(p_ppd).await, PaymentStatus::Returned);
    assert_ne!(r.f.balance(inv_ppd).await, d("0"));
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM ach_notices ORDER BY id DESC LIMIT 1")
            .fetch_one(&r.f.pool)
            .await
            .unwrap();
    assert!(outcome.contains("returned late"), "{outcome}");

    // The next debit of the corrected account goes out with its new number.
    r.pay(web).await;
    let next = later + Span::days(1);
    let file = outbox::write_file(&r.f.pool, &r.settings, next, next)
        .await
        .unwrap()
        .expect("a second file");
    let body: String = sqlx::query_scalar("SELECT body FROM ach_files WHERE id = $1")
        .bind(file.id)
        .fetch_one(&r.f.pool)
        .await
        .unwrap();
    assert!(body.contains("000444555000") && !body.contains("000444555666"));
    assert_eq!(
        r.count("SELECT count(*) FROM ach_entries WHERE file_id IS NULL")
            .await,
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_writer_killed_mid_file_leaves_no_entry_filed_and_two_at_once_file_each_once(
    pool: PgPool,
) {
    let r = Rail::new(pool).await;
    let ach = r.add_account("000111222333", true, true).await;
    for _ in 0..3 {
        r.pay(ach).await;
    }
    let now = Utc::now() + Span::seconds(1);
    // Another transaction holds one entry: the writer waits on it inside its transaction.
    let mut holder = r.f.pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM ach_entries ORDER BY id DESC LIMIT 1 FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let (pool, settings) = (r.f.pool.clone(), r.settings.clone());
    let writer = tokio::spawn(async move { outbox::write_file(&pool, &settings, now, now).await });
    // The writer's connection dies mid-file, as when its process is killed.
    let mut killed = 0;
    for _ in 0..100 {
        killed = r
            .count(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE query LIKE '%FROM ach_entries e%' AND wait_event_type = 'Lock' \
                 AND pid <> pg_backend_pid()) k",
            )
            .await;
        if killed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(killed, 1, "the writer was caught mid-file");
    assert!(writer.await.unwrap().is_err());
    holder.rollback().await.unwrap();
    assert_eq!(r.count("SELECT count(*) FROM ach_files").await, 0);
    assert_eq!(
        r.count("SELECT count(*) FROM ach_entries WHERE file_id IS NULL")
            .await,
        3,
        "no entry lost or half-filed"
    );

    // Two writers at once (two instances at the same cut-off): one file, each entry once.
    let (a, b) = tokio::join!(
        outbox::write_file(&r.f.pool, &r.settings, now, now),
        outbox::write_file(&r.f.pool, &r.settings, now, now)
    );
    let files: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].entries, 3);
    assert_eq!(
        r.count("SELECT count(*) FROM ach_entries WHERE file_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        r.count("SELECT count(DISTINCT trace) FROM ach_entries")
            .await,
        3
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_debit_is_taken_out_before_its_file_and_reversed_by_a_credit_after(pool: PgPool) {
    use shared::refund::{VoidChoice, VoidInput};
    let r = Rail::new(pool).await;
    sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
        .execute(&r.f.pool)
        .await
        .unwrap();
    let who = r.f.clerk.staff().unwrap();
    let account = r.add_account("000111222333", false, false).await;
    let (early, _, inv_early) = r.pay(account).await;
    let (sent, n_sent, inv_sent) = r.pay(account).await;
    let void = |p: PaymentId, reverse: bool, reason: &str| VoidInput {
        payment_id: p,
        reverse,
        reason: reason.into(),
        note: String::new(),
    };
    // In no file yet: taken out, no money moves, its invoice open again.
    assert_eq!(
        payments::voids::choice(&r.f.pool, &r.rail, &who, early)
            .await
            .unwrap(),
        VoidChoice::Cancel
    );
    let said = payments::voids::void(&r.f.pool, &r.rail, &who, &void(early, false, "duplicate"))
        .await
        .unwrap();
    assert!(said.contains("taken out"), "{said}");
    assert_eq!(r.status(early).await, PaymentStatus::Voided);
    assert_ne!(r.f.balance(inv_early).await, d("0"));
    // The file holds the other debit only.
    let now = Utc::now();
    let first = outbox::write_file(&r.f.pool, &r.settings, now, now)
        .await
        .unwrap()
        .expect("a file");
    assert_eq!(first.entries, 1);
    // Sent: no longer taken out, only reversed, and only for an erroneous entry.
    let VoidChoice::Reverse { until } = payments::voids::choice(&r.f.pool, &r.rail, &who, sent)
        .await
        .unwrap()
    else {
        panic!("no reversal offered")
    };
    assert!(until > today());
    let e = payments::voids::void(&r.f.pool, &r.rail, &who, &void(sent, false, "duplicate"))
        .await
        .unwrap_err()
        .into_app();
    assert!(
        e.field().unwrap().message.contains("only reversed"),
        "{e:?}"
    );
    let e = payments::voids::void(
        &r.f.pool,
        &r.rail,
        &who,
        &void(sent, true, "customer_request"),
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(e.field().unwrap().field, "reason");
    assert_eq!(r.status(sent).await, PaymentStatus::Pending);
    for _ in 0..2 {
        payments::voids::void(&r.f.pool, &r.rail, &who, &void(sent, true, "wrong_amount"))
            .await
            .unwrap();
    }
    assert_eq!(r.status(sent).await, PaymentStatus::Voided);
    assert_ne!(r.f.balance(inv_sent).await, d("0"));
    assert_eq!(
        r.count("SELECT count(*) FROM ach_entries WHERE credit")
            .await,
        1
    );
    // The next file carries the reversing credit: same account, amount and reference, in a
    // batch described REVERSAL, read back by achkit.
    let next = now + Span::hours(3);
    let second = outbox::write_file(&r.f.pool, &r.settings, next, next)
        .await
        .unwrap()
        .expect("a file with the reversal");
    assert_eq!(second.entries, 1);
    outbox::export(&r.f.pool, &r.settings.outbox).await.unwrap();
    let v = achkit_reads(&r.settings.outbox.join(&second.name));
    assert_eq!(v["ok"], true, "{v}");
    let amount: i64 =
        sqlx::query_scalar("SELECT (amount * 100)::bigint FROM payments WHERE id = $1")
            .bind(sent)
            .fetch_one(&r.f.pool)
            .await
            .unwrap();
    assert_eq!(
        (v["total_debit"].as_i64(), v["total_credit"].as_i64()),
        (Some(0), Some(amount))
    );
    let body: String = sqlx::query_scalar("SELECT body FROM ach_files WHERE id = $1")
        .bind(second.id)
        .fetch_one(&r.f.pool)
        .await
        .unwrap();
    let batch = body.lines().find(|l| l.starts_with('5')).unwrap();
    assert_eq!(&batch[1..4], "220");
    assert_eq!(&batch[50..53], "PPD");
    assert_eq!(batch[53..63].trim_end(), "REVERSAL");
    let entry = body.lines().find(|l| l.starts_with('6')).unwrap();
    assert_eq!(&entry[1..3], "22");
    assert!(entry.contains("000111222333") && entry.contains(&n_sent));
    // The gateway's view of the debit agrees: voided, never settled by the sync.
    sqlx::query("UPDATE payments SET ach_next_check_at = now()")
        .execute(&r.f.pool)
        .await
        .unwrap();
    payments::sync_ach(&r.f.pool, &r.rail, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(r.status(sent).await, PaymentStatus::Voided);
    assert_eq!(server::ledger::balances_off(&r.f.pool).await.unwrap(), 0);
    // Deposits: each file's control record adds up to the entries in it (the debit, then the
    // reversing credit); a file whose record was altered differs.
    let days = shared::deposit::DepositsQuery {
        from: today() - chrono::Duration::days(1),
        to: today() + chrono::Duration::days(1),
    };
    let sources = server::reports::deposits::Sources {
        card: shared::deposit::Books::Sandbox,
        ach: shared::deposit::Books::NachaFiles,
        stripe: None,
    };
    let report = server::reports::deposits::report(&r.f.pool, &who, &days, &sources)
        .await
        .unwrap();
    let totals = |id: i64| report.files.iter().find(|t| t.id == id).unwrap().clone();
    let (one, two) = (totals(first.id), totals(second.id));
    assert_eq!(
        (one.file_debits, one.file_credits),
        (one.entry_debits, d("0"))
    );
    assert!(one.file_debits > d("0"));
    assert_eq!(
        (two.file_debits, two.file_credits),
        (d("0"), rust_decimal::Decimal::new(amount, 2))
    );
    assert_eq!(report.differences(), 0);
    // The second file's control record now says one cent of debits.
    sqlx::query("UPDATE ach_files SET body = overlay(body placing '1' from position(E'\n9000' in body) + 43 for 1) WHERE id = $1")
        .bind(second.id)
        .execute(&r.f.pool)
        .await
        .unwrap();
    let report = server::reports::deposits::report(&r.f.pool, &who, &days, &sources)
        .await
        .unwrap();
    assert_eq!(report.differences(), 1, "{:?}", report.files);
}

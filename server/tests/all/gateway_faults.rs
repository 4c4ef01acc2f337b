//! The payment engine when the gateway misbehaves, on a real PostgreSQL: too slow, out of
//! reach, refusing a method; and when recording an answer fails halfway. Nothing is lost,
//! nothing is charged twice, and what is unresolved is visible.

use crate::common;

use common::{fixture, Fixture};
use rust_decimal::Decimal;
use server::gateway::SandboxGateway;
use server::payments::{self, AchSync};
use server::AppState;
use shared::money::Currency;
use shared::payment::{
    Consent, LineInput, PaymentInput, PaymentOutcome, PaymentRequest, PaymentStatus,
};
use shared::{AppError, CompanyId, InvoiceId, MethodId, PaymentId};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A request paying `invoice` in full with `method` for the company `code`, under `key`.
fn request(
    code: &str,
    method: MethodId,
    invoice: (InvoiceId, Decimal),
    key: &str,
) -> PaymentRequest {
    let input = PaymentInput {
        company: code.into(),
        method_id: method,
        lines: vec![LineInput {
            invoice_id: invoice.0,
            amount: shared::money::Money::usd(invoice.1),
            short_pay_code: String::new(),
            short_pay_reason: String::new(),
        }],
        consent_channel: "phone".into(),
        consent_reference: "Call with AP".into(),
        idempotency_key: key.into(),
        policy_override: String::new(),
        on_account: None,
        surcharge: None,
    };
    PaymentRequest::parse(
        &input,
        Consent::parse_staff("phone", "Call with AP").unwrap(),
        Currency::USD,
    )
    .unwrap()
}

impl Fixture {
    async fn scalar<T>(&self, sql: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.pool).await.unwrap();
    }

    async fn company(&self, code: &str) -> CompanyId {
        self.scalar(&format!("SELECT id FROM companies WHERE code = '{code}'"))
            .await
    }

    /// The company's oldest open invoices as (id, balance).
    async fn open_of(&self, company_id: CompanyId, n: i64) -> Vec<(InvoiceId, Decimal)> {
        sqlx::query_as("SELECT id, balance FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date, id LIMIT $2")
            .bind(company_id)
            .bind(n)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn pay_with(
        &self,
        gateway: &SandboxGateway,
        config: &server::Config,
        company_id: CompanyId,
        req: &PaymentRequest,
    ) -> Result<PaymentOutcome, AppError> {
        payments::pay(
            &self.pool,
            gateway,
            config,
            &self.clerk.reach(company_id, "Company")?,
            req,
            server::companies::today(),
        )
        .await
        .map_err(|e| e.into_app())
    }

    /// A card the gateway does not know (revoked on its side): it refuses any charge.
    async fn revoked_card(&self) -> MethodId {
        self.scalar(&format!(
            "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand, exp_month, exp_year) \
             VALUES ({}, 'card', 'tok_revoked_at_the_gateway', 'Maria Alvarez', '1881', 'visa', 12, 2031) RETURNING id",
            self.company_id
        ))
        .await
    }
}

fn assert_field(e: &AppError, field: &str, words: &str) {
    let f = e.field().unwrap_or_else(|| panic!("a field error: {e:?}"));
    assert_eq!(f.field, field, "{e:?}");
    assert!(
        f.message.contains(words),
        "{:?} should say {words:?}",
        f.message
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_charge_the_clerk_stopped_waiting_for_is_approved_once_by_the_reconciler(pool: PgPool) {
    let f = fixture(pool).await;
    // The gateway takes 1.5 s; Settle waits 0.5 s; the reconciler runs every second.
    let mut config = f.config.clone();
    config.gateway_timeout = Duration::from_millis(500);
    config.reconcile_every = Duration::from_secs(1);
    let slow = SandboxGateway::new(f.pool.clone(), Duration::from_millis(1500));
    let inv = f.open_of(f.company_id, 1).await[0];
    let visa = f.method("4242").await;
    let req = request("C1002", visa, inv, &key());

    let e = f
        .pay_with(&slow, &config, f.company_id, &req)
        .await
        .unwrap_err();
    assert_field(&e, "method", "being checked");
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO, "held while checked");

    // The gateway finishes the charge it received; the reconciler finds it by key.
    server::housekeeping::spawn(AppState::with_sandbox(
        f.pool.clone(),
        config.clone(),
        Arc::new(slow.clone()),
    ));
    let started = Instant::now();
    let mut seen_checking = false;
    let status = loop {
        let status: String = f
            .scalar("SELECT status FROM payments WHERE idempotency_key IS NOT NULL")
            .await;
        if status != "processing" || started.elapsed() > Duration::from_secs(30) {
            break status;
        }
        seen_checking |= !payments::awaiting_gateway(&f.pool, &f.clerk.staff().unwrap())
            .await
            .unwrap()
            .is_empty();
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "approved");
    assert!(seen_checking, "listed as awaiting the gateway meanwhile");
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM sandbox_charges")
            .await,
        1
    );
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        1
    );
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO, "reduced once");
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM audit_events WHERE action = 'payment.approved'")
            .await,
        1
    );
    // The clerk's retry of the same form gets the receipt.
    let again = f
        .pay_with(&slow, &config, f.company_id, &req)
        .await
        .unwrap();
    assert!(matches!(again, PaymentOutcome::Paid(r) if r.status == PaymentStatus::Approved));
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM sandbox_charges")
            .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn with_the_gateway_out_of_reach_a_payment_shows_as_checking_until_it_is_back(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open_of(f.company_id, 1).await[0];
    let visa = f.method("4242").await;
    let req = request("C1002", visa, inv, &key());
    f.gateway.set_reachable(false);
    let e = f
        .pay_with(&f.gateway, &f.config, f.company_id, &req)
        .await
        .unwrap_err();
    assert_field(&e, "method", "being checked");

    // The reconciler cannot reach it either: it backs off and says why.
    assert_eq!(f.reconcile_now().await, 0);
    assert_eq!(f.reconcile_now().await, 0);
    let (checks, error, wait): (i32, Option<String>, f64) = sqlx::query_as(
        "SELECT gateway_checks, last_gateway_error, extract(epoch FROM next_gateway_check_at - now())::float8 FROM payments \
         WHERE idempotency_key IS NOT NULL",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(checks, 2);
    assert!(error.unwrap().contains("unreachable"));
    assert!(
        (5.0..=10.5).contains(&wait),
        "second check backs off: {wait}"
    );
    let awaiting = payments::awaiting_gateway(&f.pool, &f.clerk.staff().unwrap())
        .await
        .unwrap();
    assert_eq!(awaiting.len(), 1);
    assert_eq!(awaiting[0].checks, 2);
    let ours = f
        .scalar::<PaymentId>("SELECT id FROM payments WHERE idempotency_key IS NOT NULL")
        .await;
    let receipt = payments::receipt(&f.pool, &f.clerk, ours).await.unwrap();
    assert!(receipt.checking_with_gateway);
    assert_eq!(receipt.status, PaymentStatus::Processing);
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO, "still held");

    // Back: the next check sends the charge with the payment's key, once.
    f.gateway.set_reachable(true);
    assert_eq!(f.reconcile_now().await, 1);
    assert_eq!(
        f.scalar::<String>("SELECT status FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        "approved"
    );
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM sandbox_charges")
            .await,
        1
    );
    assert!(
        payments::awaiting_gateway(&f.pool, &f.clerk.staff().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    let receipt = payments::receipt(&f.pool, &f.clerk, ours).await.unwrap();
    assert!(!receipt.checking_with_gateway);
    assert_eq!(receipt.status, PaymentStatus::Approved);
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_method_the_gateway_refuses_can_be_swapped_under_the_same_key(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open_of(f.company_id, 1).await[0];
    let revoked = f.revoked_card().await;
    let visa = f.method("4242").await;
    let k = key();
    let refused_req = request("C1002", revoked, inv, &k);

    let e = f
        .pay_with(&f.gateway, &f.config, f.company_id, &refused_req)
        .await
        .unwrap_err();
    assert_field(&e, "method", "Nothing was charged");
    assert_eq!(f.balance(inv.0).await, inv.1, "balance restored");
    let (status, audit): (String, i64) = sqlx::query_as(
        "SELECT p.status, (SELECT count(*) FROM audit_events a WHERE a.entity_id = p.number AND a.action = 'payment.failed') \
         FROM payments p WHERE p.idempotency_key IS NOT NULL",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), audit), ("failed", 1));
    // A replay of the same request answers as the first time.
    let again = f
        .pay_with(&f.gateway, &f.config, f.company_id, &refused_req)
        .await
        .unwrap_err();
    assert_eq!(again, e);
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        1
    );

    // The same form with another method pays.
    let swapped = request("C1002", visa, inv, &k);
    let PaymentOutcome::Paid(receipt) = f
        .pay_with(&f.gateway, &f.config, f.company_id, &swapped)
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(receipt.method, "Visa •••• 4242");
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    // The gateway saw this attempt under a key of its own.
    assert_eq!(
        f.scalar::<String>("SELECT idempotency_key FROM sandbox_charges")
            .await,
        format!("{k}.2")
    );
    // Replays now answer with that payment; the refused request no longer fits the key.
    let replay = f
        .pay_with(&f.gateway, &f.config, f.company_id, &swapped)
        .await
        .unwrap();
    assert!(matches!(replay, PaymentOutcome::Paid(r) if r.payment_id == receipt.payment_id));
    let e = f
        .pay_with(&f.gateway, &f.config, f.company_id, &refused_req)
        .await
        .unwrap_err();
    assert_field(&e, "idempotency_key", "already used");
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM sandbox_charges")
            .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refusal_is_recorded_whole_or_not_at_all(pool: PgPool) {
    let f = fixture(pool).await;
    let inv = f.open_of(f.company_id, 1).await[0];
    let revoked = f.revoked_card().await;
    let req = request("C1002", revoked, inv, &key());
    // Writing the audit row fails: the status change, the balance and the key's answer must
    // not be recorded without it.
    f.exec(
        "CREATE FUNCTION no_failed_audit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.action = 'payment.failed' THEN RAISE EXCEPTION 'audit store down'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER no_failed_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION no_failed_audit();",
    )
    .await;
    let e = f
        .pay_with(&f.gateway, &f.config, f.company_id, &req)
        .await
        .unwrap_err();
    assert_eq!(e, AppError::Internal);
    assert_eq!(
        f.scalar::<String>("SELECT status FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        "processing"
    );
    assert_eq!(
        f.balance(inv.0).await,
        Decimal::ZERO,
        "still held, not half restored"
    );
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM idempotency_keys WHERE refusal IS NOT NULL OR response IS NOT NULL")
            .await,
        0
    );
    // Once it can be written, the reconciler records the refusal whole.
    f.exec("DROP TRIGGER no_failed_audit ON audit_events").await;
    assert_eq!(f.reconcile_now().await, 1);
    assert_eq!(
        f.scalar::<String>("SELECT status FROM payments WHERE idempotency_key IS NOT NULL")
            .await,
        "failed"
    );
    assert_eq!(f.balance(inv.0).await, inv.1);
    assert_eq!(
        f.scalar::<i64>("SELECT count(*) FROM audit_events WHERE action = 'payment.failed'")
            .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn ach_results_are_never_lost_when_recording_fails_midway(pool: PgPool) {
    let f = fixture(pool).await;
    // Two ACH payments for each company with a bank account: C1003's are the returned ones.
    let mut paid = Vec::new();
    for code in ["C1001", "C1002", "C1003", "C1004", "C1005"] {
        let company = f.company(code).await;
        let ach: MethodId = f
            .scalar(&format!(
                "SELECT id FROM payment_methods WHERE company_id = {company} AND kind = 'ach'"
            ))
            .await;
        for inv in f.open_of(company, 2).await {
            let req = request(code, ach, inv, &key());
            let PaymentOutcome::Paid(r) = f
                .pay_with(&f.gateway, &f.config, company, &req)
                .await
                .unwrap()
            else {
                panic!("declined")
            };
            assert_eq!(r.status, PaymentStatus::Pending);
            paid.push((code, r.payment_id, inv));
        }
    }
    assert_eq!(paid.len(), 10);
    // The bank network moves all ten on at the gateway.
    assert_eq!(f.gateway.advance_ach(Duration::ZERO).await.unwrap(), 10);
    // Recording one of C1003's returns fails in the middle of the batch.
    let (_, broken, broken_inv) = paid.iter().find(|p| p.0 == "C1003").copied().unwrap();
    f.exec(&format!(
        "CREATE FUNCTION fail_one() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.id = {broken} AND NEW.status <> OLD.status THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER fail_one BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION fail_one();"
    ))
    .await;
    let every = Duration::from_secs(30);
    let first = payments::sync_ach(&f.pool, &f.gateway, every)
        .await
        .unwrap();
    assert_eq!(
        first,
        AchSync {
            recorded: 9,
            failed: 1,
            ..AchSync::default()
        }
    );
    assert_eq!(
        f.balance(broken_inv.0).await,
        Decimal::ZERO,
        "not yet re-opened"
    );

    // Its next check waits (backing off), then reads the gateway again and records it.
    f.exec("DROP TRIGGER fail_one ON payments").await;
    assert_eq!(
        payments::sync_ach(&f.pool, &f.gateway, every)
            .await
            .unwrap(),
        AchSync::default(),
        "not due again yet"
    );
    f.exec("UPDATE payments SET ach_next_check_at = now() WHERE status = 'pending'")
        .await;
    let second = payments::sync_ach(&f.pool, &f.gateway, every)
        .await
        .unwrap();
    assert_eq!(
        second,
        AchSync {
            recorded: 1,
            ..AchSync::default()
        }
    );
    let statuses: Vec<(PaymentId, String)> = sqlx::query_as(
        "SELECT id, status FROM payments WHERE idempotency_key IS NOT NULL ORDER BY id",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    for (code, id, inv) in &paid {
        let status = &statuses.iter().find(|s| s.0 == *id).unwrap().1;
        if *code == "C1003" {
            assert_eq!(status, "returned");
            assert_eq!(
                f.balance(inv.0).await,
                inv.1,
                "a return re-opens the invoice"
            );
        } else {
            assert_eq!(status, "settled");
            assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
        }
    }
    // Nothing left to record.
    assert_eq!(
        payments::sync_ach(&f.pool, &f.gateway, every)
            .await
            .unwrap(),
        AchSync::default()
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn every_pending_debit_comes_round_and_one_the_gateway_does_not_know_is_flagged(
    pool: PgPool,
) {
    let f = fixture(pool).await;
    // A debit of C1003's (the sandbox returns it)...
    let company = f.company("C1003").await;
    let ach: MethodId = f
        .scalar(&format!(
            "SELECT id FROM payment_methods WHERE company_id = {company} AND kind = 'ach'"
        ))
        .await;
    let inv = f.open_of(company, 1).await[0];
    let req = request("C1003", ach, inv, &key());
    let PaymentOutcome::Paid(r) = f
        .pay_with(&f.gateway, &f.config, company, &req)
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    assert_eq!(r.status, PaymentStatus::Pending);
    // ... behind 600 older pending debits the gateway has no record of (more than a pass
    // takes). Written as rows alone (no events, no mail).
    f.exec(&format!(
        "BEGIN; SET LOCAL session_replication_role = replica;
         INSERT INTO payments (company_id, amount, status, idempotency_key, gateway_key, consent_channel,
                               consent_reference, method_label, created_at, ach_next_check_at)
         SELECT {company}, 1.00, 'pending', gen_random_uuid(), 'unknown-' || g, 'phone', 'Old debit',
                'First Sandbox Bank checking •••• 6789',
                now() - interval '2 days' + g * interval '1 second',
                now() - interval '2 days' + g * interval '1 second'
         FROM generate_series(1, 600) g;
         COMMIT;"
    ))
    .await;
    f.gateway.advance_ach(Duration::ZERO).await.unwrap();
    let every = Duration::from_secs(30);
    // The oldest due first: 500 a pass, each given its next check; the return is seen on the
    // second pass (before, it waited behind the oldest 500 for ever).
    let first = payments::sync_ach(&f.pool, &f.gateway, every)
        .await
        .unwrap();
    assert_eq!(
        first,
        AchSync {
            unknown: 500,
            ..AchSync::default()
        }
    );
    assert_eq!(f.balance(inv.0).await, Decimal::ZERO);
    let second = payments::sync_ach(&f.pool, &f.gateway, every)
        .await
        .unwrap();
    assert_eq!(
        second,
        AchSync {
            recorded: 1,
            unknown: 100,
            ..AchSync::default()
        }
    );
    assert_eq!(
        f.balance(inv.0).await,
        inv.1,
        "the return re-opened the invoice"
    );
    assert_eq!(
        payments::sync_ach(&f.pool, &f.gateway, every)
            .await
            .unwrap(),
        AchSync::default(),
        "nothing due until each one's next check"
    );
    // Shown to staff, oldest first, never skipped silently.
    let flagged = payments::unknown_ach(&f.pool, &f.clerk.staff().unwrap())
        .await
        .unwrap();
    assert_eq!(flagged.len(), 200);
    assert!(flagged[0].started_at < flagged[199].started_at);
    assert_eq!(flagged[0].checks, 1);
    // A debit the gateway does not know is asked about again, backing off.
    let next: f64 = f
        .scalar("SELECT extract(epoch FROM min(ach_next_check_at) - now())::float8 FROM payments WHERE ach_unknown_since IS NOT NULL")
        .await;
    assert!(next >= 29.0, "{next}");
}

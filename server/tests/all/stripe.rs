//! The Stripe adapter against Stripe's published description: every request it makes goes to
//! `scripts/stripe-mock.py`, which checks it against Stripe's own OpenAPI description
//! (server/tests/stripe/spec3.json, kept whole) with an independent JSON Schema validator and
//! answers with Stripe's own example objects, each checked against the description too. A run
//! fails on any request the description does not allow and on any answer it does not allow.

use crate::common;

use common::{fixture, key, Fixture};
use serde_json::Value;
use server::gateway::stripe::client::API_VERSION;
use server::gateway::{
    ChargeStatus, PaymentGateway, StripeGateway, StripeSettings, VoidOffer, Voided,
};
use shared::method::{
    AuthorizationInput, NewBankAccount, NewBankAccountInput, NewCard, TokenizeRequest,
    ACH_AUTHORIZATION_VERSION,
};
use shared::money::Money;
use shared::payment::PaymentOutcome;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The description-checking Stripe, on a free port; stopped when dropped.
struct Mock {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mock {
    async fn start() -> Mock {
        let python = root().join(".data/venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `make tools` (it installs jsonschema_rs with schemathesis)",
            python.display()
        );
        let port_file = std::env::temp_dir().join(format!("stripe-mock-{}", uuid::Uuid::new_v4()));
        let child = Command::new(python)
            .arg(root().join("scripts/stripe-mock.py"))
            .arg(&port_file)
            .spawn()
            .expect("the Stripe mock starts");
        let started = Instant::now();
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the Stripe mock did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let _ = std::fs::remove_file(&port_file);
        Mock {
            child,
            base: format!("http://127.0.0.1:{}", port.trim()),
            http: reqwest::Client::new(),
        }
    }

    fn settings(&self) -> StripeSettings {
        StripeSettings {
            secret_key: "sk_test_settle".into(),
            publishable_key: "pk_test_settle".into(),
            webhook_secrets: vec!["whsec_settle".into()],
            api_base: self.base.clone(),
        }
    }

    fn gateway(&self, pool: &PgPool) -> StripeGateway {
        StripeGateway::new(pool.clone(), self.settings(), Duration::from_secs(15))
    }

    async fn report(&self) -> Value {
        let r = self.http.get(format!("{}/_mock/report", self.base));
        serde_json::from_slice(&r.send().await.unwrap().bytes().await.unwrap()).unwrap()
    }

    /// A control request (`/_mock/{path}`), and what it answers.
    async fn control(&self, path: &str, body: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/_mock/{path}", self.base))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
    }

    /// The PaymentIntents Stripe holds for Settle's key `k` (a search on their metadata).
    async fn intents_for(&self, k: &str) -> Vec<Value> {
        let search = self
            .http
            .get(format!(
                "{}/v1/payment_intents/search?{}",
                self.base,
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("query", &format!("metadata['settle_key']:'{k}'"))
                    .finish()
            ))
            .bearer_auth("sk_test_settle")
            .header("Stripe-Version", API_VERSION);
        let found: Value =
            serde_json::from_slice(&search.send().await.unwrap().bytes().await.unwrap()).unwrap();
        found["data"].as_array().unwrap().clone()
    }

    /// What Stripe.js does in the browser with the publishable key: the card's number goes to
    /// Stripe as a PaymentMethod, and the SetupIntent is confirmed with it.
    async fn confirm_card_setup(&self, client_secret: &str, number: &str) -> String {
        let post = |path: String, body: Vec<(&str, String)>| {
            let r = self
                .http
                .post(format!("{}{path}", self.base))
                .bearer_auth("pk_test_settle")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(body)
                        .finish(),
                );
            async move {
                let a = r.send().await.unwrap();
                assert!(a.status().is_success());
                serde_json::from_slice::<Value>(&a.bytes().await.unwrap()).unwrap()
            }
        };
        let pm = post(
            "/v1/payment_methods".into(),
            vec![
                ("type", "card".into()),
                ("card[number]", number.into()),
                ("card[exp_month]", "12".into()),
                ("card[exp_year]", "2030".into()),
                ("card[cvc]", "123".into()),
            ],
        )
        .await;
        let intent = client_secret.split("_secret_").next().unwrap();
        let done = post(
            format!("/v1/setup_intents/{intent}/confirm"),
            vec![
                ("client_secret", client_secret.into()),
                ("payment_method", pm["id"].as_str().unwrap().into()),
            ],
        )
        .await;
        assert_eq!(done["status"], "succeeded");
        intent.to_string()
    }
}

/// Saves a card for C1002 as the add-card form does with Stripe: a SetupIntent for the
/// company's customer, confirmed by Stripe.js, its PaymentMethod kept.
async fn save_card(f: &Fixture, mock: &Mock, stripe: &StripeGateway, number: &str) -> String {
    let customer = stripe.customer(f.company_id.0).await.unwrap();
    let setup = stripe.card_setup(&customer).await.unwrap();
    let intent = mock
        .confirm_card_setup(setup.client_secret.as_deref().unwrap(), number)
        .await;
    let confirmed = stripe.setup_intent(&intent).await.unwrap();
    assert_eq!(confirmed.customer.as_deref(), Some(customer.as_str()));
    let pm = confirmed.payment_method.unwrap();
    server::methods::add_card(
        &f.pool,
        stripe,
        &f.scope(&f.clerk),
        &NewCard {
            token: pm.clone(),
            holder_name: "Test Holder".into(),
        },
        common::today(),
    )
    .await
    .unwrap();
    pm
}

/// Saves a bank account for C1002 as a customer does in the portal with Stripe: the
/// tokenizer makes it a us_bank_account PaymentMethod, set up with the in-portal authorization
/// as its mandate. Its token and the method saved.
async fn save_bank_account(
    f: &Fixture,
    stripe: &StripeGateway,
) -> (String, shared::method::MethodOption) {
    let token = server::gateway::tokenize(
        stripe,
        &TokenizeRequest::BankAccount {
            routing_number: "110000000".into(),
            account_number: "000123450042".into(),
            holder_name: "Ada Lovelace".into(),
            account_type: Some("savings".into()),
        },
        common::today(),
    )
    .await
    .unwrap()
    .token;
    assert!(token.starts_with("pm_"), "{token}");
    let portal = f.customer_of("C1002").await;
    let input = NewBankAccountInput {
        company: String::new(),
        token: token.clone(),
        holder_name: "Ada Lovelace".into(),
        holder_type: "personal".into(),
        account_type: "savings".into(),
        authorization: AuthorizationInput::InPortal {
            version: ACH_AUTHORIZATION_VERSION.into(),
            signed_name: "Ada Lovelace".into(),
            agreed: true,
        },
    };
    let saved = server::methods::add_bank_account(
        &f.pool,
        stripe,
        &portal.reach(f.company_id, "Company").unwrap(),
        &NewBankAccount::parse(&input, common::today()).unwrap(),
        Some("203.0.113.7"),
        Some("Mozilla/5.0 (X11; Linux x86_64)"),
        common::today(),
    )
    .await
    .unwrap();
    (token, saved)
}

/// A request to pay C1002's oldest open invoice in full with the method saved as `pm`, its
/// key and the invoice (id, balance).
async fn oldest_in_full(
    f: &Fixture,
    pm: &str,
) -> (
    shared::payment::PaymentRequest,
    String,
    (shared::InvoiceId, rust_decimal::Decimal),
) {
    let method: shared::MethodId =
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE gateway_token = $1")
            .bind(pm)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let inv = f.open().await[0];
    let k = key();
    (
        f.request(method, &[(inv.0, &inv.1.to_string(), "")], &k),
        k,
        inv,
    )
}

/// Pays C1002's oldest open invoice in full with the method saved as `pm`, through Stripe.
async fn pay_oldest(f: &Fixture, stripe: &StripeGateway, pm: &str) -> (PaymentOutcome, String) {
    let (req, k, _) = oldest_in_full(f, pm).await;
    let outcome = server::payments::pay(
        &f.pool,
        stripe,
        &f.config,
        &f.scope(&f.clerk),
        &req,
        common::today(),
    )
    .await
    .map_err(|e| e.into_app())
    .unwrap();
    (outcome, k)
}

/// Every request the adapter makes conforms to the description; every answer the mock gave
/// conforms too; the requests name the pinned version, and charges and refunds carry keys.
async fn assert_all_conform(mock: &Mock) -> usize {
    let report = mock.report().await;
    assert_eq!(report["violations"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["answers_invalid"], serde_json::json!([]));
    let requests = report["requests"].as_array().unwrap();
    for r in requests.iter().filter(|r| r["key"] == "sk_test") {
        assert_eq!(r["stripe_version"], API_VERSION, "{r}");
        if r["method"] == "POST"
            && matches!(
                r["operation"].as_str(),
                Some("/v1/payment_intents") | Some("/v1/refunds") | Some("/v1/customers")
            )
        {
            assert!(r["idempotency_key"].is_string(), "{r}");
        }
    }
    let mut operations: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["operation"]))
        .collect();
    operations.sort();
    operations.dedup();
    println!(
        "Stripe description: {} requests validated, 0 violations; operations: {}",
        report["validated"],
        operations.join(", ")
    );
    report["validated"].as_u64().unwrap() as usize
}

#[sqlx::test(migrations = "./migrations")]
async fn cards_and_bank_accounts_through_stripe(pool: PgPool) {
    let mock = Mock::start().await;
    let f = fixture(pool).await;
    let stripe = mock.gateway(&f.pool);

    // One customer per company, made once.
    let customer = stripe.customer(f.company_id.0).await.unwrap();
    assert_eq!(stripe.customer(f.company_id.0).await.unwrap(), customer);
    assert!(customer.starts_with("cus_"));

    // A card saved through a SetupIntent: its brand, last four and expiry as Stripe keeps them.
    let visa = save_card(&f, &mock, &stripe, "4242424242424242").await;
    let (last4, brand): (String, String) =
        sqlx::query_as("SELECT last4, card_brand FROM payment_methods WHERE gateway_token = $1")
            .bind(&visa)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!((last4.as_str(), brand.as_str()), ("4242", "visa"));
    let before = f.open().await[0];
    let (paid, paid_key) = pay_oldest(&f, &stripe, &visa).await;
    assert!(matches!(paid, PaymentOutcome::Paid(_)), "{paid:?}");
    assert_eq!(f.balance(before.0).await, rust_decimal::Decimal::ZERO);

    // Found again by its key (search on metadata), as after a crash.
    let found = stripe.find_charge(&paid_key).await.unwrap().unwrap();
    assert_eq!(found.status, ChargeStatus::Approved);
    let intent = found.id.clone();
    assert!(intent.starts_with("pi_"));
    // The same key again is the same PaymentIntent (Stripe's idempotency), not a new charge.
    let again = stripe
        .charge(&visa, Money::usd(before.1), &paid_key)
        .await
        .unwrap();
    assert_eq!(again.id, intent);
    // The same key for another amount is refused.
    let other = stripe
        .charge(&visa, Money::usd(rust_decimal::Decimal::ONE), &paid_key)
        .await;
    assert!(
        matches!(other, Err(server::gateway::GatewayError::Refused(_))),
        "{other:?}"
    );

    // Declines: the card's decline code; a card whose bank wants the cardholder refused with
    // the reason.
    let poor = save_card(&f, &mock, &stripe, "4000000000009995").await;
    let code = |o: &PaymentOutcome| match o {
        PaymentOutcome::Declined { code, message, .. } => (code.clone(), message.clone()),
        other => panic!("not declined: {other:?}"),
    };
    let (declined, declined_key) = pay_oldest(&f, &stripe, &poor).await;
    assert_eq!(code(&declined).0, "insufficient_funds");
    // An intent Stripe has not sent anywhere (back at requires_payment_method) is cancelled
    // by POST /v1/payment_intents/{id}/cancel, and read back as voided.
    let unsent = stripe.find_charge(&declined_key).await.unwrap().unwrap();
    assert_eq!(
        stripe.void_offer(&unsent.id).await.unwrap(),
        VoidOffer::Cancel
    );
    assert_eq!(
        stripe.void(&unsent.id, false, &key()).await.unwrap(),
        Voided::Cancelled
    );
    let secure = save_card(&f, &mock, &stripe, "4000002500003155").await;
    let (needs, _) = pay_oldest(&f, &stripe, &secure).await;
    assert_eq!(code(&needs).0, "authentication_required");

    // Refunds: in parts, never past the charge.
    let cents = |c: i64| Money::from_minor_units(c, shared::money::Currency::USD);
    let refund_key = key();
    let made = stripe
        .refund(&intent, cents(100), &refund_key)
        .await
        .unwrap();
    assert_eq!(made.status, server::gateway::RefundStatus::Succeeded);
    assert!(made.id.starts_with("re_"), "{made:?}");
    // Found again by its key among the intent's refunds (what Settle asks after a timeout);
    // another key finds nothing.
    assert_eq!(
        stripe.find_refund(&intent, &refund_key).await.unwrap(),
        Some(made.clone())
    );
    assert_eq!(stripe.find_refund(&intent, &key()).await.unwrap(), None);
    let too_much = stripe.refund(&intent, cents(100_000_000), &key()).await;
    assert!(matches!(
        too_much,
        Err(server::gateway::GatewayError::Refused(_))
    ));

    // A bank account, added by the customer in the portal: the tokenizer makes it a
    // us_bank_account PaymentMethod, and saving it sets up a SetupIntent for the company's
    // customer whose mandate is the authorization agreed on the page.
    let (token, saved) = save_bank_account(&f, &stripe).await;
    assert!(saved.label().ends_with("•••• 0042"), "{}", saved.label());
    let report = mock.report().await;
    let mandate = report["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "/v1/setup_intents" && r["method"] == "POST")
        .count();
    assert!(mandate >= 1);
    let details = stripe.token_details(&token).await.unwrap().unwrap();
    assert_eq!(
        details,
        server::gateway::TokenDetails::BankAccount {
            routing_number: "110000000".into(),
            last4: "0042".into()
        }
    );
    // A debit is pending while Stripe processes it, settled when it succeeds...
    let (outcome, k) = pay_oldest(&f, &stripe, &token).await;
    assert!(matches!(outcome, PaymentOutcome::Paid(_)), "{outcome:?}");
    let debit = stripe.find_charge(&k).await.unwrap().unwrap();
    assert_eq!(debit.status, ChargeStatus::Pending);
    // Stripe cancels no bank debit it is processing: nothing is offered, and a void asked
    // anyway is refused with the reason (payment_intent_unexpected_state).
    let VoidOffer::No(why) = stripe.void_offer(&debit.id).await.unwrap() else {
        panic!("a processing debit offered a void")
    };
    assert!(why.contains("refunded once it settles"), "{why}");
    let refused = stripe.void(&debit.id, false, &key()).await;
    assert!(
        matches!(&refused, Err(server::gateway::GatewayError::Refused(why)) if why.contains("processing")),
        "{refused:?}"
    );
    mock.control(&format!("payment_intents/{}/succeeded", debit.id), "")
        .await;
    let settled = stripe.find_charge(&k).await.unwrap().unwrap();
    assert_eq!(settled.status, ChargeStatus::Settled);
    // ...and returned, with the reason, when the bank fails it after processing.
    let k = key();
    let debit = stripe.charge(&token, cents(7_500), &k).await.unwrap();
    mock.control(&format!("payment_intents/{}/failed", debit.id), "")
        .await;
    let returned = stripe.find_charge(&k).await.unwrap().unwrap();
    assert_eq!(returned.status, ChargeStatus::Returned);
    assert_eq!(returned.code.as_deref(), Some("insufficient_funds"));

    // Card numbers never reach Settle with Stripe.
    assert!(stripe
        .tokenize_card(
            &shared::card::CardNumber::parse("4242424242424242").unwrap(),
            12,
            2030
        )
        .await
        .is_err());

    let validated = assert_all_conform(&mock).await;
    assert!(validated >= 30, "{validated}");
}

/// A payment whose Stripe call is cut off (the process killed while Stripe holds the request)
/// is recorded once, by the reconciler finding it by its key: one PaymentIntent, one charge.
#[sqlx::test(migrations = "./migrations")]
async fn a_payment_cut_off_mid_call_is_recorded_once(pool: PgPool) {
    let mock = Mock::start().await;
    let f = fixture(pool).await;
    let stripe = mock.gateway(&f.pool);
    let visa = save_card(&f, &mock, &stripe, "4242424242424242").await;
    // Stripe records the PaymentIntent, then holds its answer; the payer's request is killed.
    let (_, k, inv) = cut_off_payment(&f, &mock, &stripe, &visa).await;
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE status = 'processing'")
            .await,
        1
    );

    // The restart comes more than a day later: Stripe has forgotten the key, so the adapter
    // looks for the charge by its metadata before asking again, and finds it.
    sqlx::query("UPDATE payments SET created_at = now() - interval '25 hours' WHERE idempotency_key = $1::uuid")
        .bind(&k)
        .execute(&f.pool)
        .await
        .unwrap();
    mock.control("forget_keys", "").await;
    f.checks_due_now().await;
    let resolved = server::payments::reconcile(&f.pool, &stripe, &f.config)
        .await
        .unwrap();
    assert_eq!(resolved, 1);
    let (status, allocated): (String, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT p.status, (SELECT sum(amount) FROM payment_allocations a WHERE a.payment_id = p.id) \
         FROM payments p WHERE p.idempotency_key = $1::uuid",
    )
    .bind(&k)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(status, "approved");
    assert_eq!(allocated, inv.1);
    assert_eq!(f.balance(inv.0).await, rust_decimal::Decimal::ZERO);
    // Another pass changes nothing.
    f.checks_due_now().await;
    server::payments::reconcile(&f.pool, &stripe, &f.config)
        .await
        .unwrap();
    // Stripe holds one PaymentIntent for the payment.
    assert_eq!(mock.intents_for(&k).await.len(), 1);
    assert_all_conform(&mock).await;
}

/// The mock refuses what the description forbids, so the checks above can fail.
#[tokio::test]
async fn the_description_refuses_what_stripe_would() {
    let mock = Mock::start().await;
    let send = |body: &'static str| {
        mock.http
            .post(format!("{}/v1/payment_intents", mock.base))
            .bearer_auth("sk_test_settle")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // An unknown parameter, an amount that is not a number, a missing required one.
    for body in [
        "amount=100&currency=usd&settle_key=x",
        "amount=ten&currency=usd",
        "amount=100",
    ] {
        assert_eq!(send(body).await.unwrap().status(), 400, "{body}");
    }
    let report = mock.report().await;
    assert_eq!(
        report["violations"].as_array().unwrap().len(),
        3,
        "{report:#}"
    );
}

/// Stripe's `v1` signature of `body` at `t` under `secret`, computed by Python's hmac and
/// hashlib as Stripe documents it ("{t}.{body}", HMAC-SHA256, hex), not by Settle's code.
fn stripe_v1(secret: &str, t: i64, body: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(root().join(".data/venv/bin/python"))
        .args([
            "-c",
            "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode() + b'.' + sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            secret,
            &t.to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An event as Stripe sends it: Stripe's example event (fixtures3.json) around `object`.
fn event(id: &str, kind: &str, object: Value) -> Vec<u8> {
    let fixtures: Value = serde_json::from_slice(
        &std::fs::read(root().join("server/tests/stripe/fixtures3.json")).unwrap(),
    )
    .unwrap();
    let mut e = fixtures["resources"]["event"].clone();
    e["id"] = id.into();
    e["type"] = kind.into();
    e["created"] = chrono::Utc::now().timestamp().into();
    e["data"]["object"] = object;
    serde_json::to_vec(&e).unwrap()
}

/// A payment for C1002's oldest open invoice left `processing`: Stripe records its
/// PaymentIntent, then holds its answer, and the payer's request is killed meanwhile. Answers
/// the intent as Stripe holds it, the payment's key and the invoice (id, balance).
async fn cut_off_payment(
    f: &Fixture,
    mock: &Mock,
    stripe: &StripeGateway,
    pm: &str,
) -> (Value, String, (shared::InvoiceId, rust_decimal::Decimal)) {
    let (req, k, inv) = oldest_in_full(f, pm).await;
    mock.control("hold", r#"{"seconds": 3}"#).await;
    let (pool, config, scope, stripe2) = (
        f.pool.clone(),
        f.config.clone(),
        f.scope(&f.clerk),
        stripe.clone(),
    );
    let payer = tokio::spawn(async move {
        server::payments::pay(&pool, &stripe2, &config, &scope, &req, common::today()).await
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    payer.abort();
    assert!(payer.await.unwrap_err().is_cancelled());
    let intents = mock.intents_for(&k).await;
    assert_eq!(
        intents.len(),
        1,
        "Stripe recorded the intent before it was cut off"
    );
    (intents[0].clone(), k, inv)
}

/// Events signed exactly as Stripe documents: a valid one is applied once; a replay of its id,
/// a stale timestamp, a tampered body and an unknown secret change nothing; during a secret's
/// rotation either secret is accepted; disputes are kept on their payment and reopen its
/// invoice while the network holds the money.
#[sqlx::test(migrations = "./migrations")]
async fn stripe_events_signed_applied_once(pool: PgPool) {
    use server::gateway::stripe::events::{receive, EventRefusal, Received};
    use server::signature::SignatureError;
    let mock = Mock::start().await;
    let f = fixture(pool).await;
    let stripe = mock.gateway(&f.pool);
    let visa = save_card(&f, &mock, &stripe, "4242424242424242").await;
    let (intent, _, _) = cut_off_payment(&f, &mock, &stripe, &visa).await;
    assert_eq!(intent["status"], "succeeded");
    let status = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT status FROM payments WHERE idempotency_key = $1::uuid",
        )
        .bind(intent["metadata"]["settle_key"].as_str().unwrap())
        .fetch_one(&f.pool)
        .await
        .unwrap()
    };
    assert_eq!(status().await, "processing");

    let (old, new) = ("whsec_settle_old", "whsec_settle_new");
    let secrets = vec![old.to_string(), new.to_string()];
    let now = chrono::Utc::now().timestamp();
    let body = event("evt_1Settle", "payment_intent.succeeded", intent.clone());
    let deliver = |header: String, body: Vec<u8>, secrets: Vec<String>| {
        let pool = f.pool.clone();
        async move { receive(&pool, &secrets, Some(&header), &body, now).await }
    };

    // Stale: signed 301 s ago. Tampered: the amount changed after signing. Unknown secret.
    let stale = format!("t={},v1={}", now - 301, stripe_v1(old, now - 301, &body));
    assert!(matches!(
        deliver(stale, body.clone(), secrets.clone()).await,
        Err(EventRefusal::Signature(SignatureError::Stale(301)))
    ));
    let tampered =
        String::from_utf8(body.clone())
            .unwrap()
            .replacen("\"amount\":", "\"amount\":1", 1);
    let signed = format!("t={now},v1={}", stripe_v1(old, now, &body));
    assert!(matches!(
        deliver(signed.clone(), tampered.into_bytes(), secrets.clone()).await,
        Err(EventRefusal::Signature(SignatureError::NoMatch))
    ));
    assert!(matches!(
        deliver(signed.clone(), body.clone(), vec!["whsec_other".into()]).await,
        Err(EventRefusal::Signature(SignatureError::NoMatch))
    ));
    assert!(matches!(
        receive(&f.pool, &secrets, None, &body, now).await,
        Err(EventRefusal::Signature(SignatureError::Missing))
    ));
    assert_eq!(
        status().await,
        "processing",
        "nothing refused changed the payment"
    );

    // Rotation: Stripe signs with both secrets; Settle knows only the new one yet.
    let both = format!(
        "t={now},v1={},v1={}",
        stripe_v1("whsec_not_ours", now, &body),
        stripe_v1(new, now, &body)
    );
    assert_eq!(
        deliver(both, body.clone(), secrets.clone()).await.unwrap(),
        Received::Applied
    );
    assert_eq!(status().await, "approved");
    // The same event again (Stripe retries) is not applied again.
    assert_eq!(
        deliver(signed, body.clone(), secrets.clone())
            .await
            .unwrap(),
        Received::Replayed
    );
    // Another event about the same, already-recorded, payment changes nothing.
    let again = event("evt_2Settle", "payment_intent.succeeded", intent.clone());
    let header = format!("t={now},v1={}", stripe_v1(old, now, &again));
    assert_eq!(
        deliver(header, again, secrets.clone()).await.unwrap(),
        Received::Already
    );
    let allocations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id \
         WHERE p.idempotency_key = $1::uuid",
    )
    .bind(intent["metadata"]["settle_key"].as_str().unwrap())
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(allocations, 1);

    // A dispute, opened then won: kept on the payment, closed once won.
    let fixtures: Value = serde_json::from_slice(
        &std::fs::read(root().join("server/tests/stripe/fixtures3.json")).unwrap(),
    )
    .unwrap();
    let mut dispute = fixtures["resources"]["dispute"].clone();
    dispute["id"] = "dp_1Settle".into();
    dispute["amount"] = 2500.into();
    dispute["payment_intent"] = intent["id"].clone();
    dispute["status"] = "needs_response".into();
    dispute["evidence_details"]["due_by"] = (now + 7 * 86_400).into();
    dispute["reason"] = "fraudulent".into();
    let paid: shared::PaymentId =
        sqlx::query_scalar("SELECT id FROM payments WHERE idempotency_key = $1::uuid")
            .bind(intent["metadata"]["settle_key"].as_str().unwrap())
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let shown = || async {
        server::payments::receipt(&f.pool, &f.clerk, paid)
            .await
            .unwrap()
            .dispute
    };
    assert_eq!(shown().await, None);
    for (id, status) in [("evt_3Settle", "needs_response"), ("evt_4Settle", "won")] {
        dispute["status"] = status.into();
        let kind = if status == "won" {
            "charge.dispute.closed"
        } else {
            "charge.dispute.created"
        };
        let body = event(id, kind, dispute.clone());
        let header = format!("t={now},v1={}", stripe_v1(new, now, &body));
        assert_eq!(
            deliver(header, body, secrets.clone()).await.unwrap(),
            Received::Recorded
        );
        let reopened: rust_decimal::Decimal = sqlx::query_scalar(
            "SELECT COALESCE(sum(rl.reopened), 0) FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id \
             WHERE r.dispute_id = 'dp_1Settle'",
        )
        .fetch_one(&f.pool)
        .await
        .unwrap();
        assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);
        if status == "needs_response" {
            // The money taken: the invoice open again by the disputed $25.00.
            assert_eq!(reopened, common::d("25.00"));
            let line = shown().await.unwrap();
            assert!(
                line.starts_with("Disputed $25.00 (fraudulent): needs response, evidence due "),
                "{line}"
            );
        } else {
            // Won: the money back, the invoice closed again.
            assert_eq!(reopened, rust_decimal::Decimal::ZERO);
        }
    }
    let (amount, dstatus, closed): (rust_decimal::Decimal, String, bool) = sqlx::query_as(
        "SELECT amount, status, closed_at IS NOT NULL FROM payment_disputes WHERE id = 'dp_1Settle'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        (amount, dstatus.as_str(), closed),
        (common::d("25.00"), "won", true)
    );
    // Shown on the payment's receipt, as it stands.
    assert_eq!(
        shown().await.as_deref(),
        Some("Disputed $25.00 (fraudulent): won: the money stays with you")
    );
    assert_eq!(f.count("SELECT count(*) FROM stripe_events").await, 4);
    assert_all_conform(&mock).await;
}

/// Every answer the description documents for a PaymentIntent (each `status` its schema
/// lists, for a card and for a bank debit) and for a refused request (each error `type`, with
/// the HTTP statuses Stripe answers them with), built from Stripe's own example objects and
/// checked against the description, means what Settle takes it to mean.
#[tokio::test]
async fn every_documented_answer_conforms_and_maps() {
    use server::gateway::stripe::answers::{refusal, PaymentIntent, Refusal};
    use server::gateway::GatewayError;
    let mock = Mock::start().await;
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(root().join("server/tests/stripe").join(p)).unwrap())
            .unwrap()
    };
    let (spec, fixtures) = (read("spec3.json"), read("fixtures3.json"));
    let check = |schema: &'static str, answer: Value| {
        let r = mock
            .http
            .post(format!("{}/_mock/validate/{schema}", mock.base))
            .body(answer.to_string());
        async move {
            let v: Value =
                serde_json::from_slice(&r.send().await.unwrap().bytes().await.unwrap()).unwrap();
            assert_eq!(v["problems"], serde_json::json!([]), "{schema}: {answer}");
        }
    };
    let statuses: Vec<String> = spec["components"]["schemas"]["payment_intent"]["properties"]
        ["status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses.len(), 7, "{statuses:?}");
    let failure = serde_json::json!({
        "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds."
    });
    for status in &statuses {
        for kind in ["card", "us_bank_account"] {
            let mut answer = fixtures["resources"]["payment_intent"].clone();
            answer["status"] = status.as_str().into();
            answer["payment_method_types"] = serde_json::json!([kind]);
            answer["metadata"] = serde_json::json!({ "settle_key": "k" });
            if status == "requires_payment_method" {
                answer["last_payment_error"] = failure.clone();
            }
            check("payment_intent", answer.clone()).await;
            let intent: PaymentIntent = serde_json::from_value(answer).unwrap();
            let mapped = intent.charge();
            let bank = kind == "us_bank_account";
            match (status.as_str(), bank) {
                ("succeeded", false) => assert_eq!(mapped.unwrap().status, ChargeStatus::Approved),
                ("succeeded", true) => assert_eq!(mapped.unwrap().status, ChargeStatus::Settled),
                ("processing", true) => assert_eq!(mapped.unwrap().status, ChargeStatus::Pending),
                ("processing", false) => assert_eq!(mapped, Err(GatewayError::Timeout)),
                ("requires_payment_method", true) => {
                    assert_eq!(mapped.unwrap().status, ChargeStatus::Returned)
                }
                ("requires_payment_method", false) => {
                    let c = mapped.unwrap();
                    assert_eq!(c.status, ChargeStatus::Declined);
                    assert_eq!(c.code.as_deref(), Some("insufficient_funds"));
                }
                ("requires_action", _) | ("canceled", false) => {
                    assert_eq!(mapped.unwrap().status, ChargeStatus::Declined)
                }
                // A bank debit cancelled before it was sent: voided, nothing applied.
                ("canceled", true) => assert_eq!(mapped.unwrap().status, ChargeStatus::Voided),
                // Settle confirms at once and captures automatically: an intent left here was
                // not made by Settle, and is refused rather than guessed at.
                ("requires_confirmation", _) | ("requires_capture", _) => {
                    assert!(matches!(mapped, Err(GatewayError::Refused(_))), "{status}")
                }
                (other, _) => panic!("a status the table does not know: {other}"),
            }
        }
    }
    let kinds: Vec<String> = spec["components"]["schemas"]["api_errors"]["properties"]["type"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    for (http, kind, code) in [
        (402, "card_error", Some("card_declined")),
        (400, "invalid_request_error", Some("parameter_missing")),
        (404, "invalid_request_error", Some("resource_missing")),
        (401, "invalid_request_error", None),
        (400, "idempotency_error", None),
        (409, "idempotency_error", None),
        (429, "invalid_request_error", Some("rate_limit")),
        (500, "api_error", None),
        (503, "api_error", None),
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} is not in the description"
        );
        let mut error = serde_json::json!({ "type": kind, "message": format!("{kind} {http}") });
        if let Some(c) = code {
            error["code"] = c.into();
        }
        if kind == "card_error" {
            error["decline_code"] = "generic_decline".into();
            let mut intent = fixtures["resources"]["payment_intent"].clone();
            intent["status"] = "requires_payment_method".into();
            error["payment_intent"] = intent;
        }
        let body = serde_json::json!({ "error": error });
        check("error", body.clone()).await;
        let mapped = refusal(http, body.to_string().as_bytes());
        match (http, kind) {
            (402, _) => assert!(
                matches!(&mapped, Refusal::Answer(Ok(c)) if c.status == ChargeStatus::Declined
                    && c.code.as_deref() == Some("generic_decline")),
                "{mapped:?}"
            ),
            (429, _) => assert_eq!(mapped, Refusal::RetryLater),
            (500..=599, _) => assert_eq!(mapped, Refusal::Answer(Err(GatewayError::Timeout))),
            (401, _) => assert!(matches!(
                mapped,
                Refusal::Answer(Err(GatewayError::Unavailable(_)))
            )),
            _ => assert!(
                matches!(mapped, Refusal::Answer(Err(GatewayError::Refused(_)))),
                "{http} {kind}"
            ),
        }
    }
}

/// Over HTTP: a 429 is sent again after a wait and goes through; one that keeps coming is
/// "try later" with nothing charged; a 5xx leaves the charge not known yet, and the
/// reconciler's question by key then finds nothing made twice.
#[sqlx::test(migrations = "./migrations")]
async fn rate_limits_and_server_errors_over_http(pool: PgPool) {
    use server::gateway::GatewayError;
    let mock = Mock::start().await;
    let f = fixture(pool).await;
    let stripe = mock.gateway(&f.pool);
    let visa = save_card(&f, &mock, &stripe, "4242424242424242").await;
    let cents = |c: i64| Money::from_minor_units(c, shared::money::Currency::USD);

    // Two 429s (the method read, then the intent): sent again, then approved.
    mock.control("fail_next", r#"{"status": 429, "times": 2}"#)
        .await;
    let k = key();
    let c = stripe.charge(&visa, cents(1_000), &k).await.unwrap();
    assert_eq!(c.status, ChargeStatus::Approved);
    // 429 four times over: refused as unavailable, nothing made.
    mock.control("fail_next", r#"{"status": 429, "times": 4}"#)
        .await;
    let k = key();
    let limited = stripe.charge(&visa, cents(1_000), &k).await;
    assert!(
        matches!(limited, Err(GatewayError::Unavailable(_))),
        "{limited:?}"
    );
    assert_eq!(stripe.find_charge(&k).await.unwrap(), None);
    // A 500 on the intent: not known yet; asked again under the same key, one charge.
    let k = key();
    mock.control(
        "fail_next",
        r#"{"status": 503, "times": 1, "operation": "/v1/payment_intents"}"#,
    )
    .await;
    let unknown = stripe.charge(&visa, cents(2_000), &k).await;
    assert_eq!(unknown, Err(GatewayError::Timeout));
    let again = stripe.charge(&visa, cents(2_000), &k).await.unwrap();
    assert_eq!(again.status, ChargeStatus::Approved);
    assert_all_conform(&mock).await;
}

/// An event Stripe sends, signed with the one secret Settle knows, received and applied.
async fn tell(f: &Fixture, kind: &str, object: Value) {
    use server::gateway::stripe::events::{receive, Received};
    let now = chrono::Utc::now().timestamp();
    let body = event(&format!("evt_{}", key().replace('-', "")), kind, object);
    let header = format!("t={now},v1={}", stripe_v1("whsec_settle", now, &body));
    let got = receive(
        &f.pool,
        &["whsec_settle".to_string()],
        Some(&header),
        &body,
        now,
    )
    .await
    .unwrap();
    assert!(
        matches!(got, Received::Applied | Received::Recorded),
        "{kind}: {got:?}"
    );
}

/// Deposits with Stripe as the gateway equal Stripe's balance transactions, read from its API
/// (`GET /v1/balance_transactions`, every page, sources expanded): two card charges, a
/// refund, a dispute opened then won and a bank debit that succeeded, each matched by the id
/// Settle keeps, with the fees Stripe took; a charge only Stripe knows is the one difference;
/// Stripe refusing to answer leaves the report whole, said to be not compared.
#[sqlx::test(migrations = "./migrations")]
async fn deposits_equal_stripes_balance_transactions(pool: PgPool) {
    use rust_decimal::Decimal;
    use server::reports::deposits::{self, Sources};
    use shared::deposit::{Books, DepositsQuery, Rail};
    let mock = Mock::start().await;
    let f = fixture(pool).await;
    let stripe = mock.gateway(&f.pool);
    let visa = save_card(&f, &mock, &stripe, "4242424242424242").await;
    let (first, _) = pay_oldest(&f, &stripe, &visa).await;
    let (second, second_key) = pay_oldest(&f, &stripe, &visa).await;
    let (PaymentOutcome::Paid(first), PaymentOutcome::Paid(second)) = (first, second) else {
        panic!("a card payment was declined")
    };
    // A part of the first given back through Settle's refunds.
    f.allow_clerk_refunds().await;
    let line = &first.lines[0];
    let refund = server::payments::refunds::give_back(
        &f.pool,
        &stripe,
        &f.config,
        &f.clerk.staff().unwrap(),
        &shared::refund::RefundRequest::parse(
            &common::refund_input(first.payment_id, &[(&line.invoice_number, "10.00")]),
            shared::money::Currency::USD,
        )
        .unwrap(),
    )
    .await
    .map_err(|e| e.into_app())
    .unwrap();
    assert_eq!(refund.status, shared::refund::RefundStatus::Succeeded);
    // The second disputed by the cardholder's bank, then won.
    let intent = stripe.find_charge(&second_key).await.unwrap().unwrap().id;
    let mut dispute = mock
        .control("disputes", &format!(r#"{{"payment_intent": "{intent}"}}"#))
        .await;
    tell(&f, "charge.dispute.created", dispute.clone()).await;
    let id = dispute["id"].as_str().unwrap().to_string();
    dispute = mock.control(&format!("disputes/{id}/won"), "").await;
    tell(&f, "charge.dispute.closed", dispute).await;
    // A bank debit, settled when Stripe says it succeeded.
    let (bank, _) = save_bank_account(&f, &stripe).await;
    let (_, debit_key) = pay_oldest(&f, &stripe, &bank).await;
    let debit = stripe.find_charge(&debit_key).await.unwrap().unwrap().id;
    let succeeded = mock
        .control(&format!("payment_intents/{debit}/succeeded"), "")
        .await;
    tell(&f, "payment_intent.succeeded", succeeded).await;
    let (status, debit_amount): (String, Decimal) = sqlx::query_as(
        "SELECT status, amount + surcharge FROM payments WHERE idempotency_key = $1::uuid",
    )
    .bind(&debit_key)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(status, "settled");
    assert_eq!(server::ledger::balances_off(&f.pool).await.unwrap(), 0);

    let with_stripe = Sources {
        card: Books::Stripe,
        ach: Books::Stripe,
        stripe: Some(std::sync::Arc::new(stripe.clone())),
    };
    let today = server::reports::today(&f.pool).await.unwrap();
    let query = DepositsQuery {
        from: today,
        to: today,
    };
    let staff = f.clerk.staff().unwrap();
    let report = deposits::report(&f.pool, &staff, &query, &with_stripe)
        .await
        .unwrap();
    assert_eq!(report.card_books, Books::Stripe);
    assert_eq!(report.differences(), 0, "{report:#?}");
    let line = |rail: Rail| report.lines.iter().find(|l| l.rail == rail).unwrap();
    let (card, ach) = (line(Rail::Card), line(Rail::Ach));
    let (a, b) = (first.amount.amount(), second.amount.amount());
    let card_fee = |x: Decimal| (x * Decimal::new(29, 3)).round_dp(2) + Decimal::new(30, 2);
    let gateway = card.gateway.unwrap();
    assert_eq!(
        (
            gateway.payments,
            gateway.refunds,
            gateway.disputes,
            gateway.fees
        ),
        (
            a + b,
            common::d("-10.00"),
            Decimal::ZERO,
            card_fee(a) + card_fee(b) + common::d("15.00")
        ),
        "a dispute won is back: opened less won; Stripe keeps its $15.00"
    );
    assert_eq!(card.settle.payments, gateway.payments);
    let ach_gateway = ach.gateway.unwrap();
    assert_eq!(
        (ach.settle.payments, ach_gateway.payments, ach_gateway.fees),
        (
            debit_amount,
            debit_amount,
            (debit_amount * Decimal::new(8, 3))
                .round_dp(2)
                .min(common::d("5.00"))
        )
    );
    // Movement by movement: each matched by the intent, the refund or the dispute.
    let day = deposits::day(&f.pool, &staff, today, Rail::Card, &with_stripe)
        .await
        .unwrap();
    assert_eq!(day.items.len(), 5, "{:#?}", day.items);
    assert!(
        day.items
            .iter()
            .all(|i| i.settle.is_some() && i.settle == i.gateway),
        "{:#?}",
        day.items
    );
    assert!(day
        .items
        .iter()
        .any(|i| i.reference.as_deref() == Some(id.as_str())));
    assert!(day
        .items
        .iter()
        .any(|i| i.reference.as_deref() == Some(intent.as_str())));

    // A charge only Stripe knows (made on the account outside Settle): one difference, an item
    // of its own.
    let stray = stripe
        .charge(
            &visa,
            Money::from_minor_units(1_234, shared::money::Currency::USD),
            &key(),
        )
        .await
        .unwrap();
    let report = deposits::report(&f.pool, &staff, &query, &with_stripe)
        .await
        .unwrap();
    assert_eq!(report.differences(), 1);
    let day = deposits::day(&f.pool, &staff, today, Rail::Card, &with_stripe)
        .await
        .unwrap();
    let only = day
        .items
        .iter()
        .find(|i| i.reference.as_deref() == Some(stray.id.as_str()))
        .unwrap();
    assert_eq!(
        (only.settle, only.gateway, only.payment.as_deref()),
        (None, Some(common::d("12.34")), None)
    );

    // Stripe answering errors: the report is Settle's side alone, said to be not compared.
    mock.control(
        "fail_next",
        r#"{"status": 500, "times": 1, "operation": "/v1/balance_transactions"}"#,
    )
    .await;
    let report = deposits::report(&f.pool, &staff, &query, &with_stripe)
        .await
        .unwrap();
    assert!(
        matches!(&report.card_books, Books::NotCompared(why) if why.contains("Stripe's balance transactions could not be read")),
        "{:?}",
        report.card_books
    );
    assert_eq!(report.differences(), 0);
    assert!(report.lines.iter().all(|l| l.gateway.is_none()));
    assert_all_conform(&mock).await;
}

//! Email on a real database: messages written with the change they report (once per
//! recipient), the worker's record of a mail server it cannot reach, invitations and resets
//! by link, pay links.

mod common;

use common::{fixture, key, today, Fixture};
use server::links::{self, Purpose};
use server::{email, invitations, pay_links};
use shared::auth::Role;
use shared::email::PayLinkStatus;
use shared::payment::{Consent, LineInput, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::{AppError, CompanyId, InvoiceId, MethodId};
use sqlx::PgPool;

impl Fixture {
    async fn recipients(&self, kind: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT recipient FROM emails WHERE kind = $1 ORDER BY recipient")
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    async fn contact_emails(&self, company: CompanyId) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT DISTINCT lower(email) FROM contacts WHERE company_id = $1 AND email IS NOT NULL ORDER BY 1",
        )
        .bind(company)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// The token of the newest link email of `kind` (as the worker would sign it).
    async fn token_of(&self, kind: &str) -> String {
        let (purpose, id): (String, i64) = sqlx::query_as(
            "SELECT data->'link'->>'purpose', (data->'link'->>'id')::bigint FROM emails WHERE kind = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(kind)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        let purpose = Purpose::parse(&purpose).unwrap();
        let table = if purpose == Purpose::PayLink {
            "pay_links"
        } else {
            "user_tokens"
        };
        let nonce: Vec<u8> =
            sqlx::query_scalar(&format!("SELECT nonce FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_one(&self.pool)
                .await
                .unwrap();
        let key = links::key(&mut self.pool.acquire().await.unwrap(), &self.config)
            .await
            .unwrap();
        links::token(&key, purpose, &nonce)
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_payment_is_told_to_each_ap_contact_once(pool: PgPool) {
    let f = fixture(pool).await;
    assert_eq!(
        f.count("SELECT count(*) FROM emails").await,
        0,
        "the demo's history sends nothing"
    );
    let card = f.add_card("4242424242424242").await;
    let added = f.recipients("method_added").await;
    assert_eq!(
        added,
        f.contact_emails(f.company_id).await,
        "a security notice per contact"
    );
    let inv = f.open().await[0];
    let PaymentOutcome::Paid(r) = f.pay_in_full(card, inv).await.unwrap() else {
        panic!("declined")
    };
    assert_eq!(
        f.recipients("payment_receipt").await,
        f.contact_emails(f.company_id).await
    );
    let (subject, number): (String, String) = sqlx::query_as(
        "SELECT subject, data->>'id' FROM emails WHERE kind = 'payment_receipt' LIMIT 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(number, r.number);
    assert!(
        subject.starts_with(&format!("Payment receipt {}: $", r.number)),
        "{subject}"
    );
    // The same answer again (a replay) writes nothing more.
    let again = f.count("SELECT count(*) FROM emails").await;
    server::payments::finish(
        &f.pool,
        r.payment_id,
        &server::gateway::Charge {
            id: "x".into(),
            status: server::gateway::ChargeStatus::Approved,
            code: None,
            message: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(f.count("SELECT count(*) FROM emails").await, again);
    // A declined card is no receipt.
    let declined = f.add_card("4000000000000002").await;
    let receipts = f
        .count("SELECT count(*) FROM emails WHERE kind = 'payment_receipt'")
        .await;
    let inv = f.open().await[0];
    assert!(matches!(
        f.pay_in_full(declined, inv).await,
        Ok(PaymentOutcome::Declined { .. })
    ));
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'payment_receipt'")
            .await,
        receipts
    );
    // Deactivating is a notice too.
    server::methods::set_active(&f.pool, &f.clerk, declined, false)
        .await
        .unwrap();
    assert_eq!(
        f.recipients("method_deactivated").await,
        f.contact_emails(f.company_id).await
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn an_ach_return_is_told_to_the_contacts_and_the_clerk_with_the_reopened_invoices(
    pool: PgPool,
) {
    let f = fixture(pool).await;
    let c1003: CompanyId = f
        .count("SELECT id FROM companies WHERE code = 'C1003'")
        .await
        .into();
    let ach: MethodId = f
        .count(&format!(
            "SELECT id FROM payment_methods WHERE company_id = {c1003} AND kind = 'ach'"
        ))
        .await
        .into();
    let (inv, balance): (InvoiceId, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT id, balance FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date LIMIT 1",
    )
    .bind(c1003)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    let mut req = f.request(ach, &[(inv, &balance.to_string(), "")], &key());
    req.company = shared::company::CompanyCode::parse("C1003").unwrap();
    server::payments::pay(
        &f.pool,
        &f.gateway,
        &f.config,
        &f.clerk,
        c1003,
        &req,
        today(),
    )
    .await
    .unwrap();
    f.gateway
        .advance_ach(std::time::Duration::ZERO)
        .await
        .unwrap();
    server::payments::sync_ach(&f.pool, &f.gateway)
        .await
        .unwrap();
    let mut expected = f.contact_emails(c1003).await;
    expected.push("clerk@settle.example".into());
    expected.sort();
    assert_eq!(f.recipients("ach_returned").await, expected);
    let (code, reopened): (String, serde_json::Value) = sqlx::query_as(
        "SELECT data->'failure'->>'code', data->'reopened' FROM emails WHERE kind = 'ach_returned' LIMIT 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(code, "R01");
    assert_eq!(reopened[0]["balance"], format!("{balance:.2}"));
    // The body says it in words.
    let data: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM emails WHERE kind = 'ach_returned' LIMIT 1")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let body = email::render::render(
        shared::email::EmailKind::AchReturned,
        "s",
        None,
        &data,
        "Northwind Supply",
        "http://x",
    )
    .unwrap();
    assert!(body.text.contains("Insufficient funds"), "{}", body.text);
    assert!(
        !body.text.contains("000222222227"),
        "never the account number"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_card_expiring_is_told_once_a_month(pool: PgPool) {
    let f = fixture(pool).await;
    let card = f.add_card("4242424242424242").await;
    sqlx::query("UPDATE payment_methods SET exp_month = 3, exp_year = 2031 WHERE id = $1")
        .bind(card)
        .execute(&f.pool)
        .await
        .unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let contacts = f.contact_emails(f.company_id).await.len() as u64;
    // Not yet: more than 30 days before the end of March.
    assert_eq!(
        email::queue_card_expiry(&f.pool, day("2031-02-27"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        email::queue_card_expiry(&f.pool, day("2031-03-02"))
            .await
            .unwrap(),
        contacts
    );
    assert_eq!(
        email::queue_card_expiry(&f.pool, day("2031-03-20"))
            .await
            .unwrap(),
        0,
        "once a month"
    );
    // Renewed to April: told again in April.
    sqlx::query("UPDATE payment_methods SET exp_month = 4 WHERE id = $1")
        .bind(card)
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(
        email::queue_card_expiry(&f.pool, day("2031-04-01"))
            .await
            .unwrap(),
        contacts
    );
    assert_eq!(
        email::queue_card_expiry(&f.pool, day("2031-05-01"))
            .await
            .unwrap(),
        0,
        "expired"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn with_the_mail_server_out_of_reach_messages_wait_and_then_fail(pool: PgPool) {
    let f = fixture(pool).await;
    f.add_card("4242424242424242").await;
    let n = f.count("SELECT count(*) FROM emails").await as usize;
    assert!(n > 0);
    // Nothing listens on port 9: a real refused connection.
    let mailer = email::mailer(&f.config).unwrap();
    assert_eq!(
        email::deliver_due(&f.pool, &mailer, &f.config)
            .await
            .unwrap(),
        n
    );
    let rows: Vec<(String, i32, Option<String>)> =
        sqlx::query_as("SELECT status, attempts, last_error FROM emails")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    for (status, attempts, error) in &rows {
        assert_eq!((status.as_str(), *attempts), ("pending", 1));
        assert!(
            error
                .as_deref()
                .unwrap()
                .starts_with("could not reach the mail server"),
            "{error:?}"
        );
    }
    assert_eq!(
        email::deliver_due(&f.pool, &mailer, &f.config)
            .await
            .unwrap(),
        0,
        "not due yet"
    );
    // At the last attempt it is marked failed; "Send again" gives it a fresh start.
    sqlx::query("UPDATE emails SET attempts = $1, next_attempt_at = now()")
        .bind(f.config.email_max_attempts as i32 - 1)
        .execute(&f.pool)
        .await
        .unwrap();
    email::deliver_due(&f.pool, &mailer, &f.config)
        .await
        .unwrap();
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE status = 'failed'")
            .await as usize,
        n
    );
    let id: i64 = f.count("SELECT min(id) FROM emails").await;
    email::resend(&f.pool, f.clerk.actor(), id).await.unwrap();
    let outbox = email::outbox(&f.pool, Some(shared::email::EmailStatus::Pending), "")
        .await
        .unwrap();
    assert_eq!(outbox.emails.len(), 1);
    assert_eq!(outbox.emails[0].attempts, 0);
    assert_eq!(outbox.failed as usize, n - 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_invitation_and_a_reset_work_once_and_expire(pool: PgPool) {
    let f = fixture(pool).await;
    let admin = {
        let id = f
            .count("SELECT id FROM users WHERE email = 'admin@settle.example'")
            .await;
        server::acting::Acting::of(shared::auth::SessionUser {
            id: id.into(),
            name: "Avery Admin".into(),
            email: "admin@settle.example".into(),
            role: Role::Admin,
            company: None,
        })
        .unwrap()
    };
    // Clerks cannot invite.
    let refused = invitations::invite(
        &f.pool,
        &f.config,
        &f.clerk,
        None,
        Role::Clerk,
        "Sam",
        "sam@settle.example",
    )
    .await;
    assert!(matches!(
        refused.map_err(|e| e.into_app()),
        Err(AppError::Forbidden)
    ));
    let sam = invitations::invite(
        &f.pool,
        &f.config,
        &admin,
        None,
        Role::Clerk,
        " Sam  Lee ",
        "Sam@Settle.example",
    )
    .await
    .unwrap();
    assert_eq!(
        (sam.name.as_str(), sam.email.as_str()),
        ("Sam Lee", "sam@settle.example")
    );
    let first = f.token_of("invitation").await;
    // Invited again before accepting: a fresh link, the first one spent.
    invitations::invite(
        &f.pool,
        &f.config,
        &admin,
        None,
        Role::Clerk,
        "Sam Lee",
        "sam@settle.example",
    )
    .await
    .unwrap();
    let token = f.token_of("invitation").await;
    assert_ne!(token, first);
    assert!(
        invitations::linked_account(&f.pool, Purpose::Invitation, &first)
            .await
            .is_err()
    );
    // Not as an admin, though: that is someone else's address now.
    assert!(invitations::invite(
        &f.pool,
        &f.config,
        &admin,
        None,
        Role::Admin,
        "Sam Lee",
        "sam@settle.example"
    )
    .await
    .is_err());
    // Only the hash is stored.
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM user_tokens WHERE token_hash = sha256('{token}'::bytea)"
        ))
        .await,
        1
    );
    let account = invitations::linked_account(&f.pool, Purpose::Invitation, &token)
        .await
        .unwrap();
    assert_eq!(account.email, "sam@settle.example");
    let short = invitations::use_link(
        &f.pool,
        &f.config,
        Purpose::Invitation,
        &token,
        "short",
        "short",
        None,
    )
    .await;
    assert_eq!(
        short.unwrap_err().into_app().field().unwrap().field,
        "password"
    );
    let signed = invitations::use_link(
        &f.pool,
        &f.config,
        Purpose::Invitation,
        &token,
        "a long passphrase",
        "a long passphrase",
        None,
    )
    .await
    .unwrap();
    assert_eq!(signed.user.role, Role::Clerk);
    let twice = invitations::use_link(
        &f.pool,
        &f.config,
        Purpose::Invitation,
        &token,
        "a long passphrase",
        "a long passphrase",
        None,
    )
    .await;
    assert_eq!(
        twice.unwrap_err().into_app().field().unwrap().field,
        "token",
        "single use"
    );
    // A reset for an unknown address answers the same and sends nothing.
    invitations::request_reset(
        &f.pool,
        &f.config,
        "nobody@settle.example",
        Some("10.0.0.1"),
    )
    .await
    .unwrap();
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'password_reset'")
            .await,
        0
    );
    invitations::request_reset(&f.pool, &f.config, "sam@settle.example", Some("10.0.0.1"))
        .await
        .unwrap();
    let reset = f.token_of("password_reset").await;
    // Expired: refused.
    sqlx::query("UPDATE user_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'password_reset'")
        .execute(&f.pool)
        .await
        .unwrap();
    assert!(
        invitations::linked_account(&f.pool, Purpose::PasswordReset, &reset)
            .await
            .is_err()
    );
    // Rate limited per address: the 4th request within the hour is refused (the same for an
    // address without an account).
    for who in ["sam@settle.example", "nobody@settle.example"] {
        let mut refused = 0;
        for _ in 0..4 {
            if invitations::request_reset(&f.pool, &f.config, who, Some("10.0.0.2"))
                .await
                .is_err()
            {
                refused += 1;
            }
        }
        assert_eq!(refused, 2, "{who}: 3 an hour, one used before");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_pay_link_pays_its_own_invoices_once(pool: PgPool) {
    let f = fixture(pool).await;
    let contact: i64 = f
        .count(&format!(
            "SELECT min(id) FROM contacts WHERE company_id = {} AND email IS NOT NULL",
            f.company_id
        ))
        .await;
    let open = f.open().await;
    let (a, b, other) = (open[0], open[1], open[2]);
    let sent = pay_links::send(
        &f.pool,
        &f.config,
        &f.clerk,
        f.company_id,
        contact,
        &[a.0, b.0],
    )
    .await
    .unwrap();
    assert_eq!(sent.status, PayLinkStatus::Sent);
    let token = f.token_of("pay_link").await;
    let view = pay_links::view(&f.pool, &f.config, &token, today())
        .await
        .unwrap();
    assert_eq!(view.status, PayLinkStatus::Opened);
    assert_eq!(view.invoices.len(), 2);
    assert!(
        pay_links::view(&f.pool, &f.config, "x".repeat(43).as_str(), today())
            .await
            .is_err()
    );
    let (acting, company, sent_by) = pay_links::acting(&f.pool, &token).await.unwrap();
    assert_eq!(company, f.company_id);
    let card = f.method("4242").await;
    let request = |lines: &[(InvoiceId, String)]| {
        let input = PaymentInput {
            company: "C1002".into(),
            method_id: card,
            lines: lines
                .iter()
                .map(|(id, amount)| LineInput {
                    invoice_id: *id,
                    amount: shared::Money::usd(common::d(amount)),
                    short_pay_reason: "Paying the rest next week".into(),
                })
                .collect(),
            consent_channel: String::new(),
            consent_reference: String::new(),
            idempotency_key: key(),
        };
        PaymentRequest::parse(
            &input,
            Consent::pay_link(&acting.user.email, &sent_by),
            shared::Currency::USD,
        )
        .unwrap()
    };
    let pay = |req: PaymentRequest| {
        let (f, acting) = (&f, &acting);
        async move {
            server::payments::pay(
                &f.pool,
                &f.gateway,
                &f.config,
                acting,
                f.company_id,
                &req,
                today(),
            )
            .await
            .map_err(|e| e.into_app())
        }
    };
    // Not one of the link's invoices.
    let wrong = pay(request(&[(other.0, other.1.to_string())]))
        .await
        .unwrap_err();
    assert_eq!(wrong.field().unwrap().field, "invoices");
    // More than the balance: refused like any payment.
    let over = pay(request(&[(a.0, (a.1 + common::d("1")).to_string())]))
        .await
        .unwrap_err();
    assert!(
        over.field().unwrap().field.starts_with("amount"),
        "{over:?}"
    );
    // Part of one invoice, all of the other.
    let part = a.1 / common::d("2");
    let part = part.round_dp(2);
    let PaymentOutcome::Paid(r) = pay(request(&[(a.0, part.to_string()), (b.0, b.1.to_string())]))
        .await
        .unwrap()
    else {
        panic!("declined")
    };
    let (initiated, channel, reference): (Option<i64>, String, String) = sqlx::query_as(
        "SELECT initiated_by, consent_channel, consent_reference FROM payments WHERE id = $1",
    )
    .bind(r.payment_id)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(initiated, None, "the customer's own payment, no account");
    assert_eq!(channel, "pay_link");
    assert!(
        reference.ends_with("paid through a link sent by Casey Clerk"),
        "{reference}"
    );
    let link = pay_links::list(&f.pool, f.company_id, None).await.unwrap();
    assert_eq!(link[0].status, PayLinkStatus::Paid);
    assert_eq!(link[0].payment_number.as_deref(), Some(r.number.as_str()));
    // Spent: nothing more through it.
    assert!(pay_links::acting(&f.pool, &token).await.is_err());
    // The receipt went to the contacts, the addressee among them.
    let to: String = sqlx::query_scalar("SELECT email FROM pay_links LIMIT 1")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(f.recipients("payment_receipt").await.contains(&to));
    // A revoked link opens nothing.
    let again = pay_links::send(
        &f.pool,
        &f.config,
        &f.clerk,
        f.company_id,
        contact,
        &[other.0],
    )
    .await
    .unwrap();
    let token2 = f.token_of("pay_link").await;
    pay_links::revoke(&f.pool, &f.clerk, f.company_id, again.id)
        .await
        .unwrap();
    assert!(pay_links::acting(&f.pool, &token2).await.is_err());
    assert_eq!(
        pay_links::view(&f.pool, &f.config, &token2, today())
            .await
            .unwrap()
            .status,
        PayLinkStatus::Revoked
    );
    // Customers cannot send links.
    let customer = f.customer_of("C1002").await;
    assert!(pay_links::send(
        &f.pool,
        &f.config,
        &customer,
        f.company_id,
        contact,
        &[other.0]
    )
    .await
    .is_err());
}

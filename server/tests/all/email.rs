//! Email on a real database: messages written with the change they report (once per
//! recipient), the worker's record of a mail server it cannot reach, invitations and resets
//! by link, pay links.

use crate::common;

use common::{fixture, key, today, Fixture};
use server::authority::Principal;
use server::email::mail::Mail;
use server::links::Purpose;
use server::people::invitations;
use server::{email, pay_links};
use shared::auth::Role;
use shared::email::{EmailKind, PayLinkStatus};
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
    // The subject is written in Rust (by the first attempt), from the typed payload.
    let (subject, data): (Option<String>, serde_json::Value) =
        sqlx::query_as("SELECT subject, data FROM emails WHERE kind = 'payment_receipt' LIMIT 1")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(subject, None, "not yet sent");
    // Found by its payment number at once, before any attempt wrote the subject.
    let found = email::outbox(&f.pool, &f.clerk.staff().unwrap(), None, &r.number)
        .await
        .unwrap();
    assert_eq!(
        found.emails.len(),
        f.contact_emails(f.company_id).await.len(),
        "every receipt of the payment"
    );
    assert!(found.emails.iter().all(|e| e.subject.contains(&r.number)));
    let none = email::outbox(&f.pool, &f.clerk.staff().unwrap(), None, "no-such-thing")
        .await
        .unwrap();
    assert!(none.emails.is_empty());
    let mail = Mail::read(EmailKind::PaymentReceipt, &data).unwrap();
    assert_eq!(mail.payment().unwrap().id, r.number);
    let subject = mail.subject();
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
    let req = f.request(ach, &[(inv, &balance.to_string(), "")], &key());
    server::payments::pay(
        &f.pool,
        &f.gateway,
        &f.config,
        &f.clerk.reach(c1003, "Company").unwrap(),
        &req,
        today(),
    )
    .await
    .unwrap();
    f.gateway
        .advance_ach(std::time::Duration::ZERO)
        .await
        .unwrap();
    server::payments::sync_ach(&f.pool, &f.gateway, std::time::Duration::from_secs(30))
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
    let mail = Mail::read(EmailKind::AchReturned, &data).unwrap();
    let body = email::render::render(
        &mail,
        chrono::Utc::now(),
        "s",
        None,
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
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE subject LIKE 'Security notice: a payment method was added for %'")
            .await as usize,
        n,
        "the first attempt writes the subject it composed"
    );
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
    email::resend(&f.pool, &f.clerk.staff().unwrap(), shared::EmailId(id))
        .await
        .unwrap();
    let outbox = email::outbox(
        &f.pool,
        &f.clerk.staff().unwrap(),
        Some(shared::email::EmailStatus::Pending),
        "",
    )
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
        server::authority::Principal::of_session(shared::auth::SessionUser {
            id: id.into(),
            name: "Avery Admin".into(),
            email: "admin@settle.example".into(),
            role: Role::Admin,
            company: None,
        })
        .unwrap()
    };
    // Clerks cannot invite: the door gives them no admin capability, and invite takes one.
    assert_eq!(f.clerk.admin().unwrap_err(), AppError::Forbidden);
    let admin = admin.admin().unwrap();
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
    // Every request answers the same, however many (no one can tell an account by it); at
    // most 3 emails an hour go to an address for one client, so a stranger's requests (from
    // 10.0.0.2) never spend the owner's (from 10.0.0.1), and 10 an hour in all.
    for who in ["sam@settle.example", "nobody@settle.example"] {
        for _ in 0..4 {
            invitations::request_reset(&f.pool, &f.config, who, Some("10.0.0.2"))
                .await
                .unwrap();
        }
    }
    let sent_to_sam = || {
        f.count("SELECT count(*) FROM emails WHERE kind = 'password_reset' AND recipient = 'sam@settle.example'")
    };
    assert_eq!(
        sent_to_sam().await,
        1 + 3,
        "the owner's one, the stranger's 3 of 4"
    );
    invitations::request_reset(&f.pool, &f.config, "sam@settle.example", Some("10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(sent_to_sam().await, 5, "the owner still gets theirs");
    for client in 3..10 {
        invitations::request_reset(
            &f.pool,
            &f.config,
            "sam@settle.example",
            Some(&format!("10.0.0.{client}")),
        )
        .await
        .unwrap();
    }
    assert_eq!(sent_to_sam().await, 10, "at most 10 an hour in all");
    assert_eq!(
        f.count("SELECT count(*) FROM emails WHERE kind = 'password_reset' AND recipient = 'nobody@settle.example'")
            .await,
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_password_set_by_any_link_spends_every_open_link_of_the_user(pool: PgPool) {
    let f = fixture(pool).await;
    let admin = Principal::of_user(&f.pool, f.other_clerk.initiator().unwrap())
        .await
        .unwrap()
        .admin()
        .unwrap();
    invitations::invite(
        &f.pool,
        &f.config,
        &admin,
        None,
        Role::Clerk,
        "Robin Reyes",
        "robin@settle.example",
    )
    .await
    .unwrap();
    let invitation = f.token_of("invitation").await;
    // The invited user also asks for a reset (the invitation email went astray), and uses it.
    invitations::request_reset(&f.pool, &f.config, "robin@settle.example", None)
        .await
        .unwrap();
    let reset = f.token_of("password_reset").await;
    invitations::use_link(
        &f.pool,
        &f.config,
        Purpose::PasswordReset,
        &reset,
        "a long passphrase",
        "a long passphrase",
        None,
    )
    .await
    .unwrap();
    // The invitation no longer sets a password.
    let late = invitations::use_link(
        &f.pool,
        &f.config,
        Purpose::Invitation,
        &invitation,
        "another passphrase",
        "another passphrase",
        None,
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(late.field().unwrap().field, "token");
    assert_eq!(
        f.count("SELECT count(*) FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'robin@settle.example' AND t.used_at IS NULL").await,
        0
    );
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
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        contact.into(),
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
    let link = pay_links::resolve(&f.pool, &token).await.unwrap();
    let acting = link.scope();
    let company = acting.id();
    let sent_by = link.sent_by_name().to_string();
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
                    short_pay_code: String::new(),
                    short_pay_reason: "Paying the rest next week".into(),
                })
                .collect(),
            consent_channel: String::new(),
            consent_reference: String::new(),
            idempotency_key: key(),
            policy_override: String::new(),
            on_account: None,
            surcharge: None,
        };
        PaymentRequest::parse(
            &input,
            Consent::pay_link(link.email(), &sent_by),
            shared::Currency::USD,
        )
        .unwrap()
    };
    let pay = |req: PaymentRequest| {
        let (f, acting) = (&f, &acting);
        async move {
            server::payments::pay(&f.pool, &f.gateway, &f.config, acting, &req, today())
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
    let link = pay_links::list(&f.pool, &f.scope(&f.clerk), None)
        .await
        .unwrap();
    assert_eq!(link[0].status, PayLinkStatus::Paid);
    assert_eq!(link[0].payment_number.as_deref(), Some(r.number.as_str()));
    // Spent: nothing more through it.
    assert!(pay_links::resolve(&f.pool, &token).await.is_err());
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
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        contact.into(),
        &[other.0],
    )
    .await
    .unwrap();
    let token2 = f.token_of("pay_link").await;
    pay_links::revoke(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        again.id,
    )
    .await
    .unwrap();
    assert!(pay_links::resolve(&f.pool, &token2).await.is_err());
    assert_eq!(
        pay_links::view(&f.pool, &f.config, &token2, today())
            .await
            .unwrap()
            .status,
        PayLinkStatus::Revoked
    );
    // Customers cannot send links: the door gives them no staff capability, and sending
    // takes one.
    let customer = f.customer_of("C1002").await;
    assert_eq!(customer.staff().unwrap_err(), AppError::Forbidden);
    let _ = other;
}

impl Fixture {
    /// A payment request through a link, as its page sends it.
    fn link_request(&self, method: MethodId, lines: &[(InvoiceId, &str)]) -> PaymentRequest {
        let input = PaymentInput {
            company: "C1002".into(),
            method_id: method,
            lines: lines
                .iter()
                .map(|(id, amount)| LineInput {
                    invoice_id: *id,
                    amount: shared::Money::usd(common::d(amount)),
                    short_pay_code: String::new(),
                    short_pay_reason: "Paying part now".into(),
                })
                .collect(),
            consent_channel: String::new(),
            consent_reference: String::new(),
            idempotency_key: key(),
            policy_override: String::new(),
            on_account: None,
            surcharge: None,
        };
        PaymentRequest::parse(
            &input,
            Consent::pay_link("ap@c1002.example", "Casey Clerk"),
            shared::Currency::USD,
        )
        .unwrap()
    }

    /// The methods a link's page offers.
    async fn offered(&self, token: &str) -> Vec<shared::method::MethodOption> {
        let link = pay_links::resolve(&self.pool, token).await.unwrap();
        server::methods::offered_through_link(&self.pool, &link)
            .await
            .unwrap()
    }

    /// Saves a card through a link, as its page does.
    async fn add_card_through(&self, token: &str, number: &str) -> Result<MethodId, AppError> {
        let link = pay_links::resolve(&self.pool, token).await.unwrap();
        let acting = link.scope();
        let tokenized =
            server::gateway::tokenize(&self.gateway, &common::card_request(number), today())
                .await
                .unwrap();
        server::methods::add_card(
            &self.pool,
            &self.gateway,
            &acting,
            &shared::method::NewCard {
                token: tokenized.token,
                holder_name: "Pat Payer".into(),
            },
            today(),
        )
        .await
        .map(|m| m.id)
        .map_err(|e| e.into_app())
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn twenty_payments_at_once_through_one_link_make_one_payment(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let (a, b) = (open[0], open[1]);
    let token = f.link_for(&[a.0, b.0]).await;
    let link = pay_links::resolve(&f.pool, &token).await.unwrap();
    let acting = link.scope();
    let card = f.method("4242").await;
    let requests: Vec<PaymentRequest> = (0..20)
        .map(|_| f.link_request(card, &[(a.0, "1.00")]))
        .collect();
    let outcomes = futures::future::join_all(requests.iter().map(|req| {
        let (f, acting) = (&f, &acting);
        async move {
            server::payments::pay(&f.pool, &f.gateway, &f.config, acting, req, today())
                .await
                .map_err(|e| e.into_app())
        }
    }))
    .await;
    let paid = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(PaymentOutcome::Paid(_))))
        .count();
    assert_eq!(paid, 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        let field = refused.field().map(|fe| fe.field.as_str());
        assert!(matches!(field, Some("link" | "method")), "{refused:?}");
    }
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE pay_link_id IS NOT NULL")
            .await,
        1,
        "one payment row through the link"
    );
    assert_eq!(f.balance(a.0).await, a.1 - common::d("1.00"));
    assert_eq!(f.balance(b.0).await, b.1);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_link_offers_only_its_own_methods_and_the_default_and_saves_two(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let token = f.link_for(&[open[0].0]).await;
    // At first: the company's default, by its label alone.
    let offered = f.offered(&token).await;
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert!(offered[0].is_default && offered[0].label_only);
    assert_eq!(offered[0].holder_name, "");
    assert_eq!(offered[0].label(), "Visa •••• 4242");
    // Another saved card of the company is not the link's to charge.
    let other = f.method("0002").await;
    let link = pay_links::resolve(&f.pool, &token).await.unwrap();
    let acting = link.scope();
    let refused = server::payments::pay(
        &f.pool,
        &f.gateway,
        &f.config,
        &acting,
        &f.link_request(other, &[(open[0].0, "1.00")]),
        today(),
    )
    .await
    .unwrap_err()
    .into_app();
    assert_eq!(refused.field().unwrap().field, "method", "{refused:?}");
    // Two new cards through the link, then no more.
    let first = f
        .add_card_through(&token, "5555555555554444")
        .await
        .unwrap();
    f.add_card_through(&token, "6011111111111117")
        .await
        .unwrap();
    let third = f
        .add_card_through(&token, "5105105105105100")
        .await
        .unwrap_err();
    assert_eq!(third.field().unwrap().field, "token");
    assert!(third.to_string().contains("at most 2"), "{third}");
    let offered = f.offered(&token).await;
    assert_eq!(offered.len(), 3);
    let own = offered.iter().find(|m| m.id == first).unwrap();
    assert!(!own.label_only);
    assert_eq!(own.holder_name, "Pat Payer");
    // Each saved method names the link it came through.
    assert_eq!(
        f.count("SELECT count(*) FROM payment_methods WHERE pay_link_id IS NOT NULL")
            .await,
        2
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn five_declines_lock_a_link_and_tell_the_clerk(pool: PgPool) {
    let f = fixture(pool).await;
    let open = f.open().await;
    let token = f.link_for(&[open[0].0]).await;
    let declining = f
        .add_card_through(&token, "4000000000000002")
        .await
        .unwrap();
    let link = pay_links::resolve(&f.pool, &token).await.unwrap();
    let acting = link.scope();
    for attempt in 1..=5 {
        let outcome = server::payments::pay(
            &f.pool,
            &f.gateway,
            &f.config,
            &acting,
            &f.link_request(declining, &[(open[0].0, "1.00")]),
            today(),
        )
        .await
        .unwrap();
        assert!(
            matches!(outcome, PaymentOutcome::Declined { .. }),
            "{attempt}"
        );
    }
    let link = pay_links::list(&f.pool, &f.scope(&f.clerk), None)
        .await
        .unwrap();
    assert_eq!(link[0].status, PayLinkStatus::Locked);
    // Nothing more through it: no payment, no new method.
    let refused = pay_links::resolve(&f.pool, &token)
        .await
        .unwrap_err()
        .into_app();
    assert!(refused.to_string().contains("locked"), "{refused}");
    assert_eq!(
        f.recipients("pay_link_locked").await,
        ["clerk@settle.example"]
    );
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM emails WHERE kind = 'pay_link_locked'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(
        subject.contains("locked after 5 declined payments"),
        "{subject}"
    );
    assert_eq!(
        f.balance(open[0].0).await,
        open[0].1,
        "declines change no balance"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_pay_link_subject_is_cut_to_fit(pool: PgPool) {
    let f = fixture(pool).await;
    sqlx::query("UPDATE companies SET name = repeat('Very Long Company Name ', 8) WHERE id = $1")
        .bind(f.company_id)
        .execute(&f.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE users SET name = repeat('Casey ', 16) WHERE email = 'clerk@settle.example'",
    )
    .execute(&f.pool)
    .await
    .unwrap();
    let clerk = Principal::of_session(shared::auth::SessionUser {
        id: f.clerk.initiator().unwrap(),
        name: "Casey ".repeat(16).trim().to_string(),
        email: "clerk@settle.example".into(),
        role: Role::Clerk,
        company: None,
    })
    .unwrap();
    let contact: i64 = f
        .count(&format!(
            "SELECT min(id) FROM contacts WHERE company_id = {} AND email IS NOT NULL",
            f.company_id
        ))
        .await;
    let open = f.open().await;
    pay_links::send(
        &f.pool,
        &f.config,
        &clerk.staff().unwrap(),
        &f.scope(&clerk),
        contact.into(),
        &[open[0].0],
    )
    .await
    .unwrap();
    let subject: String = sqlx::query_scalar("SELECT subject FROM emails WHERE kind = 'pay_link'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(
        subject.chars().count() <= 300 && subject.ends_with('…'),
        "{subject}"
    );
}

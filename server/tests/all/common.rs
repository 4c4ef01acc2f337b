//! What the database tests share: a seeded database, the sandbox gateway, two staff users
//! and a company (C1002), and saving a card the way the add-method flow does.
#![allow(dead_code)]

use rust_decimal::Decimal;
use server::authority::Principal;
use server::demo;
use server::gateway::SandboxGateway;
use server::payments;
use shared::auth::{Role, SessionUser};
use shared::method::{NewCard, TokenizeRequest};
use shared::money::{Currency, Money};
use shared::payment::{Consent, LineInput, PaymentInput, PaymentOutcome, PaymentRequest};
use shared::{AppError, InvoiceId};
use shared::{CompanyId, MethodId, UserId};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub struct Fixture {
    pub pool: PgPool,
    pub gateway: SandboxGateway,
    /// Gateway timeout 15 s, reconcile timeout 60 s, as in production.
    pub config: server::Config,
    pub clerk: Principal,
    pub other_clerk: Principal,
    pub company_id: CompanyId,
}

pub async fn fixture(pool: PgPool) -> Fixture {
    let gateway = SandboxGateway::new(pool.clone(), Duration::ZERO);
    demo::seed(&pool, &gateway).await.unwrap();
    let user = |id: UserId, name: &str| {
        Principal::of_session(SessionUser {
            id,
            name: name.into(),
            email: format!("{id}@settle.example"),
            role: Role::Clerk,
            company: None,
        })
        .unwrap()
    };
    let clerk_id: UserId =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'clerk@settle.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let admin_id: UserId =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@settle.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let company_id: CompanyId = sqlx::query_scalar("SELECT id FROM companies WHERE code = 'C1002'")
        .fetch_one(&pool)
        .await
        .unwrap();
    Fixture {
        config: server::Config::for_tests("postgres://unused"),
        pool,
        gateway,
        clerk: user(clerk_id, "Casey Clerk"),
        other_clerk: user(admin_id, "Avery Admin"),
        company_id,
    }
}

/// A card request as the browser sends the tokenizer.
pub fn card_request(number: &str) -> TokenizeRequest {
    TokenizeRequest::Card {
        number: number.into(),
        exp_month: 12,
        exp_year: 2030,
        cvc: "123".into(),
        postal_code: "94107".into(),
        holder_name: "Test Holder".into(),
    }
}

impl Fixture {
    /// `who`'s scope for the fixture's company (C1002): a test's stand-in for the door.
    pub fn scope(&self, who: &Principal) -> server::authority::CompanyScope {
        who.reach(self.company_id, "Company").unwrap()
    }

    /// A customer user of the company `code`, as the portal's requests act.
    pub async fn customer_of(&self, code: &str) -> Principal {
        let (user, id, name): (UserId, CompanyId, String) = sqlx::query_as(
            "SELECT u.id, c.id, c.name FROM companies c JOIN users u ON u.company_id = c.id \
             WHERE c.code = $1 AND u.role = 'customer' LIMIT 1",
        )
        .bind(code)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        Principal::of_session(SessionUser {
            id: user,
            name: "Customer".into(),
            email: format!("ap@{}.example", code.to_lowercase()),
            role: Role::Customer,
            company: Some(shared::auth::CompanyRef {
                id,
                code: shared::company::CompanyCode::parse(code).unwrap(),
                name,
            }),
        })
        .unwrap()
    }

    /// Makes every payment still `processing` due for the reconciler now (as if its first
    /// check time had come).
    pub async fn checks_due_now(&self) {
        sqlx::query(
            "UPDATE payments SET next_gateway_check_at = now(), gateway_answer_due_at = now() \
             WHERE status = 'processing'",
        )
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// One reconciler pass over the payments due now; how many it resolved.
    pub async fn reconcile_now(&self) -> usize {
        self.checks_due_now().await;
        server::payments::reconcile(&self.pool, &self.gateway, &self.config)
            .await
            .unwrap()
    }

    /// The company's saved card ending in `last4`.
    pub async fn method(&self, last4: &str) -> MethodId {
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE company_id = $1 AND last4 = $2")
            .bind(self.company_id)
            .bind(last4)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The company's saved bank account.
    pub async fn ach_method(&self) -> MethodId {
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE company_id = $1 AND kind = 'ach'")
            .bind(self.company_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The company's bank account, moved to the sandbox's late-returning test account (its
    /// debits settle, then come back R10).
    pub async fn ach_returning_late(&self) -> MethodId {
        use server::gateway::PaymentGateway;
        let token = self
            .gateway
            .tokenize_bank_account(&server::gateway::BankAccountNumbers {
                routing_number: server::gateway::TEST_ROUTING,
                account_number: server::gateway::TEST_ACH_LATE_RETURN,
                holder_name: "Blue Ridge AP",
                account_type: Some("checking"),
            })
            .await
            .unwrap();
        sqlx::query_scalar(
            "UPDATE payment_methods SET gateway_token = $2 WHERE company_id = $1 AND kind = 'ach' RETURNING id",
        )
        .bind(self.company_id)
        .bind(&token)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The sandbox bank network's clock moves every pending debit on, and Settle reads each
    /// one again at once.
    pub async fn bank_moves(&self) {
        self.gateway.advance_ach(Duration::ZERO).await.unwrap();
        sqlx::query("UPDATE payments SET ach_next_check_at = now()")
            .execute(&self.pool)
            .await
            .unwrap();
        payments::sync_ach(&self.pool, &self.gateway, Duration::from_secs(30))
            .await
            .unwrap();
    }

    /// Saves a card for the company as the add-method flow does: the tokenizer, then
    /// `methods::add_card` with the token.
    pub async fn add_card(&self, number: &str) -> MethodId {
        let today = server::companies::today();
        let token = server::gateway::tokenize(&self.gateway, &card_request(number), today)
            .await
            .unwrap();
        server::methods::add_card(
            &self.pool,
            &self.gateway,
            &self.scope(&self.clerk),
            &NewCard {
                token: token.token,
                holder_name: "Test Holder".into(),
            },
            today,
        )
        .await
        .unwrap()
        .id
    }
}

pub fn today() -> chrono::NaiveDate {
    server::companies::today()
}

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Fixture {
    /// The company's open invoices as (id, balance), oldest due first.
    pub async fn open(&self) -> Vec<(InvoiceId, Decimal)> {
        sqlx::query_as("SELECT id, balance FROM invoices WHERE company_id = $1 AND balance > 0 ORDER BY due_date, id")
            .bind(self.company_id)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn balance(&self, invoice_id: InvoiceId) -> Decimal {
        sqlx::query_scalar("SELECT balance FROM invoices WHERE id = $1")
            .bind(invoice_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub fn request(
        &self,
        method_id: MethodId,
        lines: &[(InvoiceId, &str, &str)],
        key: &str,
    ) -> PaymentRequest {
        let input = PaymentInput {
            company: "C1002".into(),
            method_id,
            lines: lines
                .iter()
                .map(|(id, amount, reason)| LineInput {
                    invoice_id: *id,
                    amount: Money::usd(d(amount)),
                    short_pay_code: String::new(),
                    short_pay_reason: reason.to_string(),
                })
                .collect(),
            consent_channel: "phone".into(),
            consent_reference: "Call with Maria Alvarez".into(),
            idempotency_key: key.into(),
            policy_override: String::new(),
            on_account: None,
            surcharge: None,
        };
        PaymentRequest::parse(
            &input,
            Consent::parse_staff("phone", "Call with Maria Alvarez").unwrap(),
            Currency::USD,
        )
        .unwrap()
    }

    pub async fn pay(
        &self,
        who: &Principal,
        req: &PaymentRequest,
    ) -> Result<PaymentOutcome, AppError> {
        payments::pay(
            &self.pool,
            &self.gateway,
            &self.config,
            &who.reach(self.company_id, "Company")?,
            req,
            today(),
        )
        .await
        .map_err(|e| e.into_app())
    }

    /// Pays `inv` (id, balance) in full with `method` as the clerk, under a new key.
    pub async fn pay_in_full(
        &self,
        method: MethodId,
        inv: (InvoiceId, Decimal),
    ) -> Result<PaymentOutcome, AppError> {
        self.pay(
            &self.clerk,
            &self.request(method, &[(inv.0, &inv.1.to_string(), "")], &key()),
        )
        .await
    }

    /// The token of the newest link email of `kind` (as the worker would sign it).
    pub async fn token_of(&self, kind: &str) -> String {
        let (purpose, id): (String, i64) = sqlx::query_as(
            "SELECT data->'link'->>'purpose', (data->'link'->>'id')::bigint FROM emails WHERE kind = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(kind)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        let purpose = server::links::Purpose::parse(&purpose).unwrap();
        let table = if purpose == server::links::Purpose::PayLink {
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
        let key = server::links::key(&mut self.pool.acquire().await.unwrap(), &self.config)
            .await
            .unwrap();
        server::links::token(&key, purpose, &nonce)
    }

    /// A pay link for `invoices` to the company's first contact with an email; its token.
    pub async fn link_for(&self, invoices: &[InvoiceId]) -> String {
        let contact: i64 = self
            .count(&format!(
                "SELECT min(id) FROM contacts WHERE company_id = {} AND email IS NOT NULL",
                self.company_id
            ))
            .await;
        server::pay_links::send(
            &self.pool,
            &self.config,
            &self.clerk.staff().unwrap(),
            &self.scope(&self.clerk),
            contact.into(),
            invoices,
        )
        .await
        .unwrap();
        self.token_of("pay_link").await
    }

    /// The demo's admin (admin@settle.example), as the door makes an admin.
    /// Lets the clerk refund, with no approval needed below $1,000,000.
    pub async fn allow_clerk_refunds(&self) {
        sqlx::query("UPDATE users SET may_refund = true WHERE email = 'clerk@settle.example'")
            .execute(&self.pool)
            .await
            .unwrap();
        sqlx::query("UPDATE seller_settings SET refund_approval_above = 1000000")
            .execute(&self.pool)
            .await
            .unwrap();
    }

    pub async fn admin(&self) -> server::authority::Admin {
        let id: UserId =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@settle.example'")
                .fetch_one(&self.pool)
                .await
                .unwrap();
        Principal::of_session(SessionUser {
            id,
            name: "Avery Admin".into(),
            email: "admin@settle.example".into(),
            role: Role::Admin,
            company: None,
        })
        .unwrap()
        .admin()
        .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Pays `req` through `scope` (any door: staff, the portal, a pay link).
    pub async fn pay_in(
        &self,
        scope: &server::authority::CompanyScope,
        req: &PaymentRequest,
    ) -> Result<PaymentOutcome, AppError> {
        payments::pay(&self.pool, &self.gateway, &self.config, scope, req, today())
            .await
            .map_err(|e| e.into_app())
    }

    /// The three doors to C1002: its clerk, its customer user, a pay link for `invoices`;
    /// each with the consent it pays under.
    pub async fn doors(
        &self,
        invoices: &[InvoiceId],
    ) -> Vec<(&'static str, server::authority::CompanyScope, Consent)> {
        let link = server::pay_links::resolve(&self.pool, &self.link_for(invoices).await)
            .await
            .unwrap();
        let by_link = Consent::pay_link(link.email(), link.sent_by_name());
        let customer = self.customer_of("C1002").await;
        vec![
            (
                "staff",
                self.scope(&self.clerk),
                Consent::parse_staff("phone", "Call").unwrap(),
            ),
            (
                "portal",
                self.scope(&customer),
                Consent::portal("ap@c1002.example"),
            ),
            ("pay link", link.scope(), by_link),
        ]
    }

    /// Every ledger check: invoices, company figures, refunds, credits, payments' lines and fees.
    pub async fn ledger_holds(&self) {
        assert_eq!(
            server::ledger::balances_off(&self.pool).await.unwrap(),
            0,
            "invoices"
        );
        assert_eq!(
            server::ledger::company_balances_off(&self.pool)
                .await
                .unwrap(),
            0,
            "company figures"
        );
        assert_eq!(
            server::ledger::refunds_over(&self.pool).await.unwrap(),
            0,
            "refunds"
        );
        assert_eq!(
            server::ledger::credits_off(&self.pool).await.unwrap(),
            0,
            "credits"
        );
        assert_eq!(
            server::ledger::payments_off(&self.pool).await.unwrap(),
            0,
            "payments"
        );
    }

    /// What the gateway charged for a payment (by its number).
    pub async fn charged(&self, number: &str) -> Decimal {
        sqlx::query_scalar(
            "SELECT c.amount FROM sandbox_charges c JOIN payments p ON p.gateway_charge_id = c.id WHERE p.number = $1",
        )
        .bind(number)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

/// A payment form for C1002 as staff send it: `lines` (each paid short with "installment"
/// where it is less than the balance), consent by phone, a new key, nothing on account, no
/// surcharge shown, no reason for paying outside the policy. Callers change what they test.
pub fn payment_input(method: MethodId, lines: &[(InvoiceId, Decimal)]) -> PaymentInput {
    PaymentInput {
        company: "C1002".into(),
        method_id: method,
        lines: lines
            .iter()
            .map(|(id, amount)| LineInput {
                invoice_id: *id,
                amount: Money::usd(*amount),
                short_pay_code: "installment".into(),
                short_pay_reason: String::new(),
            })
            .collect(),
        consent_channel: "phone".into(),
        consent_reference: "Call".into(),
        idempotency_key: key(),
        policy_override: String::new(),
        on_account: None,
        surcharge: None,
    }
}

/// A refund form of `payment` giving back `lines` (invoice number, amount) as a duplicate,
/// under a new key.
pub fn refund_input(
    payment: shared::PaymentId,
    lines: &[(&str, &str)],
) -> shared::refund::RefundInput {
    shared::refund::RefundInput {
        payment_id: payment,
        lines: lines
            .iter()
            .map(|(i, a)| shared::refund::RefundLineInput {
                invoice: i.to_string(),
                amount: a.to_string(),
            })
            .collect(),
        reason: "duplicate".into(),
        note: String::new(),
        idempotency_key: key(),
        on_account: String::new(),
    }
}

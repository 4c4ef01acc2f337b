//! Stripe's HTTP API as Settle calls it (API version [`API_VERSION`], pinned by the
//! `Stripe-Version` header): a Customer per company, a SetupIntent for a card the browser
//! confirms with Stripe.js, a `us_bank_account` PaymentMethod saved through a SetupIntent
//! with Settle's authorization record as its mandate, a PaymentIntent created and confirmed
//! per charge under Settle's idempotency key, found again by search on its metadata,
//! refunds, and its balance transactions for the deposits report. Every request is
//! form-encoded ([`super::form`]); every refused answer is read by [`super::answers`].

use super::answers::{self, PaymentIntent, Refusal};
use super::balance;
use super::form::Form;
use crate::gateway::{
    charge_cents, BankAccountNumbers, CardToken, Charge, GatewayError, GatewayFuture, Mandate,
    PaymentGateway, Refund, RefundStatus, TokenDetails, VoidOffer, Voided,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::card::CardNumber;
use shared::deposit::Rail;
use shared::money::Money;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

/// The API version Settle speaks, the version of the description its tests hold it to.
pub const API_VERSION: &str = "2020-08-27";

/// Where Stripe is unless `STRIPE_API_BASE` says otherwise.
pub const API_BASE: &str = "https://api.stripe.com";

/// Stripe keeps an idempotency key 24 hours; a charge asked again later (by the reconciler,
/// after a long outage) is first looked for by its metadata, so it is never made twice.
const KEYS_KEPT_HOURS: i32 = 23;

/// The most balance transactions one report reads (pages of 100).
pub const BOOKS_MAX: usize = 20_000;

/// How often a request Stripe answered 429 (too many requests) is sent again.
const RETRIES_AFTER_429: u32 = 3;

/// The keys and address of a Stripe account.
#[derive(Clone)]
pub struct StripeSettings {
    /// `STRIPE_SECRET_KEY` (`sk_live_…` / `sk_test_…`, or a restricted `rk_…`).
    pub secret_key: String,
    /// `STRIPE_PUBLISHABLE_KEY` (`pk_…`): given to Stripe.js in the browser.
    pub publishable_key: String,
    /// `STRIPE_WEBHOOK_SECRET` (`whsec_…`), several separated by commas while one is
    /// rotated out.
    pub webhook_secrets: Vec<String>,
    /// `STRIPE_API_BASE` (default [`API_BASE`]).
    pub api_base: String,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field("publishable_key", &self.publishable_key)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl StripeSettings {
    /// `SETTLE_GATEWAY` (`sandbox`, the default, or `stripe`) and, with `stripe`, the
    /// `STRIPE_*` settings, each checked: a live secret key with a test publishable key (or
    /// the other way round) is refused.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<StripeSettings>, crate::config_error::ConfigError> {
        use crate::config_error::ConfigError::Invalid;
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match value("SETTLE_GATEWAY").as_deref() {
            None | Some("sandbox") => return Ok(None),
            Some("stripe") => {}
            Some(other) => {
                return Err(Invalid {
                    name: "SETTLE_GATEWAY",
                    expected: "sandbox or stripe",
                    value: other.into(),
                })
            }
        }
        let key = |name: &'static str, prefixes: &[&str], expected: &'static str| {
            let v = value(name).ok_or(Invalid {
                name,
                expected,
                value: String::new(),
            })?;
            if prefixes.iter().any(|p| v.starts_with(p)) {
                Ok(v)
            } else {
                Err(Invalid {
                    name,
                    expected,
                    value: format!("{}…", v.chars().take(8).collect::<String>()),
                })
            }
        };
        let secret_key = key(
            "STRIPE_SECRET_KEY",
            &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
            "a Stripe secret key (sk_live_…, sk_test_… or a restricted rk_…) when SETTLE_GATEWAY=stripe",
        )?;
        let publishable_key = key(
            "STRIPE_PUBLISHABLE_KEY",
            &["pk_live_", "pk_test_"],
            "a Stripe publishable key (pk_live_… or pk_test_…) when SETTLE_GATEWAY=stripe",
        )?;
        if secret_key.contains("_live_") != publishable_key.contains("_live_") {
            return Err(Invalid {
                name: "STRIPE_PUBLISHABLE_KEY",
                expected: "a key of the same mode (live or test) as STRIPE_SECRET_KEY",
                value: format!("{}…", publishable_key.chars().take(8).collect::<String>()),
            });
        }
        let secrets = key(
            "STRIPE_WEBHOOK_SECRET",
            &["whsec_"],
            "the webhook endpoint's signing secret (whsec_…; several separated by commas while rotating) when SETTLE_GATEWAY=stripe",
        )?;
        let webhook_secrets: Vec<String> =
            secrets.split(',').map(|s| s.trim().to_string()).collect();
        if let Some(bad) = webhook_secrets.iter().find(|s| !s.starts_with("whsec_")) {
            return Err(Invalid {
                name: "STRIPE_WEBHOOK_SECRET",
                expected: "signing secrets that each start with whsec_",
                value: format!("{}…", bad.chars().take(6).collect::<String>()),
            });
        }
        let api_base = value("STRIPE_API_BASE").unwrap_or_else(|| API_BASE.to_string());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(Invalid {
                name: "STRIPE_API_BASE",
                expected: "an http(s) address",
                value: api_base,
            });
        }
        Ok(Some(StripeSettings {
            secret_key,
            publishable_key,
            webhook_secrets,
            api_base,
        }))
    }

    /// The API's origin (`scheme://host[:port]`), as a Content Security Policy names it.
    pub fn api_origin(&self) -> String {
        url::Url::parse(&self.api_base)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// A PaymentMethod's fields Settle keeps.
#[derive(Clone, Debug, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub card: Option<CardFields>,
    #[serde(default)]
    pub us_bank_account: Option<BankFields>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CardFields {
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// `credit`, `debit`, `prepaid` or `unknown`.
    pub funding: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct BankFields {
    #[serde(default)]
    pub last4: Option<String>,
    #[serde(default)]
    pub routing_number: Option<String>,
    #[serde(default)]
    pub account_holder_type: Option<String>,
}

/// A SetupIntent the browser confirms with Stripe.js.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SetupIntent {
    pub id: String,
    pub client_secret: Option<String>,
    pub status: String,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
}

#[derive(Deserialize)]
struct Customer {
    id: String,
}

#[derive(Deserialize)]
struct Search<T> {
    data: Vec<T>,
}

/// Stripe as a [`PaymentGateway`].
#[derive(Clone)]
pub struct StripeGateway {
    http: reqwest::Client,
    settings: Arc<StripeSettings>,
    pool: PgPool,
}

fn transport(e: reqwest::Error) -> GatewayError {
    if e.is_connect() {
        GatewayError::Unavailable(format!("Stripe cannot be reached: {e}"))
    } else {
        // Sent, perhaps received: what happened is not known yet.
        GatewayError::Timeout
    }
}

fn refused(status: u16, body: &[u8]) -> GatewayError {
    match answers::refusal(status, body) {
        Refusal::Answer(Err(e)) => e,
        Refusal::Answer(Ok(c)) => GatewayError::Refused(
            c.message
                .unwrap_or_else(|| "Stripe declined the request".into()),
        ),
        Refusal::RetryLater => {
            GatewayError::Unavailable("Stripe is limiting requests; try again in a minute".into())
        }
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    serde_json::from_slice(body)
        .map_err(|e| GatewayError::Unavailable(format!("Stripe's answer was not understood: {e}")))
}

/// A key safe inside a search query's quotes.
fn searchable(key: &str) -> Option<&str> {
    key.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .then_some(key)
}

impl StripeGateway {
    pub fn new(pool: PgPool, settings: StripeSettings, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        StripeGateway {
            http,
            settings: Arc::new(settings),
            pool,
        }
    }

    pub fn settings(&self) -> &StripeSettings {
        &self.settings
    }

    /// One request; a 429 is sent again after a growing wait. Answers the status and body.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<&Form>,
        body: Option<&Form>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Vec<u8>), GatewayError> {
        let mut url = format!("{}{path}", self.settings.api_base.trim_end_matches('/'));
        if let Some(q) = query {
            url.push('?');
            url.push_str(&q.encode());
        }
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.settings.secret_key)
                .header("Stripe-Version", API_VERSION);
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(form) = body {
                request = request
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.encode());
            }
            let answer = request.send().await.map_err(transport)?;
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.map_err(transport)?.to_vec();
            if status == 429 && attempt < RETRIES_AFTER_429 {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                attempt += 1;
                continue;
            }
            return Ok((status, bytes));
        }
    }

    /// The object a request answers, or the error its refusal means.
    async fn object<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<&Form>,
        body: Option<&Form>,
        idempotency_key: Option<&str>,
    ) -> Result<T, GatewayError> {
        let (status, bytes) = self
            .send(method, path, query, body, idempotency_key)
            .await?;
        if (200..300).contains(&status) {
            parse(&bytes)
        } else {
            Err(refused(status, &bytes))
        }
    }

    /// The movements in Stripe's books created in `[from, to)`, newest first: every page of
    /// its balance transactions, each with its source. At most [`BOOKS_MAX`] are read; more is
    /// refused rather than compared in part.
    pub async fn books(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<balance::Entry>, GatewayError> {
        let mut entries = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..BOOKS_MAX / 100 {
            let mut query = Form::new()
                .set(&["created", "gte"], from.timestamp().to_string())
                .set(&["created", "lt"], to.timestamp().to_string())
                .set(&["limit"], "100")
                .list(&["expand"], &["data.source"]);
            if let Some(id) = &after {
                query = query.set(&["starting_after"], id.as_str());
            }
            let page: balance::Page = self
                .object(
                    reqwest::Method::GET,
                    "/v1/balance_transactions",
                    Some(&query),
                    None,
                    None,
                )
                .await?;
            after = page.data.last().map(|t| t.id.clone());
            entries.extend(page.data.iter().filter_map(|t| t.entry()));
            if !page.has_more || after.is_none() {
                return Ok(entries);
            }
        }
        Err(GatewayError::Refused(format!(
            "Stripe holds more than {BOOKS_MAX} balance transactions in these days: choose fewer days"
        )))
    }

    /// The PaymentIntent `id` as Stripe holds it.
    async fn intent(&self, id: &str) -> Result<PaymentIntent, GatewayError> {
        self.object(
            reqwest::Method::GET,
            &format!("/v1/payment_intents/{id}"),
            None,
            None,
            None,
        )
        .await
    }

    /// The rail of the PaymentIntent `id`, from its payment method types.
    pub async fn intent_rail(&self, id: &str) -> Result<Option<Rail>, GatewayError> {
        Ok(self
            .intent(id)
            .await?
            .payment_method_types
            .iter()
            .find_map(|t| balance::rail_of(t)))
    }

    /// The company's Stripe Customer: the one kept, or one made now (under a key of the
    /// company's, so two requests at once make one) and kept.
    pub async fn customer(&self, company: i64) -> Result<String, GatewayError> {
        let unavailable = |e: sqlx::Error| GatewayError::Unavailable(e.to_string());
        let row = sqlx::query!(
            "SELECT code, name, stripe_customer FROM companies WHERE id = $1",
            company
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| GatewayError::Refused("no such company".into()))?;
        if let Some(id) = row.stripe_customer {
            return Ok(id);
        }
        let made: Customer = self
            .object(
                reqwest::Method::POST,
                "/v1/customers",
                None,
                Some(
                    &Form::new()
                        .set(&["name"], row.name)
                        .set(&["metadata", "settle_company"], company.to_string())
                        .set(&["metadata", "settle_company_code"], row.code),
                ),
                Some(&format!("settle-customer-{company}")),
            )
            .await?;
        let kept = sqlx::query_scalar!(
            r#"UPDATE companies SET stripe_customer = COALESCE(stripe_customer, $2)
               WHERE id = $1 RETURNING stripe_customer AS "id!""#,
            company,
            made.id
        )
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(kept)
    }

    /// A SetupIntent for a card the browser collects with Stripe.js, to be used later
    /// without the cardholder.
    pub async fn card_setup(&self, customer: &str) -> Result<SetupIntent, GatewayError> {
        self.object(
            reqwest::Method::POST,
            "/v1/setup_intents",
            None,
            Some(
                &Form::new()
                    .set(&["customer"], customer)
                    .list(&["payment_method_types"], &["card"])
                    .set(&["usage"], "off_session"),
            ),
            None,
        )
        .await
    }

    /// The SetupIntent `id`, as the browser left it.
    pub async fn setup_intent(&self, id: &str) -> Result<SetupIntent, GatewayError> {
        self.object(
            reqwest::Method::GET,
            &format!("/v1/setup_intents/{id}"),
            None,
            None,
            None,
        )
        .await
    }

    /// The card the browser saved for `company` with Stripe.js: the PaymentMethod of the
    /// SetupIntent `setup_intent`, when that intent is the company's customer's and succeeded
    /// (an intent of another customer's, or one not confirmed, is refused).
    pub async fn card_from_setup(
        &self,
        company: i64,
        setup_intent: &str,
    ) -> Result<String, GatewayError> {
        let refused = |why: &str| Err(GatewayError::Refused(why.into()));
        if !setup_intent.starts_with("seti_") || searchable(setup_intent).is_none() {
            return refused("not a Stripe SetupIntent");
        }
        let customer = self.customer(company).await?;
        let setup = self.setup_intent(setup_intent).await?;
        if setup.customer.as_deref() != Some(customer.as_str()) {
            return refused("the card was set up for another customer");
        }
        match (setup.status.as_str(), setup.payment_method) {
            ("succeeded", Some(pm)) => Ok(pm),
            (status, _) => Err(GatewayError::Refused(format!(
                "Stripe has not confirmed the card yet (the setup is at {status})"
            ))),
        }
    }

    /// The PaymentMethod `id`, or `None` when Stripe has none.
    pub async fn payment_method(&self, id: &str) -> Result<Option<PaymentMethod>, GatewayError> {
        let (status, bytes) = self
            .send(
                reqwest::Method::GET,
                &format!("/v1/payment_methods/{id}"),
                None,
                None,
                None,
            )
            .await?;
        match status {
            200..=299 => parse(&bytes).map(Some),
            404 => Ok(None),
            _ => Err(refused(status, &bytes)),
        }
    }

    /// A `us_bank_account` PaymentMethod for these numbers (not yet any customer's): the
    /// token the browser gets back from the tokenizer.
    pub async fn create_bank_account(
        &self,
        account: &BankAccountNumbers<'_>,
    ) -> Result<PaymentMethod, GatewayError> {
        let mut form = Form::new()
            .set(&["type"], "us_bank_account")
            .set(
                &["us_bank_account", "routing_number"],
                account.routing_number,
            )
            .set(
                &["us_bank_account", "account_number"],
                account.account_number,
            )
            .set(&["billing_details", "name"], account.holder_name);
        if let Some(kind) = account.account_type {
            form = form.set(&["us_bank_account", "account_type"], kind);
        }
        self.object(
            reqwest::Method::POST,
            "/v1/payment_methods",
            None,
            Some(&form),
            None,
        )
        .await
    }

    /// Sets up the bank account `method` for debits from `company`'s customer: its holder
    /// type, then a SetupIntent confirmed with the holder's authorization as its mandate
    /// (`online` with the address and browser it was agreed from, `offline` for a signed
    /// document; the SHA-256 of Settle's record of it in the intent's metadata).
    pub async fn authorize_bank_account(
        &self,
        company: i64,
        method: &str,
        mandate: &Mandate<'_>,
    ) -> Result<(), GatewayError> {
        let customer = self.customer(company).await?;
        let holder = if mandate.holder_type == "personal" {
            "individual"
        } else {
            "company"
        };
        let _: PaymentMethod = self
            .object(
                reqwest::Method::POST,
                &format!("/v1/payment_methods/{method}"),
                None,
                Some(&Form::new().set(&["us_bank_account", "account_holder_type"], holder)),
                None,
            )
            .await?;
        let acceptance = ["mandate_data", "customer_acceptance"];
        let at = |rest: &[&'static str]| [&acceptance[..], rest].concat();
        let mut form = Form::new()
            .set(&["customer"], customer)
            .set(&["payment_method"], method)
            .list(&["payment_method_types"], &["us_bank_account"])
            .set(&["usage"], "off_session")
            .set(&["confirm"], "true")
            .set(
                &at(&["accepted_at"]),
                mandate.accepted_at.timestamp().to_string(),
            )
            .set(
                &["metadata", "settle_authorization_sha256"],
                &mandate.record_sha256,
            );
        form = match mandate.online {
            Some((ip, agent)) => form
                .set(&at(&["type"]), "online")
                .set(&at(&["online", "ip_address"]), ip)
                .set(&at(&["online", "user_agent"]), agent),
            None => form.set(&at(&["type"]), "offline"),
        };
        let setup: SetupIntent = self
            .object(
                reqwest::Method::POST,
                "/v1/setup_intents",
                None,
                Some(&form),
                Some(&format!("settle-bank-{method}")),
            )
            .await?;
        if setup.status != "succeeded" && setup.status != "processing" {
            return Err(GatewayError::Refused(format!(
                "Stripe did not accept the bank account's mandate (it left it at {})",
                setup.status
            )));
        }
        Ok(())
    }

    /// The payment the engine recorded for this gateway key: its number, for Stripe's
    /// metadata, and whether it is older than Stripe keeps idempotency keys.
    async fn payment_facts(&self, key: &str) -> Option<(String, bool)> {
        let payment = crate::gateway::payment_key(key)?;
        sqlx::query!(
            r#"SELECT number, created_at < now() - make_interval(hours => $2) AS "old!"
               FROM payments WHERE idempotency_key = $1"#,
            payment,
            KEYS_KEPT_HOURS
        )
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten()
        .map(|r| (r.number, r.old))
    }

    async fn charge_now(
        &self,
        token: &str,
        amount: Money,
        key: &str,
    ) -> Result<Charge, GatewayError> {
        let cents = charge_cents(amount)?;
        let method = self
            .payment_method(token)
            .await?
            .ok_or_else(|| GatewayError::Refused("Stripe has no such payment method".into()))?;
        let customer = method.customer.clone().ok_or_else(|| {
            GatewayError::Refused("the payment method is not saved to a Stripe customer".into())
        })?;
        let facts = self.payment_facts(key).await;
        if matches!(facts, Some((_, true))) {
            if let Some(found) = self.find(key).await? {
                return Ok(found);
            }
        }
        let mut form = Form::new()
            .set(&["amount"], cents.to_string())
            // Settle takes US dollars only (`SETTLE_CURRENCY`).
            .set(&["currency"], "usd")
            .set(&["customer"], customer)
            .set(&["payment_method"], token)
            .list(&["payment_method_types"], &[method.kind.as_str()])
            .set(&["confirm"], "true")
            // Taken on the customer's behalf: the cardholder is not here to authenticate.
            .set(&["off_session"], "true")
            .set(&["metadata", "settle_key"], key);
        if let Some((number, _)) = facts {
            form = form
                .set(&["description"], format!("Settle payment {number}"))
                .set(&["metadata", "settle_payment"], number);
        }
        let (status, bytes) = self
            .send(
                reqwest::Method::POST,
                "/v1/payment_intents",
                None,
                Some(&form),
                Some(key),
            )
            .await?;
        if (200..300).contains(&status) {
            return parse::<PaymentIntent>(&bytes)?.charge();
        }
        match answers::refusal(status, &bytes) {
            Refusal::Answer(answer) => answer,
            Refusal::RetryLater => Err(refused(status, &bytes)),
        }
    }

    async fn find(&self, key: &str) -> Result<Option<Charge>, GatewayError> {
        let key = searchable(key)
            .ok_or_else(|| GatewayError::Refused("the key cannot be searched for".into()))?;
        let found: Search<PaymentIntent> = self
            .object(
                reqwest::Method::GET,
                "/v1/payment_intents/search",
                Some(&Form::new().set(&["query"], format!("metadata['settle_key']:'{key}'"))),
                None,
                None,
            )
            .await?;
        match found.data.first() {
            Some(intent) => intent.charge().map(Some),
            None => Ok(None),
        }
    }

    async fn refund_now(
        &self,
        intent: &str,
        amount: Money,
        key: &str,
    ) -> Result<Refund, GatewayError> {
        let cents = charge_cents(amount)?;
        let refund: StripeRefund = self
            .object(
                reqwest::Method::POST,
                "/v1/refunds",
                None,
                Some(
                    &Form::new()
                        .set(&["payment_intent"], intent)
                        .set(&["amount"], cents.to_string())
                        .set(&["metadata", "settle_key"], key),
                ),
                Some(key),
            )
            .await?;
        Ok(refund.into_refund())
    }

    /// What Stripe allows for the bank debit `intent`: an intent not yet confirmed can be
    /// cancelled; one `processing` has gone to the bank, and Stripe cancels none of those.
    async fn void_offer_now(&self, intent: &str) -> Result<VoidOffer, GatewayError> {
        let pi = self.intent(intent).await?;
        Ok(match pi.status.as_str() {
            "requires_payment_method" if pi.is_bank_debit() && pi.last_payment_error.is_some() => {
                VoidOffer::No(
                    "The bank returned this debit: the money is already back with the payer."
                        .into(),
                )
            }
            "canceled"
            | "requires_payment_method"
            | "requires_confirmation"
            | "requires_action"
            | "requires_capture" => VoidOffer::Cancel,
            "succeeded" => {
                VoidOffer::No("The debit has settled: it can be refunded instead.".into())
            }
            _ => VoidOffer::No(STRIPE_PROCESSING.into()),
        })
    }

    /// Cancels the intent (`POST /v1/payment_intents/{id}/cancel`); Stripe refuses one that is
    /// `processing` (`payment_intent_unexpected_state`), which is said as the reason.
    async fn void_now(&self, intent: &str, key: &str) -> Result<Voided, GatewayError> {
        let (status, bytes) = self
            .send(
                reqwest::Method::POST,
                &format!("/v1/payment_intents/{intent}/cancel"),
                None,
                Some(&Form::new().set(&["cancellation_reason"], "requested_by_customer")),
                Some(key),
            )
            .await?;
        if (200..300).contains(&status) {
            let pi: PaymentIntent = parse(&bytes)?;
            return if pi.status == "canceled" {
                Ok(Voided::Cancelled)
            } else {
                Err(GatewayError::Refused(format!(
                    "Stripe left the debit {}: it was not cancelled.",
                    pi.status.replace('_', " ")
                )))
            };
        }
        let error = serde_json::from_slice::<answers::ErrorBody>(&bytes)
            .ok()
            .map(|b| b.error);
        match error {
            Some(e) if e.code.as_deref() == Some("payment_intent_unexpected_state") => {
                let said = e.message.unwrap_or_default();
                Err(GatewayError::Refused(if said.contains("processing") {
                    STRIPE_PROCESSING.into()
                } else {
                    format!("Stripe can no longer cancel this debit: {said}")
                }))
            }
            _ => Err(refused(status, &bytes)),
        }
    }

    /// The refund made under `key`, looked for among the intent's refunds (Stripe's list is
    /// read from its books at once, unlike its search).
    async fn find_refund_now(
        &self,
        intent: &str,
        key: &str,
    ) -> Result<Option<Refund>, GatewayError> {
        let list: Search<StripeRefund> = self
            .object(
                reqwest::Method::GET,
                "/v1/refunds",
                Some(
                    &Form::new()
                        .set(&["payment_intent"], intent)
                        .set(&["limit"], "100"),
                ),
                None,
                None,
            )
            .await?;
        Ok(list
            .data
            .into_iter()
            .find(|r| r.metadata.get("settle_key").map(String::as_str) == Some(key))
            .map(StripeRefund::into_refund))
    }
}

/// A Refund as Stripe answers it.
#[derive(Deserialize)]
struct StripeRefund {
    id: String,
    status: Option<String>,
    failure_reason: Option<String>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

impl StripeRefund {
    fn into_refund(self) -> Refund {
        let status = match self.status.as_deref() {
            Some("succeeded") => RefundStatus::Succeeded,
            Some("failed") => RefundStatus::Failed,
            Some("canceled") => RefundStatus::Cancelled,
            // pending, requires_action: not finished yet.
            _ => RefundStatus::Pending,
        };
        let message = self.failure_reason.map(|r| match r.as_str() {
            "expired_or_canceled_card" => {
                "The card's bank refused the refund: the card is expired or closed.".to_string()
            }
            "lost_or_stolen_card" => {
                "The card's bank refused the refund: the card was reported lost or stolen."
                    .to_string()
            }
            other => format!(
                "Stripe could not make the refund ({}).",
                other.replace('_', " ")
            ),
        });
        Refund {
            id: self.id,
            status,
            message,
        }
    }
}

/// Why a bank debit Stripe is processing cannot be cancelled.
const STRIPE_PROCESSING: &str = "Stripe has sent this debit to the bank (it is processing), and Stripe cancels no debit once it is: it can be refunded once it settles.";

/// What the browser's Stripe.js does instead: card numbers never reach Settle.
const CARDS_IN_BROWSER: &str =
    "with Stripe, cards are entered in Stripe's own field (Stripe.js) and saved by a SetupIntent";

impl PaymentGateway for StripeGateway {
    fn tokenize_card(&self, _: &CardNumber, _: u32, _: i32) -> GatewayFuture<'_, CardToken> {
        Box::pin(async { Err(GatewayError::Refused(CARDS_IN_BROWSER.into())) })
    }

    fn tokenize_bank_account(&self, account: &BankAccountNumbers<'_>) -> GatewayFuture<'_, String> {
        let (routing, number, name, kind) = (
            account.routing_number.to_string(),
            account.account_number.to_string(),
            account.holder_name.to_string(),
            account.account_type.map(str::to_string),
        );
        Box::pin(async move {
            let numbers = BankAccountNumbers {
                routing_number: &routing,
                account_number: &number,
                holder_name: &name,
                account_type: kind.as_deref(),
            };
            Ok(self.create_bank_account(&numbers).await?.id)
        })
    }

    fn authorize_debits<'a>(
        &'a self,
        token: &'a str,
        company: shared::CompanyId,
        mandate: &'a Mandate<'a>,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move { self.authorize_bank_account(company.0, token, mandate).await })
    }

    fn charge(
        &self,
        token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Charge> {
        let (token, key) = (token.to_string(), idempotency_key.to_string());
        Box::pin(async move { self.charge_now(&token, amount, &key).await })
    }

    fn token_details(&self, token: &str) -> GatewayFuture<'_, Option<TokenDetails>> {
        let token = token.to_string();
        Box::pin(async move {
            Ok(self
                .payment_method(&token)
                .await?
                .and_then(|m| match (m.card, m.us_bank_account) {
                    (Some(c), _) => Some(TokenDetails::Card {
                        brand: c.brand,
                        last4: c.last4,
                        exp_month: c.exp_month,
                        exp_year: c.exp_year,
                        funding: Some(c.funding),
                    }),
                    (None, Some(b)) => Some(TokenDetails::BankAccount {
                        routing_number: b.routing_number.unwrap_or_default(),
                        last4: b.last4.unwrap_or_default(),
                    }),
                    _ => None,
                }))
        })
    }

    fn find_charge(&self, idempotency_key: &str) -> GatewayFuture<'_, Option<Charge>> {
        let key = idempotency_key.to_string();
        Box::pin(async move { self.find(&key).await })
    }

    fn refund(
        &self,
        charge_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Refund> {
        let (intent, key) = (charge_id.to_string(), idempotency_key.to_string());
        Box::pin(async move { self.refund_now(&intent, amount, &key).await })
    }

    fn find_refund(
        &self,
        charge_id: &str,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Option<Refund>> {
        let (intent, key) = (charge_id.to_string(), idempotency_key.to_string());
        Box::pin(async move { self.find_refund_now(&intent, &key).await })
    }

    fn void_offer(&self, charge_id: &str) -> GatewayFuture<'_, VoidOffer> {
        let intent = charge_id.to_string();
        Box::pin(async move { self.void_offer_now(&intent).await })
    }

    fn void<'a>(
        &'a self,
        charge_id: &'a str,
        _reverse: bool,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Voided> {
        Box::pin(async move { self.void_now(charge_id, idempotency_key).await })
    }
}

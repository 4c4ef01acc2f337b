//! Settle's back end: PostgreSQL, sign-in and sessions, who acts for which company, audit,
//! companies and invoices, saved methods, the payment engine and its gateway, and demo data.
//! Free of any UI framework so it can be tested on its own.

pub mod ach_files;
pub mod audit;
pub mod authority;
pub mod card_guard;
pub mod companies;
pub mod config;
pub mod config_error;
pub mod credits;
pub mod db;
pub mod demo;
pub mod email;
pub mod error;
pub mod gateway;
pub mod housekeeping;
pub mod idempotency;
pub mod integration;
pub mod invoices;
pub mod large;
pub mod ledger;
pub mod links;
pub mod methods;
pub mod outbox;
pub mod pay_links;
pub mod payments;
pub mod pdf;
pub mod people;
pub mod policies;
pub mod reasons;
pub mod reports;
pub mod signature;
pub mod tokens;

pub use config::Config;
pub use error::{Error, Result};

use sqlx::PgPool;
use std::sync::Arc;

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// The payment gateway, whichever it is: the engine knows only the trait.
    pub gateway: Arc<dyn gateway::PaymentGateway>,
    /// The built-in sandbox when it is the gateway: its tokenizer endpoint and its bank
    /// network's clock run here. `None` with a hosted gateway.
    pub sandbox: Option<Arc<gateway::SandboxGateway>>,
    /// Stripe when it is the gateway (`SETTLE_GATEWAY=stripe`): the browser's card entry
    /// (a SetupIntent for Stripe.js) and saving a bank account with its mandate go here.
    pub stripe: Option<Arc<gateway::StripeGateway>>,
}

impl AppState {
    /// The state for `pool` and `config`, with the sandbox gateway on the same database.
    pub fn new(pool: PgPool, config: Config) -> Self {
        let sandbox = Arc::new(gateway::SandboxGateway::new(
            pool.clone(),
            config.sandbox_delay,
        ));
        Self::with_sandbox(pool, config, sandbox)
    }

    /// The state with this sandbox, and the gateway the settings name: the sandbox, or
    /// Stripe (`SETTLE_GATEWAY=stripe`, the sandbox then unused).
    pub fn with_sandbox(
        pool: PgPool,
        config: Config,
        sandbox: Arc<gateway::SandboxGateway>,
    ) -> Self {
        let stripe = config.stripe.as_ref().map(|s| {
            Arc::new(gateway::StripeGateway::new(
                pool.clone(),
                s.clone(),
                config.gateway_timeout,
            ))
        });
        let (cards, sandbox): (Arc<dyn gateway::PaymentGateway>, _) = match &stripe {
            Some(stripe) => (stripe.clone(), None),
            None => (sandbox.clone(), Some(sandbox)),
        };
        // With the NACHA rail, ACH debits go to the seller's bank as files; cards still go
        // through the gateway.
        let gateway: Arc<dyn gateway::PaymentGateway> = match &config.nacha {
            Some(nacha) => Arc::new(ach_files::rail::NachaRail::new(
                pool.clone(),
                Arc::new(nacha.clone()),
                cards,
            )),
            None => cards,
        };
        AppState {
            pool,
            config: Arc::new(config),
            gateway,
            sandbox,
            stripe,
        }
    }
}

/// Connects to PostgreSQL, applies migrations, seeds demo data when asked, and starts the
/// background housekeeping. Fails with one clear line when the database is not usable.
pub async fn start(config: Config) -> std::result::Result<AppState, db::StartupError> {
    let pool = db::connect(&config.database_url, config.db_max_connections).await?;
    db::migrate(&pool).await?;
    if config.demo {
        let gateway = gateway::SandboxGateway::new(pool.clone(), std::time::Duration::ZERO);
        let report = demo::seed(&pool, &gateway)
            .await
            .map_err(|e| db::StartupError::Seed(e.to_string()))?;
        tracing::info!(?report, "demo data");
    }
    let state = AppState::new(pool, config);
    housekeeping::spawn(state.clone());
    Ok(state)
}

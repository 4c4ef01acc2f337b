//! Settle's back end: PostgreSQL, sign-in and sessions, audit, company and invoice queries,
//! and demo data. Free of any UI framework so it can be tested on its own.

pub mod audit;
pub mod card_guard;
pub mod companies;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod gateway;
pub mod methods;
pub mod payments;
pub mod sessions;
pub mod users;

pub use config::Config;
pub use error::{Error, Result};

use sqlx::PgPool;
use std::sync::Arc;

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub gateway: Arc<gateway::SandboxGateway>,
}

impl AppState {
    /// The state for `pool` and `config`, with the sandbox gateway on the same database.
    pub fn new(pool: PgPool, config: Config) -> Self {
        let gateway = gateway::SandboxGateway::new(pool.clone(), config.sandbox_delay);
        AppState {
            pool,
            config: Arc::new(config),
            gateway: Arc::new(gateway),
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
    sessions::spawn_purger(state.pool.clone());
    payments::spawn_housekeeping(state.clone());
    Ok(state)
}

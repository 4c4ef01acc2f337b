//! Settle's back end: PostgreSQL, sign-in and sessions, audit, company and invoice queries,
//! and demo data. Free of any UI framework so it can be tested on its own.

pub mod audit;
pub mod companies;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
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
}

/// Connects to PostgreSQL, applies migrations, seeds demo data when asked, and starts the
/// background housekeeping. Fails with one clear line when the database is not usable.
pub async fn start(config: Config) -> std::result::Result<AppState, db::StartupError> {
    let pool = db::connect(&config.database_url, config.db_max_connections).await?;
    db::migrate(&pool).await?;
    if config.demo {
        let report = demo::seed(&pool)
            .await
            .map_err(|e| db::StartupError::Seed(e.to_string()))?;
        tracing::info!(?report, "demo data");
    }
    let state = AppState {
        pool,
        config: Arc::new(config),
    };
    sessions::spawn_purger(state.pool.clone());
    Ok(state)
}

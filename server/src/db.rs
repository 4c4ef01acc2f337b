//! The connection pool and migrations.

use shared::format::one_line;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// Why the server could not start. Each is one line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(String),
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("cannot apply database migrations: {0}")]
    Migrate(String),
    #[error("cannot load demo data: {0}")]
    Seed(String),
}

/// Where a URL points, without its password.
pub fn describe_target(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(o) => {
            let host = match o.get_socket() {
                Some(dir) => dir.display().to_string(),
                None => o.get_host().to_string(),
            };
            format!(
                "{}:{}/{}",
                host,
                o.get_port(),
                o.get_database().unwrap_or("(default)")
            )
        }
        Err(_) => "(unparseable URL)".to_string(),
    }
}

/// Opens the pool after checking, with one connection, that the server answers: fails
/// within 5 s with the server's or the network's own reason when it does not.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StartupError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StartupError::BadUrl(e.to_string()))?;
    let fail = |reason: String| StartupError::Connect {
        target: describe_target(url),
        reason: one_line(&reason),
    };
    let probe = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options))
        .await
        .map_err(|_| fail("no answer within 5 seconds".into()))?
        .map_err(|e| fail(e.to_string()))?;
    let _ = probe.close().await;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // No ping before every use: it doubled the round trips of every query. A connection
        // the server closed fails its next query, and the pool drops it.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// Whether the database answers: the load balancer's health check (`/healthz`).
pub async fn answers(pool: &PgPool) -> bool {
    sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
        .fetch_one(pool)
        .await
        .is_ok()
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn migrate(pool: &PgPool) -> Result<(), StartupError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StartupError::Migrate(one_line(&e.to_string())))
}

/// Drops and recreates database `name` on the server of `url`, applies the migrations and
/// returns a pool on it (for benchmarks, which load their own data).
pub async fn fresh_database(
    url: &str,
    name: &str,
    max_connections: u32,
) -> Result<PgPool, StartupError> {
    use sqlx::ConnectOptions;
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StartupError::BadUrl(e.to_string()))?;
    let fail = |e: sqlx::Error| StartupError::Connect {
        target: describe_target(url),
        reason: one_line(&e.to_string()),
    };
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .map_err(fail)?;
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        sqlx::query(&sql).execute(&mut admin).await.map_err(fail)?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options.database(name).disable_statement_logging())
        .await
        .map_err(fail)?;
    migrate(&pool).await?;
    Ok(pool)
}

//! Configuration from environment variables, with defaults that suit a developer machine.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: the PostgreSQL to use.
    pub database_url: String,
    /// `SETTLE_DB_MAX_CONNECTIONS` (default 10).
    pub db_max_connections: u32,
    /// `SETTLE_DEMO` (`1`/`true`): seed demo data into an empty database and list the demo
    /// sign-ins on the login page. Off by default.
    pub demo: bool,
    /// `SETTLE_SESSION_IDLE_MINUTES` (default 30): a session unused this long ends.
    pub session_idle: Duration,
    /// `SETTLE_SESSION_MAX_HOURS` (default 12): a session ends this long after sign-in,
    /// however active.
    pub session_max: Duration,
    /// `SETTLE_SECURE_COOKIES` (`1`/`true`): mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// `SETTLE_SANDBOX_DELAY_MS` (default 0): added to every sandbox gateway call, to
    /// exercise a slow gateway.
    pub sandbox_delay: Duration,
    /// `SETTLE_GATEWAY_TIMEOUT_MS` (default 15000): a gateway call slower than this is
    /// abandoned and its payment left to reconciliation.
    pub gateway_timeout: Duration,
    /// `SETTLE_RECONCILE_EVERY_MS` (default 5000): how often payments the gateway has not
    /// answered for are checked again.
    pub reconcile_every: Duration,
    /// `SETTLE_RECONCILE_TIMEOUT_MS` (default 60000): how long one such check waits for the
    /// gateway (longer than a payer is kept waiting: nobody is).
    pub reconcile_timeout: Duration,
    /// `SETTLE_API_RATE_PER_MINUTE` (default 600): requests one API key may make in a clock
    /// minute, across every instance; past it, 429 with `Retry-After`.
    pub api_rate_per_minute: u32,
    /// `SETTLE_WEBHOOK_POLL_MS` (default 1000): how often due webhook deliveries are sent.
    pub webhook_poll: Duration,
    /// `SETTLE_WEBHOOK_RETRY_BASE_MS` (default 30000): the wait after a failed delivery,
    /// doubled after each further failure (at most 6 hours).
    pub webhook_retry_base: Duration,
    /// `SETTLE_WEBHOOK_MAX_ATTEMPTS` (default 12): attempts before a delivery is marked failed
    /// (an admin can still retry it).
    pub webhook_max_attempts: u32,
    /// `SETTLE_IMPORT_MAX_MB` (default 20): the largest CSV file an import takes.
    pub import_max_bytes: usize,
    /// `SETTLE_SMTP_URL` (default `smtp://localhost:1025`, a local mail catcher): where email
    /// goes out. `smtp://host:port` sends in clear (a local catcher or relay);
    /// `smtp://user:pass@host:587?tls=required` upgrades with STARTTLS and refuses a server
    /// without it; `smtps://user:pass@host:465` speaks TLS from the start. Certificates are
    /// checked against the Mozilla roots (rustls).
    pub smtp_url: String,
    /// `SETTLE_EMAIL_FROM` (default `billing@settle.localhost`): the sender's address; the
    /// display name is the seller's.
    pub email_from: String,
    /// `SETTLE_SELLER_NAME` (default `Northwind Supply`): whose emails and pay pages these are.
    pub seller_name: String,
    /// `SETTLE_PUBLIC_URL` (default `http://localhost:3000`): where links in emails point.
    pub public_url: String,
    /// `SETTLE_SECRET_KEY` (at least 32 characters): the key links are signed with. When not
    /// set, a key made once and kept in the database is used; set it in production so a
    /// copy of the database alone cannot make links.
    pub secret_key: Option<String>,
    /// `SETTLE_EMAIL_POLL_MS` (default 1000): how often due emails are sent.
    pub email_poll: Duration,
    /// `SETTLE_EMAIL_RETRY_BASE_MS` (default 30000): the wait after a failed attempt, doubled
    /// after each further failure (at most 6 hours).
    pub email_retry_base: Duration,
    /// `SETTLE_EMAIL_MAX_ATTEMPTS` (default 12): attempts before an email is marked failed
    /// (staff can still send it again).
    pub email_max_attempts: u32,
    /// `SETTLE_PAY_LINK_DAYS` (default 7): how long a pay link can be paid.
    pub pay_link_days: u32,
    /// `SETTLE_CARD_NOTICES_EVERY_MS` (default 3600000, hourly): how often the card-expiry
    /// notices due are written (each card's once a month, however often this runs).
    pub card_notices_every: Duration,
    /// `SETTLE_ACH_SYNC_MS` (default 30000): how often pending ACH payments are read again
    /// from the gateway (and the sandbox's bank network moves on).
    pub ach_sync_every: Duration,
    /// `SETTLE_SANDBOX_ACH_AFTER_MS` (default 60000): how long the sandbox's bank network
    /// takes to settle or return an ACH debit.
    pub sandbox_ach_after: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DATABASE_URL is not set (run `make run`, which starts a local PostgreSQL, or set it to your server)")]
    MissingDatabaseUrl,
    #[error("{name} must be {expected}, got {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (an environment lookup).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url = get("DATABASE_URL")
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConfigError::MissingDatabaseUrl)?;
        let number =
            |name: &'static str, default: u64| -> Result<u64, ConfigError> {
                match get(name) {
                    None => Ok(default),
                    Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(
                        ConfigError::Invalid {
                            name,
                            expected: "a whole number above 0",
                            value: v,
                        },
                    ),
                }
            };
        let text = |name: &'static str, default: &str| -> String {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match get(name).as_deref().map(str::trim) {
                None | Some("") | Some("0") | Some("false") => Ok(false),
                Some("1") | Some("true") => Ok(true),
                Some(v) => Err(ConfigError::Invalid {
                    name,
                    expected: "1, true, 0 or false",
                    value: v.to_string(),
                }),
            }
        };
        Ok(Config {
            database_url,
            db_max_connections: number("SETTLE_DB_MAX_CONNECTIONS", 10)? as u32,
            demo: flag("SETTLE_DEMO")?,
            session_idle: Duration::from_secs(60 * number("SETTLE_SESSION_IDLE_MINUTES", 30)?),
            session_max: Duration::from_secs(3600 * number("SETTLE_SESSION_MAX_HOURS", 12)?),
            secure_cookies: flag("SETTLE_SECURE_COOKIES")?,
            sandbox_delay: Duration::from_millis(match get("SETTLE_SANDBOX_DELAY_MS") {
                None => 0,
                Some(v) => v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                    name: "SETTLE_SANDBOX_DELAY_MS",
                    expected: "a whole number of milliseconds",
                    value: v.clone(),
                })?,
            }),
            gateway_timeout: Duration::from_millis(number("SETTLE_GATEWAY_TIMEOUT_MS", 15_000)?),
            reconcile_every: Duration::from_millis(number("SETTLE_RECONCILE_EVERY_MS", 5_000)?),
            reconcile_timeout: Duration::from_millis(number(
                "SETTLE_RECONCILE_TIMEOUT_MS",
                60_000,
            )?),
            api_rate_per_minute: number("SETTLE_API_RATE_PER_MINUTE", 600)? as u32,
            webhook_poll: Duration::from_millis(number("SETTLE_WEBHOOK_POLL_MS", 1_000)?),
            webhook_retry_base: Duration::from_millis(number(
                "SETTLE_WEBHOOK_RETRY_BASE_MS",
                30_000,
            )?),
            webhook_max_attempts: number("SETTLE_WEBHOOK_MAX_ATTEMPTS", 12)? as u32,
            import_max_bytes: (number("SETTLE_IMPORT_MAX_MB", 20)? as usize) << 20,
            smtp_url: text("SETTLE_SMTP_URL", "smtp://localhost:1025"),
            email_from: text("SETTLE_EMAIL_FROM", "billing@settle.localhost"),
            seller_name: text("SETTLE_SELLER_NAME", "Northwind Supply"),
            public_url: text("SETTLE_PUBLIC_URL", "http://localhost:3000")
                .trim_end_matches('/')
                .to_string(),
            secret_key: match get("SETTLE_SECRET_KEY").filter(|k| !k.trim().is_empty()) {
                Some(k) if k.trim().len() < 32 => {
                    return Err(ConfigError::Invalid {
                        name: "SETTLE_SECRET_KEY",
                        expected: "at least 32 characters",
                        value: "(hidden)".into(),
                    })
                }
                k => k,
            },
            email_poll: Duration::from_millis(number("SETTLE_EMAIL_POLL_MS", 1_000)?),
            email_retry_base: Duration::from_millis(number("SETTLE_EMAIL_RETRY_BASE_MS", 30_000)?),
            email_max_attempts: number("SETTLE_EMAIL_MAX_ATTEMPTS", 12)? as u32,
            pay_link_days: number("SETTLE_PAY_LINK_DAYS", 7)? as u32,
            card_notices_every: Duration::from_millis(number(
                "SETTLE_CARD_NOTICES_EVERY_MS",
                3_600_000,
            )?),
            ach_sync_every: Duration::from_millis(number("SETTLE_ACH_SYNC_MS", 30_000)?),
            sandbox_ach_after: Duration::from_millis(number(
                "SETTLE_SANDBOX_ACH_AFTER_MS",
                60_000,
            )?),
        })
    }

    /// A configuration for tests against `database_url`.
    pub fn for_tests(database_url: &str) -> Self {
        Config {
            database_url: database_url.to_string(),
            db_max_connections: 5,
            demo: false,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            sandbox_delay: Duration::ZERO,
            gateway_timeout: Duration::from_secs(15),
            reconcile_every: Duration::from_secs(5),
            reconcile_timeout: Duration::from_secs(60),
            api_rate_per_minute: 600,
            webhook_poll: Duration::from_millis(200),
            webhook_retry_base: Duration::from_millis(200),
            webhook_max_attempts: 5,
            import_max_bytes: 20 << 20,
            smtp_url: "smtp://127.0.0.1:9".into(),
            email_from: "billing@settle.localhost".into(),
            seller_name: "Northwind Supply".into(),
            public_url: "http://localhost:3000".into(),
            secret_key: None,
            email_poll: Duration::from_millis(200),
            email_retry_base: Duration::from_millis(200),
            email_max_attempts: 5,
            pay_link_days: 7,
            card_notices_every: Duration::from_secs(3600),
            ach_sync_every: Duration::from_secs(30),
            sandbox_ach_after: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_errors() {
        assert!(matches!(cfg(&[]), Err(ConfigError::MissingDatabaseUrl)));
        let c = cfg(&[("DATABASE_URL", "postgres://x/y")]).unwrap();
        assert!(!c.demo);
        assert_eq!(c.session_idle, Duration::from_secs(1800));
        assert_eq!(c.session_max, Duration::from_secs(43200));
        let c = cfg(&[("DATABASE_URL", "postgres://x/y"), ("SETTLE_DEMO", "1")]).unwrap();
        assert!(c.demo);
        let e = cfg(&[
            ("DATABASE_URL", "postgres://x/y"),
            ("SETTLE_SESSION_IDLE_MINUTES", "soon"),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "SETTLE_SESSION_IDLE_MINUTES must be a whole number above 0, got \"soon\""
        );
    }
}

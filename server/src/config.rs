//! Configuration from environment variables, with defaults that suit a developer machine.

use std::net::IpAddr;
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
    /// `SETTLE_CURRENCY` (default `USD`, the only one taken today): the seller's one currency.
    /// Every invoice and payment is in it; a payment is checked against it, never against a
    /// currency the request names.
    pub currency: shared::Currency,
    /// `SETTLE_PUBLIC_URL` (default: where the server listens, `http://` + `LEPTOS_SITE_ADDR`):
    /// where links in emails point; the only `Host` (and `Origin`) requests may name.
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
    /// `SETTLE_DASHBOARD_EVERY_MS` (default 300000, five minutes): how often the dashboard's
    /// figures of the whole book are added up again.
    pub dashboard_every: Duration,
    /// `SETTLE_STATEMENTS_EVERY_MS` (default 600000, ten minutes): how often the statement
    /// schedule is looked at (each company's statement of a month goes out once).
    pub statements_every: Duration,
    /// `SETTLE_ACH_SYNC_MS` (default 30000): how often pending ACH payments are read again
    /// from the gateway (and the sandbox's bank network moves on).
    pub ach_sync_every: Duration,
    /// `SETTLE_SANDBOX_ACH_AFTER_MS` (default 60000): how long the sandbox's bank network
    /// takes to settle or return an ACH debit.
    pub sandbox_ach_after: Duration,
    /// `SETTLE_SANDBOX_DISPUTE_AFTER_MS` (default 60000): how long after a charge of a
    /// disputing test card the sandbox's card network disputes it, and how long after that it
    /// decides the dispute.
    pub sandbox_dispute_after: Duration,
    /// `SETTLE_TRUSTED_PROXIES` (default none): the load balancers and proxies (addresses or
    /// CIDR ranges, comma-separated) whose `X-Forwarded-For` is believed. Anyone else's is
    /// ignored: the client is the address that connected.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `SETTLE_RECEIPT_LINK_DAYS` (default 180): how long a receipt link in an email opens
    /// its receipt.
    pub receipt_link_days: u32,
    /// `SETTLE_WEBHOOK_ALLOW_LOOPBACK` (`1`/`true`, default off): webhook endpoints may be on
    /// this machine (a local receiver under test). Link-local, metadata and unspecified
    /// addresses are refused whatever this says.
    pub webhook_allow_loopback: bool,
    /// `SETTLE_ACH_RAIL` (`gateway`, the default, or `nacha`): with `nacha`, ACH debits go to
    /// the seller's bank as NACHA files ([`crate::ach_files`]) with these settings.
    pub nacha: Option<crate::ach_files::settings::NachaSettings>,
    /// `SETTLE_GATEWAY` (`sandbox`, the default, or `stripe`) and the `STRIPE_*` settings:
    /// with `stripe`, payments go through Stripe ([`crate::gateway::stripe`]).
    pub stripe: Option<crate::gateway::stripe::client::StripeSettings>,
}

pub use crate::config_error::ConfigError;

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
        let seller_name = text("SETTLE_SELLER_NAME", "Northwind Supply");
        let nacha = crate::ach_files::settings::NachaSettings::from_lookup(&get, &seller_name)?;
        let stripe = crate::gateway::stripe::client::StripeSettings::from_lookup(&get)?;
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
            seller_name,
            currency: {
                let raw = text("SETTLE_CURRENCY", "USD");
                raw.parse().map_err(|_| ConfigError::Invalid {
                    name: "SETTLE_CURRENCY",
                    expected: "a currency Settle takes: USD",
                    value: raw.clone(),
                })?
            },
            public_url: public_url(get("SETTLE_PUBLIC_URL"), get("LEPTOS_SITE_ADDR"))?,
            secret_key: match secret_key(&get)? {
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
            dashboard_every: Duration::from_millis(number("SETTLE_DASHBOARD_EVERY_MS", 300_000)?),
            statements_every: Duration::from_millis(number("SETTLE_STATEMENTS_EVERY_MS", 600_000)?),
            ach_sync_every: Duration::from_millis(number("SETTLE_ACH_SYNC_MS", 30_000)?),
            sandbox_ach_after: Duration::from_millis(number(
                "SETTLE_SANDBOX_ACH_AFTER_MS",
                60_000,
            )?),
            sandbox_dispute_after: Duration::from_millis(number(
                "SETTLE_SANDBOX_DISPUTE_AFTER_MS",
                60_000,
            )?),
            trusted_proxies: trusted_proxies(get("SETTLE_TRUSTED_PROXIES"))?,
            receipt_link_days: number("SETTLE_RECEIPT_LINK_DAYS", 180)? as u32,
            webhook_allow_loopback: flag("SETTLE_WEBHOOK_ALLOW_LOOPBACK")?,
            nacha,
            stripe,
        })
    }

    /// What serving requires beyond what the settings hold: a key to sign links with, unless
    /// demo mode is on (where the key kept in the database will do).
    pub fn check_for_serving(&self) -> Result<(), ConfigError> {
        if self.secret_key.is_none() && !self.demo {
            return Err(ConfigError::MissingSecretKey);
        }
        Ok(())
    }

    /// The address of the client a request comes from: the address that connected, or, when
    /// that is a trusted proxy, the nearest address in `X-Forwarded-For` that is not one.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        if !trusted(&peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded.unwrap_or("").rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !trusted(&ip) {
                        break;
                    }
                }
                // Not an address: what lies beyond it cannot be believed.
                Err(_) => break,
            }
        }
        Some(client)
    }

    /// Whether a request's `Host` header names this server as its public URL does. On a
    /// public URL at a loopback address, any loopback name with the same port will do
    /// (`localhost:3000` and `127.0.0.1:3000` are the same server).
    pub fn is_own_host(&self, host: &str) -> bool {
        // Every request asks: the common answer without parsing anything.
        if host.eq_ignore_ascii_case(self.public_parts().1) {
            return true;
        }
        let Ok(public) = url::Url::parse(&self.public_url) else {
            return false;
        };
        let Some(public_host) = public.host_str() else {
            return false;
        };
        let Ok(asked) = url::Url::parse(&format!("{}://{host}", public.scheme())) else {
            return false;
        };
        if asked.port_or_known_default() != public.port_or_known_default()
            || asked.path() != "/"
            || !asked.username().is_empty()
        {
            return false;
        }
        let asked_host = asked.host_str().unwrap_or("");
        asked_host.eq_ignore_ascii_case(public_host)
            || (is_loopback_name(public_host) && is_loopback_name(asked_host))
    }

    /// The public URL's scheme and `host[:port]`, as written.
    fn public_parts(&self) -> (&str, &str) {
        let (scheme, rest) = self
            .public_url
            .split_once("://")
            .unwrap_or(("", self.public_url.as_str()));
        (scheme, rest.split('/').next().unwrap_or(rest))
    }

    /// The public URL's origin (`scheme://host[:port]`), as a browser sends it in `Origin`.
    pub fn public_origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// Whether an `Origin` header names the public URL's origin (its scheme, and a host as
    /// [`Config::is_own_host`] takes it).
    pub fn is_own_origin(&self, origin: &str) -> bool {
        let (scheme, authority) = self.public_parts();
        if origin
            .split_once("://")
            .is_some_and(|(s, a)| s == scheme && a.eq_ignore_ascii_case(authority))
        {
            return true;
        }
        let (Ok(public), Ok(asked)) = (url::Url::parse(&self.public_url), url::Url::parse(origin))
        else {
            return false;
        };
        let host = match (asked.host_str(), asked.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return false,
        };
        asked.scheme() == public.scheme() && asked.path() == "/" && self.is_own_host(&host)
    }

    /// `next` (where to go after signing in) as a path and query on Settle's own origin:
    /// joined onto the public URL and kept only when it stays on that origin. A control
    /// character (a browser drops tabs and line breaks, so `/\t/evil.example` would lead to
    /// another site, and a line break cannot go in a header), a backslash or anything but an
    /// absolute path is refused.
    pub fn local_path(&self, next: &str) -> Option<String> {
        if !next.starts_with('/')
            || next.starts_with("//")
            || next.len() > 2000
            || next
                .chars()
                .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
        {
            return None;
        }
        let base = url::Url::parse(&self.public_url).ok()?;
        let joined = base.join(next).ok()?;
        if joined.origin() != base.origin() {
            return None;
        }
        Some(match joined.query() {
            Some(q) => format!("{}?{q}", joined.path()),
            None => joined.path().to_string(),
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
            currency: shared::Currency::USD,
            public_url: "http://localhost:3000".into(),
            secret_key: None,
            email_poll: Duration::from_millis(200),
            email_retry_base: Duration::from_millis(200),
            email_max_attempts: 5,
            pay_link_days: 7,
            card_notices_every: Duration::from_secs(3600),
            dashboard_every: Duration::from_secs(300),
            statements_every: Duration::from_secs(600),
            ach_sync_every: Duration::from_secs(30),
            sandbox_ach_after: Duration::from_secs(60),
            sandbox_dispute_after: Duration::from_secs(60),
            trusted_proxies: Vec::new(),
            receipt_link_days: 180,
            webhook_allow_loopback: true,
            nacha: None,
            stripe: None,
        }
    }
}

/// `localhost`, `127.0.0.1`, `[::1]`: names of this machine.
fn is_loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `SETTLE_PUBLIC_URL`, or where the server listens (`LEPTOS_SITE_ADDR`, 127.0.0.1:3000 by
/// default): an http(s) URL with a host, kept without a trailing slash.
fn public_url(set: Option<String>, site_addr: Option<String>) -> Result<String, ConfigError> {
    let raw = match set.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(v) => v,
        None => format!(
            "http://{}",
            site_addr
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "127.0.0.1:3000".into())
        ),
    };
    let ok = url::Url::parse(&raw)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok {
        return Err(ConfigError::Invalid {
            name: "SETTLE_PUBLIC_URL",
            expected: "an http:// or https:// URL with a host",
            value: raw,
        });
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// `SETTLE_SECRET_KEY`, or the contents of the file `SETTLE_SECRET_KEY_FILE` names.
fn secret_key(get: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    if let Some(k) = get("SETTLE_SECRET_KEY").filter(|k| !k.trim().is_empty()) {
        return Ok(Some(k));
    }
    match get("SETTLE_SECRET_KEY_FILE").filter(|p| !p.trim().is_empty()) {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(path.trim())
            .map(|k| Some(k.trim().to_string()).filter(|k| !k.is_empty()))
            .map_err(|e| ConfigError::SecretKeyFile {
                path,
                error: e.to_string(),
            }),
    }
}

/// `SETTLE_TRUSTED_PROXIES`: addresses and CIDR ranges, comma-separated.
fn trusted_proxies(raw: Option<String>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name: "SETTLE_TRUSTED_PROXIES",
                    expected: "addresses or CIDR ranges separated by commas",
                    value: s.to_string(),
                })
        })
        .collect()
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
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let c = cfg(&[("DATABASE_URL", "postgres://x/y")]).unwrap();
        // Nobody is trusted by default: a forged header changes nothing.
        assert_eq!(
            c.client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4")),
            Some(ip("203.0.113.9"))
        );
        let c = cfg(&[
            ("DATABASE_URL", "postgres://x/y"),
            ("SETTLE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ])
        .unwrap();
        assert_eq!(
            c.client_ip(Some(ip("127.0.0.1")), Some("198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        // The client's own forged entries sit left of what the proxies appended.
        assert_eq!(
            c.client_ip(
                Some(ip("127.0.0.1")),
                Some("6.6.6.6, 198.51.100.7, 10.1.2.3")
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            c.client_ip(Some(ip("127.0.0.1")), Some("junk")),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            c.client_ip(Some(ip("127.0.0.1")), None),
            Some(ip("127.0.0.1"))
        );
        // A stranger's header is not read.
        assert_eq!(
            c.client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4")),
            Some(ip("203.0.113.9"))
        );
        assert!(cfg(&[("DATABASE_URL", "x"), ("SETTLE_TRUSTED_PROXIES", "nope")]).is_err());
    }

    #[test]
    fn the_host_is_the_public_urls() {
        let c = cfg(&[
            ("DATABASE_URL", "postgres://x/y"),
            ("SETTLE_PUBLIC_URL", "https://pay.example.com/"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "https://pay.example.com");
        assert_eq!(c.public_origin(), "https://pay.example.com");
        assert!(c.is_own_host("pay.example.com"));
        assert!(c.is_own_host("PAY.example.com:443"));
        assert!(!c.is_own_host("evil.example"));
        assert!(!c.is_own_host("pay.example.com:8443"));
        assert!(!c.is_own_host("pay.example.com/x"));
        assert!(!c.is_own_host("user@pay.example.com"));
        // Where the server listens, by default; loopback names are one machine.
        let c = cfg(&[
            ("DATABASE_URL", "x"),
            ("LEPTOS_SITE_ADDR", "127.0.0.1:3107"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:3107");
        assert!(c.is_own_host("127.0.0.1:3107"));
        assert!(c.is_own_host("localhost:3107"));
        assert!(!c.is_own_host("localhost:3000"));
        assert!(!c.is_own_host("evil.example:3107"));
        assert!(cfg(&[("DATABASE_URL", "x"), ("SETTLE_PUBLIC_URL", "ftp://x")]).is_err());
        assert!(c.is_own_origin("http://127.0.0.1:3107"));
        assert!(c.is_own_origin("http://localhost:3107"));
        assert!(!c.is_own_origin("https://127.0.0.1:3107"));
        assert!(!c.is_own_origin("http://evil.example:3107"));
        assert!(!c.is_own_origin("null"));
    }

    #[test]
    fn serving_needs_a_secret_key_unless_in_demo_mode() {
        let c = cfg(&[("DATABASE_URL", "x")]).unwrap();
        assert!(matches!(
            c.check_for_serving(),
            Err(ConfigError::MissingSecretKey)
        ));
        let c = cfg(&[("DATABASE_URL", "x"), ("SETTLE_DEMO", "1")]).unwrap();
        assert!(c.check_for_serving().is_ok());
        let key = "k".repeat(40);
        let c = cfg(&[("DATABASE_URL", "x"), ("SETTLE_SECRET_KEY", &key)]).unwrap();
        assert!(c.check_for_serving().is_ok());
        let file = std::env::temp_dir().join(format!("settle-key-{}", std::process::id()));
        std::fs::write(&file, format!("{key}\n")).unwrap();
        let path = file.to_string_lossy().to_string();
        let c = cfg(&[("DATABASE_URL", "x"), ("SETTLE_SECRET_KEY_FILE", &path)]).unwrap();
        assert_eq!(c.secret_key.as_deref(), Some(key.as_str()));
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(
            cfg(&[("DATABASE_URL", "x"), ("SETTLE_SECRET_KEY_FILE", &path)]),
            Err(ConfigError::SecretKeyFile { .. })
        ));
    }

    #[test]
    fn next_stays_on_the_public_origin() {
        let c = Config::for_tests("postgres://x/y");
        let path = |n: &str| c.local_path(n);
        assert_eq!(
            path("/ops/crm/companies?q=acme").as_deref(),
            Some("/ops/crm/companies?q=acme")
        );
        assert_eq!(path("/portal").as_deref(), Some("/portal"));
        for bad in [
            "/\t/evil.example",
            "/%09/evil.example",
            "//evil.example/x",
            "https://evil.example",
            "/\\evil.example",
            "/ops\r\nSet-Cookie: x=1",
            "/\n/evil.example",
            "/ /evil.example",
            "ops",
            "",
        ] {
            let decoded = bad.replace("%09", "\t");
            assert_eq!(path(&decoded), None, "{bad:?}");
        }
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

//! Webhooks: admins register endpoints; every event (written to the `events` outbox by the
//! transaction that made the change) gets a delivery per subscribed endpoint in that same
//! transaction; a background worker on every instance sends due deliveries, each claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease (an instance that dies mid-send leaves it to another
//! once the lease ends), retrying with exponential backoff. Delivery is at least once:
//! receivers de-duplicate by the event id.
//!
//! Signature: header `Settle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>`; a receiver recomputes it and refuses a `t` older than its replay window
//! (5 minutes recommended, see [`verify`] and [`crate::signature`]).

use crate::audit::{self, Action, Entity};
use crate::authority::Admin;
use crate::outbox::backoff;
use crate::tokens::new_secret;
use crate::{Config, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use shared::event::EventData;
use shared::integration::{webhook_events, webhook_url, Delivery, DeliveryStatus, WebhookEndpoint};
use shared::{AppError, DeliveryId, EventId, UserId, WebhookId};
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Settle-Signature";

/// The signature header's value for `body` sent at `t` (unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    crate::signature::header(secret, t, body)
}

/// Checks a signature header as a receiver would: the HMAC matches and `t` is within the
/// replay window of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    crate::signature::verify(Some(header), body, &[secret], now).is_ok()
}

/// What an address is, for sending webhooks to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// Never: unspecified (`0.0.0.0`), link-local (cloud metadata at `169.254.169.254`),
    /// multicast, broadcast.
    Refused(&'static str),
    /// This machine: only when `SETTLE_WEBHOOK_ALLOW_LOOPBACK` allows it.
    Loopback,
    /// A private network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): http or https.
    Private,
    /// The internet: https only.
    Public,
}

/// What `ip` is (an IPv4 address written as IPv6 is judged as itself).
pub fn address_kind(ip: IpAddr) -> AddressKind {
    use AddressKind::*;
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            address_kind(IpAddr::V4(v6.to_ipv4_mapped().expect("mapped")))
        }
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() || a == 0 {
                Refused("an unspecified address")
            } else if v4.is_link_local() {
                Refused("a link-local address (where cloud metadata lives)")
            } else if v4.is_multicast() || v4.is_broadcast() {
                Refused("a multicast or broadcast address")
            } else if v4.is_loopback() {
                Loopback
            } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Private
            } else {
                Public
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_unspecified() {
                Refused("an unspecified address")
            } else if v6.is_unicast_link_local() {
                Refused("a link-local address (where cloud metadata lives)")
            } else if v6.is_multicast() {
                Refused("a multicast address")
            } else if v6.is_loopback() {
                Loopback
            } else if v6.is_unique_local() {
                Private
            } else {
                Public
            }
        }
    }
}

/// Why webhooks may not go to `ip` over `scheme`, or `None` when they may.
pub fn refusal(ip: IpAddr, https: bool, allow_loopback: bool) -> Option<String> {
    match address_kind(ip) {
        AddressKind::Refused(what) => Some(format!("{ip} is {what}: webhooks never go there.")),
        AddressKind::Loopback if !allow_loopback => Some(format!(
            "{ip} is this machine: webhooks go there only when SETTLE_WEBHOOK_ALLOW_LOOPBACK is set."
        )),
        AddressKind::Public if !https => Some(format!(
            "{ip} is on the internet: use https:// for it."
        )),
        _ => None,
    }
}

/// An endpoint URL as registered: http(s), no user name or password, and every address its
/// host resolves to one webhooks may go to (checked again, on the resolved address, at every
/// send).
pub async fn check_url(raw: &str, config: &Config) -> Result<String> {
    let url = webhook_url(raw)?;
    let bad = |m: String| crate::Error::from(AppError::invalid("url", m));
    let parsed = url::Url::parse(&url).map_err(|_| {
        bad("Enter a whole URL, like https://erp.example.com/settle-events.".into())
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "Leave the user name and password out of the URL: Settle signs every request instead."
                .into(),
        ));
    }
    let https = parsed.scheme() == "https";
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| bad(format!("The host {name} could not be found.")))?
            .map(|a| a.ip())
            .collect(),
        None => return Err(bad("Enter a whole URL with a host.".into())),
    };
    if addresses.is_empty() {
        return Err(bad("The URL's host has no address.".into()));
    }
    if let Some(why) = addresses
        .iter()
        .find_map(|ip| refusal(*ip, https, config.webhook_allow_loopback))
    {
        return Err(bad(why));
    }
    Ok(url)
}

/// Resolves a receiver's host for the delivery client, keeping only addresses webhooks may go
/// to: the check at registration holds at send time, whatever the name resolves to by then.
struct GuardedResolver {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            // The scheme is checked before sending; here only where the address is.
            let allowed: Vec<std::net::SocketAddr> = found
                .filter(|a| refusal(a.ip(), true, allow_loopback).is_none())
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{} resolves to no address webhooks may go to",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a delivery may not go to `url` now (its host an address webhooks never go to), checked
/// before each send for a host written as an address (names are checked as they resolve).
fn refused_target(url: &str, allow_loopback: bool) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let https = parsed.scheme() == "https";
    let ip = match parsed.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    refusal(ip, https, allow_loopback)
}

/// Registers an endpoint; its signing secret is made here.
pub async fn create(
    pool: &PgPool,
    config: &Config,
    admin: &Admin,
    url: &str,
    description: &str,
    events: &[String],
) -> Result<WebhookId> {
    let url = check_url(url, config).await?;
    let events = webhook_events(events)?;
    let description = Some(description.trim()).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > 200) {
        return Err(
            AppError::invalid("description", "A description has at most 200 characters.").into(),
        );
    }
    let secret = format!("whsec_{}", new_secret());
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO webhook_endpoints (url, description, secret, event_types, created_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        url,
        description,
        secret,
        &events,
        admin.id() as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::WebhookCreated,
        Entity::WebhookEndpoint,
        id,
        json!({ "url": url, "events": events }),
    )
    .await?;
    tx.commit().await?;
    Ok(WebhookId(id))
}

/// Turns an endpoint on or off (off: no new deliveries; pending ones wait).
pub async fn set_active(pool: &PgPool, admin: &Admin, id: WebhookId, active: bool) -> Result<()> {
    let by = admin.actor();
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "UPDATE webhook_endpoints SET active = $2, updated_at = now() WHERE id = $1",
        id as WebhookId,
        active
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound("Webhook endpoint".into()).into());
    }
    audit::system_change(
        &mut tx,
        by,
        Action::WebhookChanged,
        Entity::WebhookEndpoint,
        id,
        json!({ "active": active }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every endpoint with its delivery counts, newest first.
pub async fn list(pool: &PgPool, _admin: &Admin) -> Result<Vec<WebhookEndpoint>> {
    endpoints(pool, None).await
}

/// One endpoint.
pub async fn get(pool: &PgPool, _admin: &Admin, id: WebhookId) -> Result<WebhookEndpoint> {
    endpoints(pool, Some(id))
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("Webhook endpoint".into()).into())
}

/// The endpoints (all, or the one with `id`) with their delivery counts.
async fn endpoints(pool: &PgPool, id: Option<WebhookId>) -> Result<Vec<WebhookEndpoint>> {
    Ok(sqlx::query_as!(
        WebhookEndpoint,
        r#"SELECT e.id AS "id: WebhookId", e.url, e.description, e.event_types AS events, e.active, e.secret, e.created_at,
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'delivered') AS "delivered!",
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS "pending!",
                  (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS "failed!"
           FROM webhook_endpoints e WHERE $1::bigint IS NULL OR e.id = $1 ORDER BY e.id DESC"#,
        id as Option<WebhookId>
    )
    .fetch_all(pool)
    .await?)
}

/// An endpoint's latest deliveries (at most 100), newest first.
pub async fn deliveries(
    pool: &PgPool,
    _admin: &Admin,
    endpoint: WebhookId,
) -> Result<Vec<Delivery>> {
    let rows = sqlx::query!(
        r#"SELECT d.id, d.event_id, e.type AS event_type, d.status AS "status: DeliveryStatus", d.attempts,
                  d.last_status, d.last_error, d.created_at, d.next_attempt_at, d.delivered_at
           FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
           WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT 100"#,
        endpoint as WebhookId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: DeliveryId(r.id),
            event_id: crate::outbox::event_id(EventId(r.event_id)),
            event_type: r.event_type,
            next_attempt_at: (r.status == DeliveryStatus::Pending).then_some(r.next_attempt_at),
            status: r.status,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        })
        .collect())
}

/// Sends a delivery again now (a failed one, or a delivered one the receiver lost).
pub async fn retry(
    pool: &PgPool,
    admin: &Admin,
    endpoint: WebhookId,
    delivery: DeliveryId,
) -> Result<()> {
    let by = admin.actor();
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), lease_until = NULL \
         WHERE id = $1 AND endpoint_id = $2",
        delivery as DeliveryId,
        endpoint as WebhookId
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound("Delivery".into()).into());
    }
    audit::system_change(
        &mut tx,
        by,
        Action::WebhookRetried,
        Entity::WebhookEndpoint,
        endpoint,
        json!({ "delivery": delivery }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The HTTP client deliveries go out with: no redirects followed, 10 s per attempt, and host
/// names resolved only to addresses webhooks may go to.
pub fn client(config: &Config) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent("Settle-Webhooks/1")
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(GuardedResolver {
            allow_loopback: config.webhook_allow_loopback,
        }))
        .build()
        .expect("a plain HTTP client builds")
}

/// What one due delivery needs.
struct Due {
    id: i64,
    attempts: i32,
    url: String,
    secret: String,
    event_id: EventId,
    event_type: String,
    created_at: DateTime<Utc>,
    data: serde_json::Value,
}

/// The body of an event as sent (and signed).
pub fn body(
    event_id: EventId,
    event_type: &str,
    created_at: DateTime<Utc>,
    data: &EventData,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": crate::outbox::event_id(event_id),
        "object": "event",
        "type": event_type,
        "created_at": created_at,
        "data": data,
    }))
    .expect("events serialize")
}

/// Sends the deliveries that are due (up to 20 at a time, at once); how many were tried.
pub async fn deliver_due(
    pool: &PgPool,
    client: &reqwest::Client,
    config: &Config,
) -> Result<usize> {
    let claimed = sqlx::query!(
        r#"WITH due AS (SELECT d.id FROM webhook_deliveries d
                        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                          AND (d.lease_until IS NULL OR d.lease_until < now())
                          -- An endpoint turned off keeps its deliveries waiting, unsent.
                          AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = d.endpoint_id AND w.active)
                        ORDER BY d.next_attempt_at LIMIT 20 FOR UPDATE OF d SKIP LOCKED),
                leased AS (UPDATE webhook_deliveries d SET lease_until = now() + interval '60 seconds'
                           FROM due WHERE d.id = due.id RETURNING d.id, d.attempts, d.event_id, d.endpoint_id)
           SELECT l.id AS "id!", l.attempts AS "attempts!", w.url, w.secret, e.id AS "event_id: EventId",
                  e.type AS event_type, e.created_at, e.data
           FROM leased l JOIN webhook_endpoints w ON w.id = l.endpoint_id JOIN events e ON e.id = l.event_id"#
    )
    .fetch_all(pool)
    .await?;
    let due: Vec<Due> = claimed
        .into_iter()
        .map(|r| Due {
            id: r.id,
            attempts: r.attempts,
            url: r.url,
            secret: r.secret,
            event_id: r.event_id,
            event_type: r.event_type,
            created_at: r.created_at,
            data: r.data,
        })
        .collect();
    let n = due.len();
    let sends = due.into_iter().map(|d| async move {
        let outcome = match refused_target(&d.url, config.webhook_allow_loopback) {
            Some(why) => Sent {
                status: None,
                error: Some(format!("not sent: {why}")),
                took: Duration::ZERO,
            },
            None => send(client, &d).await,
        };
        record(pool, config, &d, outcome).await
    });
    for r in futures_util::future::join_all(sends).await {
        r?;
    }
    Ok(n)
}

/// An attempt's outcome: the status code (when there was an answer), the error (when it
/// failed), how long it took.
struct Sent {
    status: Option<u16>,
    error: Option<String>,
    took: Duration,
}

async fn send(client: &reqwest::Client, d: &Due) -> Sent {
    let started = Instant::now();
    let data = match EventData::deserialize(&d.data) {
        Ok(data) => data,
        Err(e) => {
            return Sent {
                status: None,
                error: Some(format!(
                    "not sent: the event does not read as a payment or a method: {e}"
                )),
                took: Duration::ZERO,
            }
        }
    };
    let body = body(d.event_id, &d.event_type, d.created_at, &data);
    let signature = sign(&d.secret, Utc::now().timestamp(), &body);
    let res = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header("Settle-Event-Id", crate::outbox::event_id(d.event_id))
        .header("Settle-Event-Type", &d.event_type)
        .body(body)
        .send()
        .await;
    let took = started.elapsed();
    match res {
        Ok(r) if r.status().is_success() => Sent {
            status: Some(r.status().as_u16()),
            error: None,
            took,
        },
        Ok(r) => Sent {
            status: Some(r.status().as_u16()),
            error: Some(format!("the receiver answered {}", r.status())),
            took,
        },
        Err(e) => Sent {
            status: None,
            error: Some(if e.is_timeout() {
                "no answer within 10 s".to_string()
            } else if e.is_connect() {
                "could not connect to the receiver".to_string()
            } else {
                format!("sending failed: {e}")
            }),
            took,
        },
    }
}

async fn record(pool: &PgPool, config: &Config, d: &Due, s: Sent) -> Result<()> {
    let attempts = d.attempts + 1;
    let delivered = s.error.is_none();
    let gave_up = !delivered && attempts as u32 >= config.webhook_max_attempts;
    let wait = backoff(config.webhook_retry_base, attempts as u32);
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE webhook_deliveries SET attempts = $2, lease_until = NULL, last_status = $3, last_error = $4, \
           status = CASE WHEN $5 THEN 'delivered' WHEN $6 THEN 'failed' ELSE 'pending' END, \
           delivered_at = CASE WHEN $5 THEN now() ELSE delivered_at END, \
           next_attempt_at = now() + make_interval(secs => $7) \
         WHERE id = $1",
        d.id,
        attempts,
        s.status.map(i32::from),
        s.error.as_deref(),
        delivered,
        gave_up,
        wait.as_secs_f64(),
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) VALUES ($1, $2, $3, $4)",
        d.id,
        s.status.map(i32::from),
        s.error.as_deref(),
        s.took.as_millis().min(i32::MAX as u128) as i32,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_within_its_window_only() {
        let h = sign("whsec_x", 1_700_000_000, b"{}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_x", &h, b"{}", 1_700_000_100));
        assert!(!verify("whsec_x", &h, b"{ }", 1_700_000_100));
        assert!(!verify("whsec_y", &h, b"{}", 1_700_000_100));
        assert!(!verify("whsec_x", &h, b"{}", 1_700_000_000 + 301));
        assert!(!verify("whsec_x", "v1=abc", b"{}", 1_700_000_000));
    }

    #[test]
    fn webhooks_never_go_to_metadata_unspecified_or_multicast_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for bad in [
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "fe80::1",
            "ff02::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(
                matches!(address_kind(ip(bad)), AddressKind::Refused(_)),
                "{bad}"
            );
            assert!(refusal(ip(bad), true, true).is_some(), "{bad}");
        }
        assert_eq!(address_kind(ip("127.0.0.1")), AddressKind::Loopback);
        assert_eq!(address_kind(ip("::1")), AddressKind::Loopback);
        assert!(refusal(ip("127.0.0.1"), false, false).is_some());
        assert!(refusal(ip("127.0.0.1"), false, true).is_none());
        assert_eq!(address_kind(ip("10.1.2.3")), AddressKind::Private);
        assert_eq!(address_kind(ip("fd00::1")), AddressKind::Private);
        assert!(refusal(ip("10.1.2.3"), false, false).is_none());
        assert_eq!(address_kind(ip("93.184.216.34")), AddressKind::Public);
        assert!(
            refusal(ip("93.184.216.34"), false, false).is_some(),
            "http to the internet"
        );
        assert!(refusal(ip("93.184.216.34"), true, false).is_none());
        assert!(refused_target("http://169.254.169.254/latest/meta-data", true).is_some());
        assert!(refused_target("http://[::ffff:a9fe:a9fe]/x", true).is_some());
        assert!(refused_target("https://erp.example.com/x", false).is_none());
    }
}

//! Webhook signatures in the form Stripe documents ("Verify webhook signatures") and Settle's
//! own webhooks use (`Settle-Signature`): the header carries `t=<unix seconds>` and one
//! `v1=<hex>` per signing secret in use (two while a secret is rolled); each `v1` is the
//! HMAC-SHA256, under a secret, of the timestamp, a dot and the raw body. A request is accepted
//! when any `v1` matches any of the endpoint's secrets (compared in constant time) and its
//! timestamp is within the tolerance of now, so a captured request cannot be replayed later.

use crate::tokens::hex;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed timestamp may be from now: five minutes, Stripe's libraries' default.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook request is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("no v1 signature matches the endpoint's signing secrets")]
    NoMatch,
    #[error("the signature's timestamp is {0} s away from now (at most {TOLERANCE_SECS} s)")]
    Stale(i64),
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (s.len() % 2 == 0)
        .then(|| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// The `v1` signature of `body` at `timestamp` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex(&mac(secret, timestamp, body).finalize().into_bytes())
}

/// The whole header for `body` sent at `timestamp`: `t=…,v1=…`.
pub fn header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Checks `header` for `body` against the endpoint's `secrets` at `now` (unix seconds);
/// returns the signed timestamp.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(unhex(v)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matches = secrets.iter().any(|secret| {
        signatures
            .iter()
            .any(|s| mac(secret, timestamp, body).verify_slice(s).is_ok())
    });
    if !matches {
        return Err(SignatureError::NoMatch);
    }
    let age = now - timestamp;
    if age.abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale(age));
    }
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed vector computed outside this code (Python's hmac and hashlib, HMAC-SHA256 of
    // "1765000000." + the body) under two secrets, as during a secret's rotation.
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}"#;
    const T: i64 = 1_765_000_000;
    const OLD: &str = "whsec_settle_test_old";
    const NEW: &str = "whsec_settle_test_new";
    const V1_OLD: &str = "55ed79d464bd30932224f73e69512e999b54631b02412f81ed87e160a6c3fa7b";
    const V1_NEW: &str = "4343bbe0801e4a85a80a8a05a099c2807a0bfd31041c0a05bcdf614c5f11a826";

    #[test]
    fn the_signature_is_stripe_s_hmac_of_the_timestamp_and_body() {
        assert_eq!(sign(OLD, T, BODY), V1_OLD);
        assert_eq!(sign(NEW, T, BODY), V1_NEW);
    }

    #[test]
    fn valid_stale_tampered_rotated_and_malformed() {
        let header = format!("t={T},v1={V1_NEW}");
        assert_eq!(verify(Some(&header), BODY, &[NEW], T + 10), Ok(T));
        // Stale, either way.
        assert_eq!(
            verify(Some(&header), BODY, &[NEW], T + 301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            verify(Some(&header), BODY, &[NEW], T - 400),
            Err(SignatureError::Stale(-400))
        );
        // Tampered body, or the timestamp moved.
        let tampered = br#"{"id":"evt_1","object":"event","type":"payment_intent.payment_failed"}"#;
        assert_eq!(
            verify(Some(&header), tampered, &[NEW], T),
            Err(SignatureError::NoMatch)
        );
        let moved = format!("t={},v1={V1_NEW}", T + 1);
        assert_eq!(
            verify(Some(&moved), BODY, &[NEW], T),
            Err(SignatureError::NoMatch)
        );
        // Rotation: Stripe signs with both secrets; an endpoint knowing either accepts.
        let both = format!("t={T},v1={V1_OLD},v1={V1_NEW},v0=ignored");
        assert_eq!(verify(Some(&both), BODY, &[OLD], T), Ok(T));
        assert_eq!(verify(Some(&both), BODY, &[NEW], T), Ok(T));
        assert_eq!(
            verify(Some(&both), BODY, &["whsec_other"], T),
            Err(SignatureError::NoMatch)
        );
        // Missing or malformed.
        assert_eq!(verify(None, BODY, &[NEW], T), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some("v1=abc"), BODY, &[NEW], T),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={T}")), BODY, &[NEW], T),
            Err(SignatureError::Malformed)
        );
    }
}

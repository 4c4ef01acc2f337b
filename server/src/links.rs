//! Signed links in emails: invitations, password resets, pay links and receipts.
//!
//! A link's token is `HMAC-SHA256(key, "purpose:nonce")` (base64url): the database keeps
//! the row's random nonce and the token's SHA-256, never the token, so neither a copy of the
//! database nor the outbox can open a link without the key. The token is found again by its
//! hash; the email worker signs the link when it sends (so a resend carries the same link).
//! A receipt link signs the payment's number and its issue day (it only shows a receipt, for
//! `SETTLE_RECEIPT_LINK_DAYS`).

use crate::{Config, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use shared::AppError;
use sqlx::{PgConnection, PgPool};

/// What a link opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    PasswordReset,
    PayLink,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
            Purpose::PayLink => "pay_link",
        }
    }

    /// The page the link opens, under the public URL.
    pub fn path(self) -> &'static str {
        match self {
            Purpose::Invitation => "/invite",
            Purpose::PasswordReset => "/reset-password",
            Purpose::PayLink => "/pay",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "invitation" => Some(Purpose::Invitation),
            "password_reset" => Some(Purpose::PasswordReset),
            "pay_link" => Some(Purpose::PayLink),
            _ => None,
        }
    }
}

/// The signing key: `SETTLE_SECRET_KEY`, or the one kept in the database (made on first use,
/// the same for every instance).
pub async fn key(conn: &mut PgConnection, config: &Config) -> Result<Vec<u8>> {
    if let Some(k) = &config.secret_key {
        return Ok(k.as_bytes().to_vec());
    }
    let stored = || sqlx::query_scalar!("SELECT secret FROM server_keys WHERE name = 'links'");
    if let Some(k) = stored().fetch_optional(&mut *conn).await? {
        return Ok(k);
    }
    // The first use: make one, unless another instance just did (theirs is kept).
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    sqlx::query!(
        "INSERT INTO server_keys (name, secret) VALUES ('links', $1) ON CONFLICT (name) DO NOTHING",
        &fresh[..]
    )
    .execute(&mut *conn)
    .await?;
    Ok(stored().fetch_one(&mut *conn).await?)
}

fn mac(key: &[u8], message: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// A new link's parts: the nonce its row keeps and the hash of its token (the token itself
/// is made again from the nonce when the email goes out, and is never stored).
pub(crate) async fn new_link(
    conn: &mut PgConnection,
    config: &Config,
    purpose: Purpose,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let key = key(conn, config).await?;
    let nonce = nonce();
    let hash = hash(&token(&key, purpose, &nonce));
    Ok((nonce, hash))
}

/// A fresh random nonce for a new link's row.
pub fn nonce() -> Vec<u8> {
    let mut n = vec![0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

/// The token of the link whose row keeps `nonce` (16 random bytes, so one token per row).
pub fn token(key: &[u8], purpose: Purpose, nonce: &[u8]) -> String {
    mac(
        key,
        &format!("{}:{}", purpose.as_str(), URL_SAFE_NO_PAD.encode(nonce)),
    )
}

/// What the database keeps to find a token again.
pub fn hash(token: &str) -> Vec<u8> {
    crate::tokens::hash(token.trim())
}

/// The full URL of a link.
pub fn url(config: &Config, purpose: Purpose, token: &str) -> String {
    format!("{}{}/{token}", config.public_url, purpose.path())
}

/// A receipt's link token: `P-100123.20261206.<mac>`, signing the payment's number and the
/// day the link was issued (it opens the receipt for [`Config::receipt_link_days`] from then).
pub fn receipt_token(key: &[u8], payment_number: &str, issued: NaiveDate) -> String {
    let day = issued.format("%Y%m%d");
    format!(
        "{payment_number}.{day}.{}",
        mac(key, &format!("receipt:{payment_number}:{day}"))
    )
}

/// What a receipt token opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptLink {
    /// The payment number, while the link is within its days.
    Open(String),
    /// Signed, but issued more than the allowed days ago.
    Expired,
    /// Not a signed receipt link.
    Unknown,
}

/// The payment number a receipt token names, when its signature holds and it was issued at
/// most `days` days before `today`.
pub fn receipt_number(key: &[u8], token: &str, today: NaiveDate, days: u32) -> ReceiptLink {
    let mut parts = token.splitn(3, '.');
    let (Some(number), Some(day), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return ReceiptLink::Unknown;
    };
    let Ok(issued) = NaiveDate::parse_from_str(day, "%Y%m%d") else {
        return ReceiptLink::Unknown;
    };
    let expected = receipt_token(key, number, issued);
    // Compare in constant time.
    let same = expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        ReceiptLink::Unknown
    } else if issued > today || (today - issued).num_days() > i64::from(days) {
        ReceiptLink::Expired
    } else {
        ReceiptLink::Open(number.to_string())
    }
}

/// Links that open nothing one client may try in an hour; past it, link pages refuse that
/// client at once (a token cannot be guessed, but trying costs the database).
pub const DEAD_LINKS_PER_CLIENT: i32 = 30;

fn dead_link_window(client: Option<&str>) -> String {
    format!("dead-link-client:{}", client.unwrap_or("unknown"))
}

/// Refuses a client that tried too many dead links this hour.
pub async fn client_may_try(pool: &PgPool, client: Option<&str>) -> Result<()> {
    match crate::people::rate::held(pool, &dead_link_window(client)).await? {
        Some((used, minutes)) if used >= DEAD_LINKS_PER_CLIENT => {
            Err(AppError::TooMany { minutes }.into())
        }
        _ => Ok(()),
    }
}

/// Counts a link that opened nothing against its client's hour.
pub async fn count_dead_link(pool: &PgPool, client: Option<&str>) -> Result<()> {
    crate::people::rate::count(pool, &dead_link_window(client)).await?;
    Ok(())
}

/// A token as it arrives in a URL is 43 base64url characters; anything else is not one.
pub fn looks_like_token(raw: &str) -> bool {
    raw.len() == 43
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_depend_on_key_purpose_and_nonce() {
        let t = token(b"k1", Purpose::Invitation, &[1; 16]);
        assert!(looks_like_token(&t));
        assert_ne!(t, token(b"k2", Purpose::Invitation, &[1; 16]));
        assert_ne!(t, token(b"k1", Purpose::PasswordReset, &[1; 16]));
        assert_ne!(t, token(b"k1", Purpose::Invitation, &[2; 16]));
        assert_eq!(hash(&t).len(), 32);
    }

    #[test]
    fn a_receipt_token_names_its_payment_only_when_signed_and_within_its_days() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let issued = day("2026-06-01");
        let t = receipt_token(b"k", "P-100123", issued);
        assert!(t.starts_with("P-100123.20260601."), "{t}");
        let open = ReceiptLink::Open("P-100123".into());
        assert_eq!(receipt_number(b"k", &t, day("2026-06-01"), 180), open);
        assert_eq!(receipt_number(b"k", &t, day("2026-11-28"), 180), open);
        assert_eq!(
            receipt_number(b"k", &t, day("2026-11-29"), 180),
            ReceiptLink::Expired
        );
        assert_eq!(
            receipt_number(b"other", &t, issued, 180),
            ReceiptLink::Unknown
        );
        let forged = t.replace("P-100123", "P-100124");
        assert_eq!(
            receipt_number(b"k", &forged, issued, 180),
            ReceiptLink::Unknown
        );
        // The issue day is signed: moving it forward breaks the signature.
        let later = t.replace("20260601", "20261101");
        assert_eq!(
            receipt_number(b"k", &later, day("2026-11-29"), 180),
            ReceiptLink::Unknown
        );
        assert_eq!(
            receipt_number(b"k", "P-100123", issued, 180),
            ReceiptLink::Unknown
        );
        // A link from before issue dates (no day) opens nothing.
        let old = format!("P-100123.{}", mac(b"k", "receipt:P-100123"));
        assert_eq!(
            receipt_number(b"k", &old, issued, 180),
            ReceiptLink::Unknown
        );
    }
}

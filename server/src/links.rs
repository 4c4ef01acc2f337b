//! Signed links in emails: invitations, password resets, pay links and receipts.
//!
//! A link's token is `HMAC-SHA256(key, "purpose:nonce")` (base64url): the database keeps
//! the row's random nonce and the token's SHA-256, never the token, so neither a copy of the
//! database nor the outbox can open a link without the key. The token is found again by its
//! hash; the email worker signs the link when it sends (so a resend carries the same link).
//! A receipt link signs the payment's number alone (it only shows a receipt).

use crate::{Config, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

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
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// The full URL of a link.
pub fn url(config: &Config, purpose: Purpose, token: &str) -> String {
    format!("{}{}/{token}", config.public_url, purpose.path())
}

/// A receipt's link token: `P-100123.<mac>`.
pub fn receipt_token(key: &[u8], payment_number: &str) -> String {
    format!(
        "{payment_number}.{}",
        mac(key, &format!("receipt:{payment_number}"))
    )
}

/// The payment number a receipt token names, when its signature holds.
pub fn receipt_number(key: &[u8], token: &str) -> Option<String> {
    let (number, _) = token.split_once('.')?;
    let expected = receipt_token(key, number);
    // Compare in constant time.
    let same = expected.len() == token.len()
        && expected
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then(|| number.to_string())
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
    fn a_receipt_token_names_its_payment_only_when_signed() {
        let t = receipt_token(b"k", "P-100123");
        assert_eq!(receipt_number(b"k", &t).as_deref(), Some("P-100123"));
        assert_eq!(receipt_number(b"other", &t), None);
        let forged = t.replace("P-100123", "P-100124");
        assert_eq!(receipt_number(b"k", &forged), None);
        assert_eq!(receipt_number(b"k", "P-100123"), None);
    }
}

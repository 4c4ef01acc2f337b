//! The NACHA rail's own tokenizer: a bank account becomes a token (`nacha_ba_…`), and its
//! number is kept only here, sealed with AES-256-GCM under the vault key (bound to its token),
//! because the file for the seller's bank must carry it. The rest of Settle keeps the token
//! and the last four, as with any gateway.

use super::settings::VaultKey;
use crate::gateway::GatewayError;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use shared::bank::{AccountType, RoutingNumber};
use sqlx::PgPool;

/// Tokens the rail issues start with this.
pub const TOKEN_PREFIX: &str = "nacha_ba_";

/// A bank account as the file needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub routing: RoutingNumber,
    pub number: String,
    /// Set by a notification of change; otherwise the saved method's.
    pub account_type: Option<AccountType>,
}

fn key(k: &VaultKey) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &k.0).expect("a 32-byte key"))
}

/// The nonce, then the sealed number and its tag.
pub fn seal(k: &VaultKey, token: &str, number: &str) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut sealed = number.as_bytes().to_vec();
    key(k)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(token.as_bytes()),
            &mut sealed,
        )
        .expect("sealing a short number");
    [nonce.to_vec(), sealed].concat()
}

/// The number sealed for `token`; an error when the key or the token does not match.
pub fn open(k: &VaultKey, token: &str, sealed: &[u8]) -> Result<String, GatewayError> {
    let broken = || {
        GatewayError::Unavailable(
            "a sealed account number cannot be opened with SETTLE_ACH_VAULT_KEY".into(),
        )
    };
    if sealed.len() < NONCE_LEN {
        return Err(broken());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| broken())?;
    let mut body = body.to_vec();
    let plain = key(k)
        .open_in_place(nonce, Aad::from(token.as_bytes()), &mut body)
        .map_err(|_| broken())?;
    String::from_utf8(plain.to_vec()).map_err(|_| broken())
}

fn unavailable(e: sqlx::Error) -> GatewayError {
    GatewayError::Unavailable(e.to_string())
}

/// Keeps an account and gives its token.
pub async fn keep(
    pool: &PgPool,
    k: &VaultKey,
    routing: &RoutingNumber,
    number: &str,
) -> Result<String, GatewayError> {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", crate::tokens::hex(&bytes));
    let last4 = &number[number.len().saturating_sub(4)..];
    sqlx::query!(
        "INSERT INTO ach_vault (token, routing_number, account_sealed, last4) VALUES ($1, $2, $3, $4)",
        token,
        routing.as_str(),
        seal(k, &token, number),
        last4
    )
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(token)
}

/// The routing number and last four of a token the rail issued.
pub async fn details(pool: &PgPool, token: &str) -> Result<Option<(String, String)>, GatewayError> {
    let row = sqlx::query!(
        r#"SELECT routing_number AS "routing!", last4 AS "last4!" FROM ach_vault WHERE token = $1"#,
        token
    )
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?;
    Ok(row.map(|r| (r.routing, r.last4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_number_opens_only_with_its_key_and_token() {
        let k = VaultKey([7; 32]);
        let sealed = seal(&k, "nacha_ba_1", "000123456789");
        assert!(!sealed.windows(12).any(|w| w == b"000123456789"));
        assert_eq!(open(&k, "nacha_ba_1", &sealed).unwrap(), "000123456789");
        assert!(open(&k, "nacha_ba_2", &sealed).is_err());
        assert!(open(&VaultKey([8; 32]), "nacha_ba_1", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(open(&k, "nacha_ba_1", &tampered).is_err());
        // Two seals of one number differ (a fresh nonce each time).
        assert_ne!(seal(&k, "nacha_ba_1", "000123456789"), sealed);
    }
}

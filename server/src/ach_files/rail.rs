//! The NACHA rail as the engine sees it: a [`PaymentGateway`] that takes ACH debits itself
//! (each becomes an entry waiting for the next file) and hands everything about cards to the
//! card gateway it wraps. A debit is pending until its file is written and its return window
//! has passed, then settled; a return read from the bank's file ends it as returned.

use super::settings::NachaSettings;
use super::vault::{self, TOKEN_PREFIX};
use crate::gateway::{
    BankAccountNumbers, CardToken, Charge, ChargeStatus, GatewayError, GatewayFuture,
    PaymentGateway, Refund, TokenDetails,
};
use chrono::{NaiveDate, Utc};
use shared::bank::RoutingNumber;
use shared::card::CardNumber;
use shared::money::Money;
use sqlx::PgPool;
use std::sync::Arc;

/// ACH debits as NACHA files; cards through `cards`.
#[derive(Clone)]
pub struct NachaRail {
    pool: PgPool,
    settings: Arc<NachaSettings>,
    cards: Arc<dyn PaymentGateway>,
}

fn unavailable(e: sqlx::Error) -> GatewayError {
    GatewayError::Unavailable(e.to_string())
}

/// Why an ACH debit sent in a file is not refunded through a gateway.
const FILE_REFUNDS: &str =
    "an ACH debit sent to the bank in a file is not refunded through a gateway";

/// An entry's charge id as the engine keeps it.
pub fn charge_id(entry: i64) -> String {
    format!("ach_{entry}")
}

/// What an entry's state says of its charge.
pub fn entry_charge(
    entry: i64,
    settles_on: Option<NaiveDate>,
    return_code: Option<&str>,
    today: NaiveDate,
) -> Charge {
    let (status, code, message) = match (return_code, settles_on) {
        (Some(code), _) => (
            ChargeStatus::Returned,
            Some(code.to_string()),
            Some(super::inbox::return_reason(code).to_string()),
        ),
        (None, Some(day)) if day <= today => (ChargeStatus::Settled, None, None),
        _ => (ChargeStatus::Pending, None, None),
    };
    Charge {
        id: charge_id(entry),
        status,
        code,
        message,
    }
}

impl NachaRail {
    pub fn new(pool: PgPool, settings: Arc<NachaSettings>, cards: Arc<dyn PaymentGateway>) -> Self {
        NachaRail {
            pool,
            settings,
            cards,
        }
    }

    async fn entry_by_key(&self, key: &str) -> Result<Option<Charge>, GatewayError> {
        let row = sqlx::query!(
            r#"SELECT id, settles_on, return_code::text AS "return_code?" FROM ach_entries WHERE gateway_key = $1"#,
            key
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(|r| {
            entry_charge(
                r.id,
                r.settles_on,
                r.return_code.as_deref(),
                Utc::now().date_naive(),
            )
        }))
    }
}

impl PaymentGateway for NachaRail {
    fn tokenize_card(
        &self,
        number: &CardNumber,
        exp_month: u32,
        exp_year: i32,
    ) -> GatewayFuture<'_, CardToken> {
        self.cards.tokenize_card(number, exp_month, exp_year)
    }

    fn tokenize_bank_account(&self, account: &BankAccountNumbers<'_>) -> GatewayFuture<'_, String> {
        let (routing, number) = (
            account.routing_number.to_string(),
            account.account_number.to_string(),
        );
        Box::pin(async move {
            let routing = RoutingNumber::parse(&routing)
                .map_err(|e| GatewayError::Refused(e.message.to_string()))?;
            vault::keep(&self.pool, &self.settings.vault_key, &routing, &number).await
        })
    }

    fn authorize_debits<'a>(
        &'a self,
        token: &'a str,
        company: shared::CompanyId,
        mandate: &'a crate::gateway::Mandate<'a>,
    ) -> GatewayFuture<'a, ()> {
        // The rail's own accounts: the authorization Settle keeps is the one the bank asks for.
        if token.starts_with(TOKEN_PREFIX) {
            return Box::pin(async { Ok(()) });
        }
        self.cards.authorize_debits(token, company, mandate)
    }

    fn charge(
        &self,
        token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Charge> {
        if !token.starts_with(TOKEN_PREFIX) {
            return self.cards.charge(token, amount, idempotency_key);
        }
        let (token, key) = (token.to_string(), idempotency_key.to_string());
        Box::pin(async move {
            let cents = crate::gateway::charge_cents(amount)?;
            // The payment the engine recorded before charging: its key is the gateway key's
            // first part (`<key>` or `<key>.<attempt>`).
            let payment_key = crate::gateway::payment_key(&key);
            // The same key again is the same entry: made once, then only read.
            let row = sqlx::query!(
                r#"WITH made AS (
                       INSERT INTO ach_entries (gateway_key, token, cents, payment_id)
                       SELECT $1, $2, $3,
                              (SELECT id FROM payments WHERE idempotency_key = $4
                                 AND COALESCE(gateway_key, idempotency_key::text) = $1
                               ORDER BY id LIMIT 1)
                       WHERE EXISTS (SELECT 1 FROM ach_vault WHERE token = $2)
                       ON CONFLICT (gateway_key) DO NOTHING
                       RETURNING id, token, cents, settles_on, return_code)
                   SELECT id AS "id!", token AS "token!", cents AS "cents!", settles_on,
                          return_code::text AS "return_code?" FROM made
                   UNION ALL
                   SELECT id, token, cents, settles_on, return_code::text FROM ach_entries
                   WHERE gateway_key = $1"#,
                key,
                token,
                cents,
                payment_key
            )
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
            let Some(row) = row else {
                return Err(GatewayError::Refused("unknown bank account token".into()));
            };
            if row.token != token || row.cents != cents {
                return Err(GatewayError::Refused(
                    "this key was used for another debit".into(),
                ));
            }
            Ok(entry_charge(
                row.id,
                row.settles_on,
                row.return_code.as_deref(),
                Utc::now().date_naive(),
            ))
        })
    }

    fn token_details(&self, token: &str) -> GatewayFuture<'_, Option<TokenDetails>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return self.cards.token_details(token);
        }
        let token = token.to_string();
        Box::pin(async move {
            Ok(vault::details(&self.pool, &token)
                .await?
                .map(|(routing_number, last4)| TokenDetails::BankAccount {
                    routing_number,
                    last4,
                }))
        })
    }

    fn find_charge(&self, idempotency_key: &str) -> GatewayFuture<'_, Option<Charge>> {
        let key = idempotency_key.to_string();
        Box::pin(async move {
            match self.entry_by_key(&key).await? {
                Some(charge) => Ok(Some(charge)),
                None => self.cards.find_charge(&key).await,
            }
        })
    }

    fn refund(
        &self,
        charge_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Refund> {
        if charge_id.starts_with("ach_") {
            return Box::pin(async { Err(GatewayError::Refused(FILE_REFUNDS.into())) });
        }
        self.cards.refund(charge_id, amount, idempotency_key)
    }

    fn find_refund(
        &self,
        charge_id: &str,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Option<Refund>> {
        if charge_id.starts_with("ach_") {
            return Box::pin(async { Ok(None) });
        }
        self.cards.find_refund(charge_id, idempotency_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::cents;
    use rust_decimal::Decimal;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn an_entry_is_pending_until_its_window_passes_and_returned_once_returned() {
        let today = d("2026-12-08");
        assert_eq!(
            entry_charge(1, None, None, today).status,
            ChargeStatus::Pending
        );
        assert_eq!(
            entry_charge(1, Some(d("2026-12-09")), None, today).status,
            ChargeStatus::Pending
        );
        assert_eq!(
            entry_charge(1, Some(today), None, today).status,
            ChargeStatus::Settled
        );
        let returned = entry_charge(7, Some(today), Some("R01"), today);
        assert_eq!(returned.status, ChargeStatus::Returned);
        assert_eq!(returned.code.as_deref(), Some("R01"));
        assert_eq!(returned.id, "ach_7");
        assert_eq!(returned.message.as_deref(), Some("Insufficient funds"));
    }

    #[test]
    fn cents_are_whole() {
        assert_eq!(cents(Money::usd(Decimal::new(123456, 2))), Some(123456));
        assert_eq!(cents(Money::usd(Decimal::new(5, 0))), Some(500));
        assert_eq!(cents(Money::usd(Decimal::ZERO)), None);
    }
}

//! The NACHA rail as the engine sees it: a [`PaymentGateway`] that takes ACH debits itself
//! (each becomes an entry waiting for the next file) and hands everything about cards to the
//! card gateway it wraps. A debit is pending until its file is written and its return window
//! has passed, then settled; a return read from the bank's file ends it as returned. A debit
//! not yet in a file can be taken out; one sent can be reversed by a credit in the next file,
//! within the five banking days after its settlement date the rules allow.

use super::calendar::banking_days_after;
use super::settings::NachaSettings;
use super::vault::{self, TOKEN_PREFIX};
use crate::gateway::{
    BankAccountNumbers, CardToken, Charge, ChargeStatus, GatewayError, GatewayFuture,
    PaymentGateway, Refund, TokenDetails, VoidOffer, Voided,
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

/// Banking days after a debit's settlement date in which the rules let it be reversed.
pub const REVERSAL_DAYS: u32 = 5;

/// What an entry's state says of its charge (`voided`: taken out, or reversed).
pub fn entry_charge(
    entry: i64,
    settles_on: Option<NaiveDate>,
    return_code: Option<&str>,
    voided: bool,
    today: NaiveDate,
) -> Charge {
    let (status, code, message) = match (return_code, settles_on) {
        _ if voided => (ChargeStatus::Voided, None, None),
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
            r#"SELECT e.id, e.settles_on, e.return_code::text AS "return_code?",
                      (e.voided_at IS NOT NULL OR EXISTS (SELECT 1 FROM ach_entries r WHERE r.reverses = e.id)) AS "voided!"
               FROM ach_entries e WHERE e.gateway_key = $1"#,
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
                r.voided,
                Utc::now().date_naive(),
            )
        }))
    }

    /// What can be done about the entry of `charge_id` now, read in `conn` with the entry
    /// locked (a file being written is waited for): with the entry's id and, when it was voided
    /// already, how.
    async fn offer_in(
        conn: &mut sqlx::PgConnection,
        charge_id: &str,
    ) -> Result<(i64, VoidOffer, Option<Voided>), GatewayError> {
        let id: i64 = charge_id
            .strip_prefix("ach_")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| GatewayError::Refused("no debit with that id".into()))?;
        let e = sqlx::query!(
            r#"SELECT e.file_id, f.name AS "file?", e.effective_date, e.settles_on,
                      e.return_code::text AS "return_code?", e.voided_at IS NOT NULL AS "taken_out!",
                      EXISTS (SELECT 1 FROM ach_entries r WHERE r.reverses = e.id) AS "reversed!", e.credit
               FROM ach_entries e LEFT JOIN ach_files f ON f.id = e.file_id
               WHERE e.id = $1 FOR UPDATE OF e"#,
            id
        )
        .fetch_optional(&mut *conn)
        .await
        .map_err(unavailable)?
        .filter(|e| !e.credit)
        .ok_or_else(|| GatewayError::Refused("no debit with that id".into()))?;
        let today = Utc::now().date_naive();
        let offer = |done| Ok((id, done, None));
        if e.taken_out {
            return Ok((id, VoidOffer::Cancel, Some(Voided::Cancelled)));
        }
        let until = e
            .effective_date
            .map(|d| banking_days_after(d, REVERSAL_DAYS));
        if e.reversed {
            let until = until.unwrap_or(today);
            return Ok((id, VoidOffer::Reverse { until }, Some(Voided::Reversed)));
        }
        if let Some(code) = e.return_code {
            return offer(VoidOffer::No(format!(
                "The bank returned this debit ({code}): the money is already back with the payer."
            )));
        }
        let (Some(file), Some(until), Some(settles)) = (e.file, until, e.settles_on) else {
            return offer(VoidOffer::Cancel);
        };
        if settles <= today || until < today {
            return offer(VoidOffer::No(format!(
                "This debit went to the bank in {file} and has settled: the rules no longer allow a reversal, and a debit sent in a file is given back through the bank, outside Settle."
            )));
        }
        offer(VoidOffer::Reverse { until })
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
                false,
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

    fn void_offer(&self, charge_id: &str) -> GatewayFuture<'_, VoidOffer> {
        if !charge_id.starts_with("ach_") {
            return self.cards.void_offer(charge_id);
        }
        let charge_id = charge_id.to_string();
        Box::pin(async move {
            let mut conn = self.pool.acquire().await.map_err(unavailable)?;
            Ok(Self::offer_in(&mut conn, &charge_id).await?.1)
        })
    }

    /// Under the entry's lock (the file writer takes the same lock): taken out while it is in
    /// no file; once in one, a reversing credit of the same amount for the next file.
    fn void<'a>(
        &'a self,
        charge_id: &'a str,
        reverse: bool,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Voided> {
        if !charge_id.starts_with("ach_") {
            return self.cards.void(charge_id, reverse, idempotency_key);
        }
        Box::pin(async move {
            let mut tx = self.pool.begin().await.map_err(unavailable)?;
            let (id, offer, done) = Self::offer_in(&mut tx, charge_id).await?;
            if let Some(done) = done {
                return Ok(done);
            }
            let voided = match offer {
                VoidOffer::No(why) => return Err(GatewayError::Refused(why)),
                VoidOffer::Reverse { .. } if !reverse => {
                    return Err(GatewayError::Refused(
                        "This debit has just gone to the bank in a file: it can no longer be taken out, only reversed.".into(),
                    ))
                }
                VoidOffer::Cancel => {
                    sqlx::query!("UPDATE ach_entries SET voided_at = now() WHERE id = $1", id)
                        .execute(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                    Voided::Cancelled
                }
                VoidOffer::Reverse { .. } => {
                    sqlx::query!(
                        "INSERT INTO ach_entries (gateway_key, token, cents, credit, reverses) \
                         SELECT $2, token, cents, true, id FROM ach_entries WHERE id = $1",
                        id,
                        format!("reversal-{idempotency_key}")
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    Voided::Reversed
                }
            };
            tx.commit().await.map_err(unavailable)?;
            Ok(voided)
        })
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
            entry_charge(1, None, None, false, today).status,
            ChargeStatus::Pending
        );
        assert_eq!(
            entry_charge(1, Some(d("2026-12-09")), None, false, today).status,
            ChargeStatus::Pending
        );
        assert_eq!(
            entry_charge(1, Some(today), None, false, today).status,
            ChargeStatus::Settled
        );
        let returned = entry_charge(7, Some(today), Some("R01"), false, today);
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

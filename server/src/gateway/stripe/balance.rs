//! Stripe's books: its balance transactions (`GET /v1/balance_transactions`, API version
//! 2020-08-27) read as the deposits report counts money, by their `reporting_category` as
//! Stripe's reporting categories define them. Pure: the client fetches the pages.
//!
//! | category           | movement    | matched by                          |
//! |--------------------|-------------|-------------------------------------|
//! | `charge`           | payment     | the charge's PaymentIntent          |
//! | `charge_failure`   | return      | the charge's PaymentIntent          |
//! | `refund`           | refund      | the refund (`re_…`)                 |
//! | `refund_failure`   | refund (+)  | the refund                          |
//! | `dispute`          | dispute     | the dispute (`dp_…`)                |
//! | `dispute_reversal` | dispute won | the dispute                         |
//!
//! Other categories (payouts, Stripe's own fees, transfers) are not a customer's money moving
//! and are left out.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use shared::deposit::{Movement, Rail};

/// The fields of a balance transaction Settle reads, its `source` expanded.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct BalanceTransaction {
    pub id: String,
    /// Gross, in cents, signed as it moves the balance.
    pub amount: i64,
    /// Stripe's fee, in cents.
    pub fee: i64,
    /// Seconds since the epoch.
    pub created: i64,
    pub reporting_category: String,
    #[serde(default)]
    pub source: Option<Source>,
}

/// The object that moved the money: a charge, a refund or a dispute (or only its id when not
/// expanded).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Source {
    Object(SourceObject),
    Id(String),
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SourceObject {
    pub id: String,
    pub object: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub payment_method_details: Option<MethodDetails>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct MethodDetails {
    #[serde(rename = "type")]
    pub kind: String,
}

/// One page of the list.
#[derive(Clone, Debug, Deserialize)]
pub struct Page {
    pub data: Vec<BalanceTransaction>,
    #[serde(default)]
    pub has_more: bool,
}

/// A movement in Stripe's books, as the deposits report compares it with Settle's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub kind: Movement,
    /// Known from a charge's payment method; a refund's or a dispute's is its intent's.
    pub rail: Option<Rail>,
    /// What Settle keeps of it: the PaymentIntent of a payment or a return, the refund's or
    /// the dispute's id.
    pub reference: String,
    /// The PaymentIntent the money belongs to, when Stripe names it.
    pub intent: Option<String>,
    pub amount: Decimal,
    pub fee: Decimal,
}

/// The rail of a payment method type.
pub fn rail_of(method_type: &str) -> Option<Rail> {
    match method_type {
        "card" | "card_present" => Some(Rail::Card),
        "us_bank_account" | "ach_debit" => Some(Rail::Ach),
        _ => None,
    }
}

impl BalanceTransaction {
    /// The movement this transaction is, or `None` for one that is not a customer's money.
    pub fn entry(&self) -> Option<Entry> {
        let kind = match self.reporting_category.as_str() {
            "charge" => Movement::Payment,
            "charge_failure" => Movement::Return,
            "refund" | "refund_failure" => Movement::Refund,
            "dispute" => Movement::Dispute,
            "dispute_reversal" => Movement::DisputeWon,
            _ => return None,
        };
        let (id, intent, rail) = match &self.source {
            Some(Source::Object(o)) => (
                o.id.clone(),
                o.payment_intent.clone(),
                o.payment_method_details
                    .as_ref()
                    .and_then(|d| rail_of(&d.kind)),
            ),
            Some(Source::Id(id)) => (id.clone(), None, None),
            None => (self.id.clone(), None, None),
        };
        let reference = match kind {
            Movement::Payment | Movement::Return => intent.clone().unwrap_or(id),
            Movement::Refund | Movement::Dispute | Movement::DisputeWon => id,
        };
        Some(Entry {
            at: DateTime::from_timestamp(self.created, 0)?,
            kind,
            rail,
            reference,
            intent,
            amount: Decimal::new(self.amount, 2),
            fee: Decimal::new(self.fee, 2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(category: &str, source: serde_json::Value, amount: i64, fee: i64) -> BalanceTransaction {
        serde_json::from_value(serde_json::json!({
            "id": "txn_1", "object": "balance_transaction", "amount": amount, "fee": fee,
            "net": amount - fee, "created": 1_764_547_200, "currency": "usd",
            "reporting_category": category, "type": "charge", "source": source,
        }))
        .unwrap()
    }

    #[test]
    fn categories_are_movements_matched_as_settle_keeps_them() {
        let card = serde_json::json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
            "payment_method_details": {"type": "card"}});
        let e = txn("charge", card, 12_345, 388).entry().unwrap();
        assert_eq!(
            (e.kind, e.rail, e.reference.as_str(), e.amount, e.fee),
            (
                Movement::Payment,
                Some(Rail::Card),
                "pi_1",
                Decimal::new(12_345, 2),
                Decimal::new(388, 2)
            )
        );
        assert_eq!(e.at.to_rfc3339(), "2025-12-01T00:00:00+00:00");
        let bank = serde_json::json!({"id": "py_1", "object": "charge", "payment_intent": "pi_2",
            "payment_method_details": {"type": "us_bank_account"}});
        let e = txn("charge_failure", bank, -5_000, 0).entry().unwrap();
        assert_eq!(
            (e.kind, e.rail, e.reference.as_str()),
            (Movement::Return, Some(Rail::Ach), "pi_2")
        );
        let refund =
            serde_json::json!({"id": "re_1", "object": "refund", "payment_intent": "pi_1"});
        let e = txn("refund", refund, -1_000, 0).entry().unwrap();
        assert_eq!(
            (e.kind, e.rail, e.reference.as_str(), e.intent.as_deref()),
            (Movement::Refund, None, "re_1", Some("pi_1"))
        );
        let dispute =
            serde_json::json!({"id": "dp_1", "object": "dispute", "payment_intent": "pi_1"});
        let e = txn("dispute_reversal", dispute, 12_345, 0).entry().unwrap();
        assert_eq!(
            (e.kind, e.reference.as_str()),
            (Movement::DisputeWon, "dp_1")
        );
        // Not a customer's money: payouts and Stripe's own fees.
        assert_eq!(
            txn("payout", serde_json::json!("po_1"), -9_000, 0).entry(),
            None
        );
        assert_eq!(txn("fee", serde_json::Value::Null, -200, 0).entry(), None);
    }
}

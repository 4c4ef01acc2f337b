//! The payment gateway as Settle sees any gateway: a trait for what Settle asks of it, and the
//! charges, tokens and errors it answers with. The engine holds it as a trait object
//! (`Arc<dyn PaymentGateway>`), so an adapter for a hosted gateway replaces the built-in
//! [`sandbox`] without touching the engine.

pub mod sandbox;
pub mod stripe;
pub mod tokenizer;

pub use sandbox::{
    LateReturn, SandboxGateway, TEST_ACH_LATE_RETURN, TEST_ACH_RETURNS, TEST_ACH_SETTLES,
    TEST_CARDS, TEST_ROUTING,
};
pub use stripe::client::{StripeGateway, StripeSettings};
pub use tokenizer::{tokenize, TokenizeRefusal};

use shared::card::CardNumber;
use shared::money::Money;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What a gateway call returns: its answer, later.
pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

/// A card's token and the display fields Settle may keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardToken {
    pub token: String,
    pub brand: String,
    pub last4: String,
}

/// How a charge ended at the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeStatus {
    Approved,
    Declined,
    /// ACH: accepted, money not yet moved.
    Pending,
    Settled,
    Returned,
    /// ACH: cancelled before it settled (taken out, or reversed by a credit).
    Voided,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub status: ChargeStatus,
    /// Decline or return code, e.g. `insufficient_funds`, `R01`.
    pub code: Option<String>,
    /// The gateway's reason, fit to show to the payer.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer in time: the charge may or may not have happened. Ask again by key.
    #[error("the payment gateway did not answer in time")]
    Timeout,
    #[error("the payment gateway is unavailable: {0}")]
    Unavailable(String),
    /// The request itself was refused (unknown token, same key with another amount).
    #[error("the payment gateway refused the request: {0}")]
    Refused(String),
}

/// What the gateway keeps about a token, which Settle may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenDetails {
    Card {
        brand: String,
        last4: String,
        exp_month: u32,
        exp_year: i32,
        /// `credit`, `debit`, `prepaid` or `unknown`, when the gateway says.
        funding: Option<String>,
    },
    BankAccount {
        routing_number: String,
        last4: String,
    },
}

/// A bank account as the tokenizer takes it: its numbers, and what some gateways keep with
/// them (Stripe: the holder's name and the account's type).
#[derive(Clone, Debug)]
pub struct BankAccountNumbers<'a> {
    pub routing_number: &'a str,
    pub account_number: &'a str,
    pub holder_name: &'a str,
    /// `checking` or `savings` (Stripe's default: checking).
    pub account_type: Option<&'a str>,
}

/// An amount in whole cents, more than none, as a gateway charges or refunds it.
pub fn cents(amount: Money) -> Option<i64> {
    amount.in_minor_units().filter(|c| *c > 0)
}

/// [`cents`], or the refusal of an amount that is not a whole number of cents above none.
pub fn charge_cents(amount: Money) -> Result<i64, GatewayError> {
    cents(amount).ok_or_else(|| {
        GatewayError::Refused(format!(
            "{} is not a whole number of cents",
            amount.amount()
        ))
    })
}

/// The authorization behind a bank account's debits, as a gateway's mandate carries it.
#[derive(Clone, Debug)]
pub struct Mandate<'a> {
    /// `business` or `personal`.
    pub holder_type: &'a str,
    /// When it was given: the day a signed document was signed, or the moment it was agreed
    /// on a page.
    pub accepted_at: chrono::DateTime<chrono::Utc>,
    /// Agreed on a page: from which address, in which browser. `None` for a signed document.
    pub online: Option<(&'a str, &'a str)>,
    /// SHA-256 (hex) of the authorization as Settle keeps it (the signed document, or the
    /// text shown with who agreed, when and from where).
    pub record_sha256: String,
}

/// What Settle asks of a payment gateway. Every charge carries an idempotency key: the same
/// key always means the same charge.
pub trait PaymentGateway: Send + Sync + 'static {
    fn tokenize_card(
        &self,
        number: &CardNumber,
        exp_month: u32,
        exp_year: i32,
    ) -> GatewayFuture<'_, CardToken>;

    fn tokenize_bank_account(&self, account: &BankAccountNumbers<'_>) -> GatewayFuture<'_, String>;

    /// Binds a bank account being saved for `company` to the holder's authorization, where the
    /// gateway keeps one (Stripe: the company's customer and a mandate). By default there is
    /// nothing to do: Settle keeps the authorization itself.
    fn authorize_debits<'a>(
        &'a self,
        _token: &'a str,
        _company: shared::CompanyId,
        _mandate: &'a Mandate<'a>,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn charge(
        &self,
        token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Charge>;

    /// The display fields of a token the gateway issued, or `None` for an unknown token.
    fn token_details(&self, token: &str) -> GatewayFuture<'_, Option<TokenDetails>>;

    /// The charge made with `idempotency_key`, if the gateway has one.
    fn find_charge(&self, idempotency_key: &str) -> GatewayFuture<'_, Option<Charge>>;

    /// Gives back `amount` of the charge `charge_id`; the same `idempotency_key` is the same
    /// refund. A refund the gateway cannot make at all (more than is left of the charge, a
    /// charge that cannot be refunded) is [`GatewayError::Refused`].
    fn refund(
        &self,
        charge_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Refund>;

    /// The refund of `charge_id` made with `idempotency_key`, if the gateway has one.
    fn find_refund(
        &self,
        charge_id: &str,
        idempotency_key: &str,
    ) -> GatewayFuture<'_, Option<Refund>>;

    /// What the gateway allows now for the ACH debit `charge_id`, which has not settled. By
    /// default nothing: it is refunded once it settles.
    fn void_offer(&self, _charge_id: &str) -> GatewayFuture<'_, VoidOffer> {
        Box::pin(async { Ok(VoidOffer::No(NO_VOIDS.into())) })
    }

    /// Cancels the ACH debit `charge_id` before it settles: taken out where it has not reached
    /// the bank; reversed by a credit of the same amount where it has and `reverse` allows it
    /// (the same `idempotency_key` is the same reversal). Answers how; what the gateway no
    /// longer allows is [`GatewayError::Refused`] with the reason. Voiding a voided debit
    /// answers as the first time.
    fn void<'a>(
        &'a self,
        _charge_id: &'a str,
        _reverse: bool,
        _idempotency_key: &'a str,
    ) -> GatewayFuture<'a, Voided> {
        Box::pin(async { Err(GatewayError::Refused(NO_VOIDS.into())) })
    }
}

/// Why a gateway without voids offers none.
pub const NO_VOIDS: &str =
    "This gateway cannot cancel a bank debit once it is made: it can be refunded once it settles.";

/// What may be done now about an ACH debit that has not settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoidOffer {
    /// It has not reached the bank: it can be taken out, and no money moves.
    Cancel,
    /// It has reached the bank: it can be reversed by a credit of the same amount, for the
    /// reasons the network's rules allow (an erroneous entry), until `until`.
    Reverse { until: chrono::NaiveDate },
    /// Neither: why, and what can be done instead.
    No(String),
}

/// How a debit was voided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voided {
    /// Taken out before it reached the bank.
    Cancelled,
    /// A reversing credit follows it.
    Reversed,
}

/// A dispute as the gateway reports it (Stripe's events; the sandbox's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeNotice {
    /// The gateway's dispute id (`dp_…`, `du_…`).
    pub id: String,
    /// The charge it disputes, as Settle keeps it (`payments.gateway_charge_id`).
    pub charge_id: String,
    pub amount: Money,
    pub reason: String,
    /// `needs_response`, `under_review`, `won`, `lost`, `warning_needs_response`…
    pub status: String,
    pub evidence_due_by: Option<chrono::DateTime<chrono::Utc>>,
    pub opened_at: chrono::DateTime<chrono::Utc>,
}

/// Where a refund stands at the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// Accepted, the money not yet on its way back (some refunds take days).
    Pending,
    Succeeded,
    /// It could not be made (e.g. the card was closed): the money stays with the seller.
    Failed,
    /// Cancelled before it was made.
    Cancelled,
}

/// A refund as the gateway has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub status: RefundStatus,
    /// Why it failed, fit to show to staff.
    pub message: Option<String>,
}

/// The payment a gateway key belongs to: the engine's key is the payment's idempotency key,
/// alone or followed by `.<attempt>`.
pub fn payment_key(gateway_key: &str) -> Option<uuid::Uuid> {
    gateway_key
        .split('.')
        .next()
        .and_then(|k| uuid::Uuid::parse_str(k).ok())
}

/// How long Settle waits for a gateway lookup that moves no money (a token's details).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Waits at most `limit` for a gateway call. The call itself goes on at the gateway (a hosted
/// gateway finishes what it received): a [`GatewayError::Timeout`] means "not known yet".
pub async fn within<T, E: From<GatewayError>>(
    limit: Duration,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| E::from(GatewayError::Timeout))?
}

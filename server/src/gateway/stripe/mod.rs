//! Stripe as Settle's gateway (`SETTLE_GATEWAY=stripe`): its HTTP API as Settle calls it
//! ([`client`]), what its answers mean to Settle ([`answers`]: a PaymentIntent's status, an
//! error object), its books ([`balance`]) and its request bodies ([`form`]). Its webhooks are signed in the form
//! [`crate::signature`] checks.

pub mod answers;
pub mod balance;
pub mod client;
pub mod events;
pub mod form;

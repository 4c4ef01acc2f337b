//! Stripe as Settle's gateway (`SETTLE_GATEWAY=stripe`, being built): so far the webhook
//! signatures ([`signature`]), checked as Stripe documents them, and what Stripe's answers
//! mean to Settle ([`answers`]: a PaymentIntent's status, an error object), and its request
//! bodies ([`form`]).

pub mod answers;
pub mod form;
pub mod signature;

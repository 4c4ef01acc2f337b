//! Stripe as Settle's gateway (`SETTLE_GATEWAY=stripe`, being built): so far what Stripe's
//! answers mean to Settle ([`answers`]: a PaymentIntent's status, an error object) and its
//! request bodies ([`form`]). Its webhooks are signed in the form [`crate::signature`] checks.

pub mod answers;
pub mod form;

//! Stripe as Settle's gateway (`SETTLE_GATEWAY=stripe`, being built): so far the webhook
//! signatures ([`signature`]), checked as Stripe documents them.

pub mod signature;

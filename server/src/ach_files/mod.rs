//! ACH debits through the seller's own bank, as NACHA files (`SETTLE_ACH_RAIL=nacha`, being
//! built): [`nacha`] writes a file's bytes, [`calendar`] knows the banking days and effective
//! dates; the outbox of unfiled debits, the cut-offs and the return and notification-of-change
//! files read back come next.

pub mod calendar;
pub mod nacha;

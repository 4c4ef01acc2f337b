//! ACH debits through the seller's own bank, as NACHA files (`SETTLE_ACH_RAIL=nacha`):
//! [`rail`] takes debits as the engine's gateway and hands cards on; [`vault`] keeps the
//! account numbers the files need, sealed; [`outbox`] writes one file per cut-off with
//! [`nacha`]'s writer on [`calendar`]'s banking days; [`inbox`] reads the bank's return and
//! notification-of-change files; [`screen`] is what staff see of it (System → ACH Files).

pub mod calendar;
pub mod inbox;
pub mod nacha;
pub mod outbox;
pub mod rail;
pub mod screen;
pub mod settings;
pub mod vault;

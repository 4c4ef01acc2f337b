//! The server's tests, one module per subject, built as one test binary: one link of the
//! server library and its dependencies instead of one per subject (build time and disk).

mod common;

mod ach_files;
mod aging;
mod credits;
mod dashboard;
mod db;
mod deposits;
mod email;
mod erp;
mod gateway_faults;
mod methods;
mod nacha;
mod payments;
mod policies;
mod reasons;
mod refunds;
mod statements;
mod stripe;
mod surcharge;
mod voids;

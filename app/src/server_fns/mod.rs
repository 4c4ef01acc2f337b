//! Server functions, one file per domain. Each is thin: it takes who acts from the door
//! ([`crate::request`]: a session's principal, a staff or admin capability, or a pay link's
//! principal when the call carries a link token), turns it into the capability the back end
//! asks for (a company's scope, `Staff`, `Admin`), parses its input into `shared` types, calls
//! one `server` function and maps the error. Every role and scope check is a method of
//! [`server::authority::Principal`]; none is written here.
//!
//! Their URLs are `/api/<endpoint>`; the REST API for the seller's systems lives apart, under
//! `/api/v1/` ([`crate::serve::rest`]).

pub mod companies;
pub mod credits;
pub mod methods;
pub mod pay_links;
pub mod payments;
pub mod people;
pub mod policies;
pub mod reasons;
pub mod refunds;
pub mod reports;
pub mod system;

//! People and how they get in: users (customer and staff, sign-in), their sessions, invitations
//! and password resets, and the per-client rate windows that bound sign-in and link attempts.

pub mod invitations;
pub mod rate;
pub mod sessions;
pub mod users;

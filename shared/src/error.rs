//! Errors every layer speaks: each has a user-facing message and, where it applies, the field
//! it belongs to, so the UI can show it beside that field.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with one input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name, e.g. `email`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every error a server call can answer with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: sign in (again).
    #[error("Your session has ended. Please sign in again.")]
    Unauthenticated,
    /// Signed in, but this role may not do this.
    #[error("You are not allowed to do this.")]
    Forbidden,
    /// The thing asked for does not exist (or is not the caller's to see).
    #[error("{0} not found.")]
    NotFound(String),
    /// Input that breaks a rule, with the field it belongs to.
    #[error("{0}")]
    Invalid(FieldError),
    /// Sign-in refused because of too many failed attempts.
    #[error("Too many failed sign-in attempts. Try again in {minutes} minutes.")]
    LockedOut { minutes: i64 },
    /// Too many failed attempts from one client (links that open nothing): refused at once.
    #[error("Too many attempts from your network. Try again in {minutes} minutes.")]
    TooMany { minutes: i64 },
    /// Too much of one kind of work at once (e.g. sign-ins): refused at once, try again soon.
    #[error("Settle is busy. Try again in {seconds} seconds.")]
    Busy { seconds: u64 },
    /// The request never got a proper answer (network, serialization).
    #[error("Could not reach the server ({0}). Check your connection and try again.")]
    Transport(String),
    /// Something failed on the server; the details are in the server log.
    #[error("Something went wrong on our side. Please try again; if it keeps happening, contact support.")]
    Internal,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(FieldError::new(field, message))
    }

    /// The field error, when this error belongs to a field.
    pub fn field(&self) -> Option<&FieldError> {
        match self {
            AppError::Invalid(fe) => Some(fe),
            _ => None,
        }
    }

    /// The message for `field`, when this error belongs to it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        self.field()
            .filter(|fe| fe.field == field)
            .map(|fe| fe.message.clone())
    }
}

impl From<FieldError> for AppError {
    fn from(fe: FieldError) -> Self {
        AppError::Invalid(fe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_for_people() {
        assert_eq!(
            AppError::LockedOut { minutes: 30 }.to_string(),
            "Too many failed sign-in attempts. Try again in 30 minutes."
        );
        assert_eq!(
            AppError::NotFound("Company".into()).to_string(),
            "Company not found."
        );
        let e = AppError::invalid("email", "Enter an email address.");
        assert_eq!(
            e.message_for("email").as_deref(),
            Some("Enter an email address.")
        );
        assert_eq!(e.message_for("password"), None);
    }
}

//! The back end's error: a user-facing [`AppError`] or a database failure, which is logged
//! and shown to the user only as "something went wrong".

use shared::{AppError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<FieldError> for Error {
    fn from(fe: FieldError) -> Self {
        Error::App(AppError::Invalid(fe))
    }
}

impl Error {
    /// What the caller may see. Internal details go to the log, not to the user.
    pub fn into_app(self) -> AppError {
        match self {
            Error::App(e) => e,
            Error::Db(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
            Error::Other(e) => {
                tracing::error!(error = %e, "internal error");
                AppError::Internal
            }
        }
    }
}

//! The error every server function returns: a [`shared::AppError`] that crosses the network
//! intact, so the UI can show the message beside the field it belongs to.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use shared::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub AppError);

impl ApiError {
    pub fn app(&self) -> &AppError {
        &self.0
    }

    /// The message for a form field, when the error belongs to it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        self.0.message_for(field)
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server these mean the caller's arguments could not be decoded (server_fn
            // reports a request body it cannot read as `Deserialization` too): a 400 naming
            // the argument, logged, and the function never runs.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message) => {
                let error = crate::codec::bad_arguments(&message);
                let function = leptos::prelude::use_context::<http::request::Parts>()
                    .map(|p| p.uri.path().to_string())
                    .unwrap_or_default();
                tracing::warn!(function, error = %error, "malformed server function arguments");
                crate::request::set_page_status(http::StatusCode::BAD_REQUEST);
                ApiError(error)
            }
            other => ApiError(AppError::Transport(other.to_string())),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        #[cfg(feature = "ssr")]
        crate::request::set_error_status(&e);
        ApiError(e)
    }
}

impl From<shared::FieldError> for ApiError {
    fn from(e: shared::FieldError) -> Self {
        AppError::Invalid(e).into()
    }
}

#[cfg(feature = "ssr")]
impl From<server::Error> for ApiError {
    fn from(e: server::Error) -> Self {
        e.into_app().into()
    }
}

//! The tokenizer endpoint: card and account numbers come here from the browser, as they would
//! go to a hosted gateway's, and never to Settle's server functions. Only the token and
//! display fields go back. Numbers go to the configured gateway (with the NACHA rail, bank
//! accounts to its own vault; cards on to the sandbox; with Stripe, bank accounts become
//! Stripe PaymentMethods and cards are refused: they go from Stripe's own field to Stripe),
//! under one rate limit per caller.

use crate::request::CurrentUser;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use server::gateway::TokenizeRefusal;
use server::AppState;
use shared::error::FieldError;
use shared::method::{TokenizeError, TokenizeRequest, SANDBOX_TOKENIZER_PATH};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(SANDBOX_TOKENIZER_PATH, post(tokenize))
        .with_state(state)
}

fn tokenizer_refusal(status: StatusCode, error: FieldError) -> Response {
    (status, Json(TokenizeError { error })).into_response()
}

/// The sandbox tokenizer. Signed-in users, or a live pay link's holder, only (a hosted
/// gateway asks for its publishable key instead). The body is never logged, and a body it cannot read is answered without
/// echoing it.
async fn tokenize(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Who is entering numbers: a signed-in user, or whoever holds a live pay link (limited
    // per link, as a user is per user).
    let link = headers
        .get(shared::email::PAY_LINK_HEADER)
        .and_then(|v| v.to_str().ok());
    let who = match (user, link) {
        (Some(user), _) => user.id.to_string(),
        (None, Some(token)) => match server::pay_links::resolve(&state.pool, token).await {
            Ok(link) => format!("pay-link:{}", link.id()),
            Err(_) => {
                return tokenizer_refusal(
                    StatusCode::UNAUTHORIZED,
                    FieldError::new("request", "This pay link no longer works. Reload the page."),
                )
            }
        },
        (None, None) => {
            return tokenizer_refusal(
                StatusCode::UNAUTHORIZED,
                FieldError::new("request", "Your session has ended. Please sign in again."),
            )
        }
    };
    let allowed = match server::gateway::sandbox::tokenize_allowed(&state.pool, &who).await {
        Ok(allowed) => allowed,
        Err(e) => {
            tracing::warn!(error = %e, "sandbox tokenizer limit unavailable");
            return tokenizer_refusal(
                StatusCode::BAD_GATEWAY,
                FieldError::new(
                    "request",
                    "The payment gateway is not answering. Nothing was saved; try again.",
                ),
            );
        }
    };
    if !allowed {
        tracing::warn!(who = %who, "tokenization limit reached");
        return tokenizer_refusal(
            StatusCode::TOO_MANY_REQUESTS,
            FieldError::new(
                "request",
                "Too many cards or accounts entered in a short time. Wait a few minutes and try again.",
            ),
        );
    }
    let Ok(request) = serde_json::from_slice::<TokenizeRequest>(&body) else {
        return tokenizer_refusal(
            StatusCode::BAD_REQUEST,
            FieldError::new(
                "request",
                "The payment gateway could not read this request.",
            ),
        );
    };
    let tokenizing =
        server::gateway::tokenize(state.gateway.as_ref(), &request, server::companies::today());
    match server::gateway::within(state.config.gateway_timeout, tokenizing).await {
        Ok(token) => Json(token).into_response(),
        Err(TokenizeRefusal::Field(e)) => tokenizer_refusal(StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(TokenizeRefusal::Gateway(e)) => {
            tracing::warn!(error = %e, "sandbox tokenizer failed");
            tokenizer_refusal(
                StatusCode::BAD_GATEWAY,
                FieldError::new(
                    "request",
                    "The payment gateway is not answering. Nothing was saved; try again.",
                ),
            )
        }
    }
}

//! `POST /webhooks/stripe`: Stripe's events, signed with the endpoint's secret
//! (`STRIPE_WEBHOOK_SECRET`). No session: the signature is the caller's proof. A refused
//! signature or body answers 400 with the reason; a failure to record answers 500, so Stripe
//! sends the event again later.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use server::gateway::stripe::events::{self, EventRefusal};
use server::AppState;

/// Where Stripe sends events (the endpoint's URL is the public address and this path).
pub const STRIPE_WEBHOOK_PATH: &str = "/webhooks/stripe";

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(STRIPE_WEBHOOK_PATH, post(receive))
        .with_state(state)
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(stripe) = &state.config.stripe else {
        return (
            StatusCode::NOT_FOUND,
            "Stripe is not the payment gateway here (SETTLE_GATEWAY)",
        )
            .into_response();
    };
    let signature = headers
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    match events::receive(&state.pool, &stripe.webhook_secrets, signature, &body, now).await {
        Ok(received) => Json(serde_json::json!({
            "received": true,
            "outcome": received.as_str(),
        }))
        .into_response(),
        Err(EventRefusal::Store(e)) => {
            tracing::error!(error = %e, "Stripe webhook: the event could not be recorded; Stripe will send it again");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "not recorded; send again",
            )
                .into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

//! A dispute's evidence pack (one zip), for staff; the download is audited.

use super::documents::{attachment, principal_of, refuse};
use crate::request::CurrentUser;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use server::AppState;
use shared::refund::EVIDENCE_PATH;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(EVIDENCE_PATH, get(download))
        .with_state(state)
}

async fn download(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let staff = match principal_of(user).and_then(|p| p.staff()) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    match server::payments::disputes::evidence_pack(&state.pool, &staff, &id).await {
        Ok((name, body)) => attachment(body, "application/zip", &name),
        Err(e) => refuse(e.into_app()),
    }
}

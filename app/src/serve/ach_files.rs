//! A NACHA file's bytes as they were sent to the bank (admins; the download is audited: the
//! file holds whole account numbers).

use super::documents::{attachment, principal_of, refuse};
use crate::request::CurrentUser;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use server::AppState;
use shared::ach_file::ACH_FILE_PATH;
use shared::AppError;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(ACH_FILE_PATH, get(download))
        .with_state(state)
}

async fn download(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let admin = match principal_of(user).and_then(|p| p.admin()) {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    let Ok(id) = id.parse::<i64>() else {
        return refuse(AppError::NotFound("ACH file".into()));
    };
    match server::ach_files::screen::download(&state.pool, &admin, id).await {
        Ok((name, body)) => attachment(body, "text/plain; charset=us-ascii", &name),
        Err(e) => refuse(e.into_app()),
    }
}

//! Documents (an ACH debit authorization): uploaded as raw bytes by staff, judged by content,
//! and opened by whoever may see the company's documents.

use super::api_error_response;
use crate::request::{status_for, CurrentUser};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use server::authority::Principal;
use server::AppState;
use shared::auth::SessionUser;
use shared::document::{check_size, DOCUMENTS_PATH, MAX_BYTES};
use shared::{AppError, DocumentId};

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(DOCUMENTS_PATH, post(upload))
        .route(&format!("{DOCUMENTS_PATH}/{{id}}"), get(download))
        .with_state(state)
}

#[derive(Deserialize)]
struct UploadParams {
    /// Company ID.
    company: Option<String>,
    name: Option<String>,
}

/// Who uploads or opens: the signed-in user, through the one door.
pub(super) fn principal_of(user: Option<SessionUser>) -> Result<Principal, AppError> {
    Principal::of_session(user.ok_or(AppError::Unauthenticated)?)
}

/// A file to save: its bytes, type and name, never cached.
pub(super) fn attachment(
    bytes: impl Into<axum::body::Body>,
    content_type: &'static str,
    name: &str,
) -> Response {
    let mut res = (StatusCode::OK, bytes.into()).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// A refused upload or download, answered as server functions answer their errors.
pub(super) fn refuse(e: AppError) -> Response {
    api_error_response(status_for(&e), e)
}

/// Uploads an ACH debit authorization: the raw file as the body, its name in `?name=`.
/// Judged by content; at most 10 MB, read no further than that.
async fn upload(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(params): Query<UploadParams>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    // Staff only: in the portal a customer authorizes a debit by typing their name instead.
    let (who, staff) = match principal_of(user).and_then(|p| p.staff().map(|s| (p, s))) {
        Ok(both) => both,
        Err(e) => return refuse(e),
    };
    let scope = match who
        .company(&state.pool, params.company.as_deref().unwrap_or(""))
        .await
    {
        Ok(scope) => scope,
        Err(e) => return refuse(e.into_app()),
    };
    let bytes = match read_limited(&headers, body, MAX_BYTES).await {
        Ok(b) => b,
        Err(size) => return refuse(check_size(size.max(MAX_BYTES + 1)).unwrap_err().into()),
    };
    let name = params.name.unwrap_or_default();
    match server::methods::store_document(&state.pool, &staff, &scope, &name, &bytes).await {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => refuse(e.into_app()),
    }
}

/// An uploaded body of at most `max` bytes, read no further than that; too big, the size it
/// declared (or `max + 1` when it declared none).
pub(super) async fn read_limited(
    headers: &axum::http::HeaderMap,
    body: Body,
    max: usize,
) -> Result<axum::body::Bytes, usize> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|n| *n > max) {
        return Err(n);
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| declared.unwrap_or(max + 1).max(max + 1))
}

/// Opens a stored document: staff any, a customer their own company's.
async fn download(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let who = match principal_of(user) {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    let Ok(id) = id.parse::<DocumentId>() else {
        return refuse(AppError::NotFound("Document".into()));
    };
    match server::methods::document_file(&state.pool, &who, id).await {
        Ok((name, content_type, bytes)) => {
            let disposition = format!("inline; filename=\"{name}\"");
            let mut res = (StatusCode::OK, bytes).into_response();
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            );
            res
        }
        Err(e) => refuse(e.into_app()),
    }
}

//! HTTP routes that are not server functions: the sandbox gateway's tokenizer (its own
//! endpoint, as a hosted gateway's would be: card and account numbers go there, never to
//! Settle's server functions), and uploading and opening documents (raw bytes, not JSON).

use crate::web::{api_error_response, status_for, CurrentUser};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use server::gateway::TokenizeRefusal;
use server::AppState;
use shared::auth::{Role, SessionUser};
use shared::document::{check_size, MAX_BYTES};
use shared::error::FieldError;
use shared::method::{TokenizeError, TokenizeRequest, SANDBOX_TOKENIZER_PATH};
use shared::AppError;

/// Where documents are uploaded (POST) and opened (GET `/{id}`).
pub const DOCUMENTS_PATH: &str = "/api/documents";

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(SANDBOX_TOKENIZER_PATH, post(tokenize))
        .route(DOCUMENTS_PATH, post(upload))
        .route(&format!("{DOCUMENTS_PATH}/{{id}}"), get(download))
        .with_state(state)
}

fn tokenizer_refusal(status: StatusCode, error: FieldError) -> Response {
    (status, Json(TokenizeError { error })).into_response()
}

/// The sandbox tokenizer. Signed-in users only (a hosted gateway asks for its publishable
/// key instead). The body is never logged, and a body it cannot read is answered without
/// echoing it.
async fn tokenize(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    body: Bytes,
) -> Response {
    let Some(user) = user else {
        return tokenizer_refusal(
            StatusCode::UNAUTHORIZED,
            FieldError::new("request", "Your session has ended. Please sign in again."),
        );
    };
    if !state.gateway.allow_tokenization(&user.id.to_string()) {
        tracing::warn!(user_id = user.id, "tokenization limit reached");
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

#[derive(Deserialize)]
struct UploadParams {
    /// Company ID (staff); a customer uploads for their own company.
    company: Option<String>,
    name: Option<String>,
}

/// The company a user acts for: staff name it, a customer has their own.
/// The company a staff upload is for. Customers never upload: in the portal they authorize a
/// debit by typing their name, which is kept as the document.
async fn acting_company(
    state: &AppState,
    user: &SessionUser,
    company: Option<&str>,
) -> Result<i64, AppError> {
    if !user.is_staff() {
        return Err(AppError::Forbidden);
    }
    server::companies::id_of_raw(&state.pool, company.unwrap_or(""))
        .await
        .map_err(server::Error::into_app)
}

fn refuse(e: AppError) -> Response {
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
    let Some(user) = user else {
        return refuse(AppError::Unauthenticated);
    };
    let company_id = match acting_company(&state, &user, params.company.as_deref()).await {
        Ok(id) => id,
        Err(e) => return refuse(e),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared {
        if let Err(e) = check_size(len) {
            return refuse(e.into());
        }
    }
    let bytes = match axum::body::to_bytes(body, MAX_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return refuse(
                check_size(declared.unwrap_or(MAX_BYTES + 1).max(MAX_BYTES + 1))
                    .unwrap_err()
                    .into(),
            )
        }
    };
    let name = params.name.unwrap_or_default();
    match server::methods::store_document(&state.pool, &user, company_id, &name, &bytes).await {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => refuse(e.into_app()),
    }
}

/// Opens a stored document: staff any, a customer their own company's.
async fn download(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return refuse(AppError::Unauthenticated);
    };
    let scope = match (user.role, &user.company) {
        (Role::Customer, Some(c)) => Some(c.id),
        (Role::Customer, None) => return refuse(AppError::Forbidden),
        _ => None,
    };
    let Ok(id) = id.parse::<i64>() else {
        return refuse(AppError::NotFound("Document".into()));
    };
    match server::methods::document_file(&state.pool, id, scope).await {
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

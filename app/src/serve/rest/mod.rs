//! The machine API for the seller's ERP, under `/api/v1/`: bearer API keys (never a session),
//! a per-key rate limit shared by every instance, idempotent POSTs, problem+json errors, and
//! the OpenAPI 3.1 document generated from these handlers at `/api/v1/openapi.json`.

pub mod model;
pub mod problem;
mod records;
mod reports;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use problem::{Problem, ProblemItem};
use server::authority::ApiKey;
use server::integration::api_keys::{self, Refused};
use server::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Settle API",
        version = "1",
        description = "Load companies, AP contacts, invoices and ERP payments into Settle; read payments back. \
                       Authenticate with `Authorization: Bearer <API key>`. POSTs honour `Idempotency-Key`. \
                       Errors are RFC 9457 problem details."
    ),
    paths(
        records::post_company, records::post_companies, records::get_company,
        records::post_contact, records::post_contacts,
        records::post_invoice, records::post_invoices, records::get_invoice,
        records::post_external_payment, records::post_external_payments,
        records::list_payments, records::post_credit_application, reports::get_aging,
        reports::get_deposits,
    ),
    components(schemas(Problem, ProblemItem)),
    servers((url = "/", description = "This Settle server")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "records", description = "Data in from the ERP"), (name = "payments", description = "Payments out to the ERP"),
          (name = "reports", description = "Reports on the whole book"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made in System → API Keys."))
                    .build(),
            ),
        );
    }
}

/// `/api/v1/…`: the document without a key, everything else with one.
pub fn routes(state: AppState) -> Router {
    let authed = Router::new()
        .route("/api/v1/companies", post(records::post_company))
        .route("/api/v1/companies/batch", post(records::post_companies))
        .route("/api/v1/companies/{id}", get(records::get_company))
        .route(
            "/api/v1/companies/{id}/credit-applications",
            post(records::post_credit_application),
        )
        .route("/api/v1/contacts", post(records::post_contact))
        .route("/api/v1/contacts/batch", post(records::post_contacts))
        .route("/api/v1/invoices", post(records::post_invoice))
        .route("/api/v1/invoices/batch", post(records::post_invoices))
        .route(
            "/api/v1/companies/{id}/invoices/{number}",
            get(records::get_invoice),
        )
        .route(
            "/api/v1/external-payments",
            post(records::post_external_payment),
        )
        .route(
            "/api/v1/external-payments/batch",
            post(records::post_external_payments),
        )
        .route("/api/v1/payments", get(records::list_payments))
        .route("/api/v1/reports/aging", get(reports::get_aging))
        .route("/api/v1/reports/deposits", get(reports::get_deposits))
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { Problem::not_found("This API path") }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .with_state(state);
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .merge(authed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(too_large_as_problem))
}

/// The largest body one API request may carry.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// A body over [`MAX_BODY`] is refused before it is read: answered as a problem, as every
/// other refusal of the API is (axum's own answer is plain text).
async fn too_large_as_problem(res: Response) -> Response {
    let problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if res.status() != StatusCode::PAYLOAD_TOO_LARGE || problem {
        return res;
    }
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "The body is too large",
        format!(
            "Send at most {} MB in one request: split the batch.",
            MAX_BODY >> 20
        ),
    )
    .into_response()
}

/// The bearer key: checked and counted (401 without a valid one, 429 past its limit).
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let Some(secret) = secret else {
        return Problem::unauthorized(
            "Send an API key: `Authorization: Bearer <key>` (System → API Keys).",
        )
        .into_response();
    };
    match api_keys::authenticate(&state.pool, secret, state.config.api_rate_per_minute).await {
        Ok(Ok(caller)) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Ok(Err(Refused::Unknown)) => {
            Problem::unauthorized("This API key is not valid, or was revoked.").into_response()
        }
        Ok(Err(Refused::Limited { retry_after })) => {
            let mut p = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!(
                    "This key made more than {} requests this minute; try again in {retry_after} s.",
                    state.config.api_rate_per_minute
                ),
            );
            p.retry_after = Some(retry_after);
            p.into_response()
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// The key of an `Authorization: Bearer <key>` header; the scheme's name in any case, as HTTP
/// says (RFC 9110 §11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A JSON body read into `T`, or the problem naming where it went wrong.
fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.split(';').next().unwrap_or("").trim();
            v.eq_ignore_ascii_case("application/json")
        });
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body is not JSON",
            "Send the body as JSON with `Content-Type: application/json`.",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
            format!("The body is not valid JSON: {e}."),
        )
    })?;
    // PostgreSQL text cannot hold a NUL character: refused here, at its field.
    if let Some(pointer) = nul_at(&value, String::new()) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "The body does not match the schema",
            format!("Text may not contain a NUL character (at {pointer})."),
        )
        .with(ProblemItem {
            detail: "Text may not contain a NUL character.".into(),
            pointer: Some(pointer),
            ..Default::default()
        }));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let detail = e.inner().to_string();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "The body does not match the schema",
            format!("{detail} (at {pointer})."),
        )
        .with(ProblemItem {
            detail,
            pointer: Some(pointer),
            ..Default::default()
        })
    })
}

/// Where in `v` a string (or key) holds a NUL character, as a JSON pointer.
fn nul_at(v: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { "/".into() } else { at }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_at(x, format!("{at}/{i}"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            if k.contains('\0') {
                Some(here)
            } else {
                nul_at(x, here)
            }
        }),
        _ => None,
    }
}

/// A serde path as a JSON pointer (`records[3].total` → `/records/3/total`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The request's `Idempotency-Key`, when sent: 1–255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(Problem::bad_header(
            "Idempotency-Key",
            "An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID is a good choice).",
        )),
    }
}

/// A write's answer: its status and JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

/// Runs a write: the key must be read-write; with an `Idempotency-Key`, the first successful
/// answer is stored in the write's own transaction and replayed for the same key and body
/// (409 for the same key with another body). Two requests with one key at once: the second
/// waits for the first and then answers the same. A refused write stores nothing.
pub async fn write<W>(
    state: &AppState,
    caller: ApiKey,
    headers: &HeaderMap,
    path: &str,
    body: &Bytes,
    work: W,
) -> Response
where
    W: for<'c> FnOnce(
        &'c mut sqlx::PgConnection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Answer, Problem>> + Send + 'c>,
    >,
{
    if !caller.may_write() {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "read-only-key",
            "This key may only read",
            "This API key has the read scope; writing needs a read-write key.",
        )
        .into_response();
    }
    let key = match idempotency_key(headers) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    match run_write(state, caller, key, path, body, work).await {
        Ok((answer, replayed)) => {
            let mut res = (answer.status, Json(answer.body)).into_response();
            if replayed {
                res.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            res
        }
        Err(p) => p.into_response(),
    }
}

async fn run_write<W>(
    state: &AppState,
    caller: ApiKey,
    key: Option<String>,
    path: &str,
    body: &Bytes,
    work: W,
) -> Result<(Answer, bool), Problem>
where
    W: for<'c> FnOnce(
        &'c mut sqlx::PgConnection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Answer, Problem>> + Send + 'c>,
    >,
{
    use server::idempotency::{self, ApiClaim, Stored};
    let request_hash = idempotency::hash(&[path.as_bytes(), body]);
    let db = |e: sqlx::Error| Problem::from(server::Error::from(e));
    let mut tx = state.pool.begin().await.map_err(db)?;
    if let Some(k) = &key {
        // Waits here while another request with this key is running; then sees its answer.
        match idempotency::claim_api(&mut tx, caller.id(), k, path, &request_hash).await? {
            ApiClaim::Claimed => {}
            ApiClaim::Answered(Stored { status, body }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                return Ok((Answer { status, body }, true));
            }
            ApiClaim::Reused => {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency-key-reused",
                    "Idempotency-Key already used",
                    "This Idempotency-Key was used with another request (another body or path); use a new key for a new request.",
                )
                .with(ProblemItem {
                    detail: "Used before with another request.".into(),
                    header: Some("Idempotency-Key".into()),
                    ..Default::default()
                }));
            }
        }
    }
    let answer = work(&mut tx).await?;
    if let Some(k) = &key {
        idempotency::store_api(
            &mut tx,
            caller.id(),
            k,
            answer.status.as_u16(),
            &answer.body,
        )
        .await?;
    }
    tx.commit().await.map_err(db)?;
    Ok((answer, false))
}

/// The caller of a handler behind [`authenticate`].
pub type Key = Extension<ApiKey>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_token("Bearer sk_settle_x"), Some("sk_settle_x"));
        assert_eq!(bearer_token("bearer sk_settle_x"), Some("sk_settle_x"));
        assert_eq!(bearer_token("BEARER  sk_settle_x "), Some("sk_settle_x"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("sk_settle_x"), None);
    }
}

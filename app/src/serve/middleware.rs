//! The middleware every request passes: cross-site and foreign-body refusal, the card-data
//! guard, and the session (resolved once, put on the request for server functions and pages).

use super::api_error_response;
use crate::request::{area_allows, clear_cookie_value, cookie_token, ClientIp, CurrentUser};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use server::people::sessions::COOKIE;
use server::AppState;
use shared::AppError;

/// Refuses a request for a host other than the public URL's (a forged `Host` would otherwise
/// reach the pages and the Origin check), except the load balancer's health check, and puts
/// the client's address on the request.
pub async fn own_host(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    if req.uri().path() != "/healthz"
        && !host.as_deref().is_some_and(|h| state.config.is_own_host(h))
    {
        tracing::warn!(
            host = host.as_deref().unwrap_or(""),
            "refused a request for another host"
        );
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!("This server answers for {} only.", state.config.public_url),
        )
            .into_response();
    }
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client = state.config.client_ip(peer, forwarded);
    req.extensions_mut().insert(ClientIp(client));
    next.run(req).await
}

/// A cross-site state-changing request: refused (SameSite=Strict cookies already keep the
/// session out of them; this also covers browsers that ignore SameSite). An `Origin` must be
/// the public URL's.
fn cross_site(req: &Request, config: &server::Config) -> bool {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return false;
    }
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        if site == "cross-site" {
            return true;
        }
    }
    // `null` is an opaque origin (a sandboxed frame, a data: URL, some redirects): never one
    // of Settle's own pages.
    match req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("null"))
    {
        Some(origin) => !config.is_own_origin(origin),
        None => false,
    }
}

/// A server function call in a body type Settle's own client never sends (`text/plain`, a
/// cross-site form's `multipart/form-data`): refused before it is read.
fn foreign_call_body(req: &Request) -> bool {
    let path = req.uri().path();
    if req.method() != Method::POST
        || !path.starts_with("/api/")
        || path.starts_with(shared::document::DOCUMENTS_PATH)
        || path.starts_with(shared::import::IMPORTS_PATH)
    {
        return false;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    !matches!(
        essence.as_str(),
        "application/json" | "application/x-www-form-urlencoded"
    )
}

/// Resolves the session cookie once per request, keeps signed-out users out of the
/// signed-in areas, marks wrong-role pages 403, and drops dead session cookies.
pub async fn session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if cross_site(&req, &state.config) {
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    if foreign_call_body(&req) {
        tracing::warn!(
            path = req.uri().path(),
            "refused a server function call with a foreign body type"
        );
        return api_error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::invalid(
                "request",
                "Send server function arguments as application/json or application/x-www-form-urlencoded.",
            ),
        );
    }
    let mut req = match refuse_card_data(req).await {
        Ok(req) => req,
        Err(refused) => return refused,
    };
    let token = cookie_token(req.headers());
    let user = match &token {
        Some(t) => match server::people::sessions::resolve(&state.pool, &state.config, t).await {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "resolving session");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is unavailable. Try again shortly.",
                )
                    .into_response();
            }
        },
        None => None,
    };
    let is_page = req.method() == Method::GET && !req.uri().path().starts_with("/api/");
    let allows = if is_page {
        area_allows(req.uri().path())
    } else {
        None
    };
    if allows.is_some() && user.is_none() {
        let next_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut res = Redirect::to(&format!("/login?next={}", encode_query_value(&next_path)))
            .into_response();
        if token.is_some() {
            res.headers_mut()
                .append(header::SET_COOKIE, clear_cookie_value());
        }
        return res;
    }
    let forbidden = matches!((allows, &user), (Some(allows), Some(u)) if !allows(u.role));
    req.extensions_mut().insert(CurrentUser(user.clone()));
    let mut res = next.run(req).await;
    if forbidden {
        *res.status_mut() = StatusCode::FORBIDDEN;
    }
    let sets_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{COOKIE}=").as_bytes()));
    if token.is_some() && user.is_none() && !sets_cookie {
        res.headers_mut()
            .append(header::SET_COOKIE, clear_cookie_value());
    }
    res
}

/// The largest server function request body (uploads have their own route and limit).
const MAX_CALL_BODY: usize = 1024 * 1024;

/// Refuses a server function request that carries card data (a card number or security code
/// field, or a full card number anywhere in it): those go to the gateway's tokenizer only.
async fn refuse_card_data(req: Request) -> Result<Request, Response> {
    let path = req.uri().path();
    if !path.starts_with("/api/")
        || path.starts_with(shared::document::DOCUMENTS_PATH)
        || path.starts_with(shared::import::IMPORTS_PATH)
    {
        return Ok(req);
    }
    let refused = || {
        tracing::warn!("refused a server function request carrying card data");
        api_error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            AppError::invalid(
                "card_data",
                "Card numbers and security codes go only to the payment gateway, never to Settle. The request was refused.",
            ),
        )
    };
    if let Some(query) = req.uri().query() {
        if server::card_guard::carries_card_data(
            "application/x-www-form-urlencoded",
            query.as_bytes(),
        ) {
            return Err(refused());
        }
    }
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return Ok(req);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_CALL_BODY)
        .await
        .map_err(|_| {
            api_error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::invalid("request", "The request is too large."),
            )
        })?;
    if server::card_guard::carries_card_data(&content_type, &bytes) {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_next() {
        assert_eq!(
            encode_query_value("/ops/crm/companies?q=a b&page=2"),
            "/ops/crm/companies%3Fq%3Da%20b%26page%3D2"
        );
    }
}

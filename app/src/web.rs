//! The HTTP server: configuration, the axum router with the Leptos routes, the session
//! middleware, and the helpers server functions use to reach the session and the back end.

use crate::app::{shell, App};
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use server::sessions::COOKIE;
use server::{AppState, Config};
use shared::auth::{Role, SessionUser};
use shared::AppError;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The signed-in user of the current request, put there by [`session_middleware`].
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Option<SessionUser>);

/// Runs the server; returns the process exit code.
pub async fn main() -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let seed_only = std::env::args().nth(1).as_deref() == Some("seed");
    let mut config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("settle: {e}");
            return 1;
        }
    };
    if seed_only {
        config.demo = true;
    }
    let state = match server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("settle: {e}");
            return 1;
        }
    };
    if seed_only {
        println!("demo data is in place");
        return 0;
    }
    let mut leptos_options = match get_configuration(None) {
        Ok(c) => c.leptos_options,
        Err(e) => {
            eprintln!("settle: bad LEPTOS_* setting: {e}");
            return 1;
        }
    };
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = crate::static_files::hash_file_beside_binary(&leptos_options);
    }
    let addr = leptos_options.site_addr;
    let app = router(state, leptos_options);
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("settle: cannot listen on {addr}: {e}");
            return 1;
        }
    };
    tracing::info!("Settle is listening on http://{addr}");
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY, streamed responses stall ~40 ms per response on loopback.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    {
        eprintln!("settle: server error: {e}");
        return 1;
    }
    0
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The whole application router: pages, server functions, static files and middleware.
pub fn router(state: AppState, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let ctx = state.clone();
    Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(ctx.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options.clone())
        .merge(crate::files::routes(state.clone()))
        .layer(middleware::from_fn_with_state(state, session_middleware))
        // Static files need no session (and no database round trip to look one up).
        .merge(crate::static_files::routes(&leptos_options))
        // Inside compression, so a notice appended to a broken stream is compressed with it.
        .layer(middleware::from_fn(crate::catch_panic::catch_panic))
        .layer(CompressionLayer::new())
        // Pages and server function answers are about one user at one moment: never stored.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// Which role a page area is for.
fn area_allows(path: &str) -> Option<fn(Role) -> bool> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/ops") {
        Some(Role::is_staff)
    } else if under("/portal") {
        Some(|r| r == Role::Customer)
    } else {
        None
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// A cross-site state-changing request: refused (SameSite=Strict cookies already keep the
/// session out of them; this also covers browsers that ignore SameSite).
fn cross_site(req: &Request) -> bool {
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
    match (
        req.headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) {
        // `null` is an opaque origin (a sandboxed frame, a data: URL, some redirects): never
        // one of Settle's own pages.
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split("://").nth(1).unwrap_or(origin) != host,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A server function call in a body type Settle's own client never sends (`text/plain`, a
/// cross-site form's `multipart/form-data`): refused before it is read.
fn foreign_call_body(req: &Request) -> bool {
    let path = req.uri().path();
    if req.method() != Method::POST
        || !path.starts_with("/api/")
        || path.starts_with(crate::files::DOCUMENTS_PATH)
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
async fn session_middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if cross_site(&req) {
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
        Some(t) => match server::sessions::resolve(&state.pool, &state.config, t).await {
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
    if !path.starts_with("/api/") || path.starts_with(crate::files::DOCUMENTS_PATH) {
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

/// An error answered the way server functions answer theirs (JSON of [`ApiError`]).
pub fn api_error_response(status: StatusCode, e: AppError) -> Response {
    let body = serde_json::to_string(&ApiError(e)).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
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

/// Whether `next` (from the login URL) is a local page the role may see.
pub fn is_safe_next(next: &str, role: Role) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.starts_with("/login")
        && area_allows(next.split('?').next().unwrap_or(next)).is_none_or(|allows| allows(role))
}

fn request_parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The signed-in user of the current request.
pub fn session_user() -> Option<SessionUser> {
    request_parts()
        .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
        .and_then(|c| c.0)
}

/// The raw session token of the current request, if any.
pub fn session_token() -> Option<String> {
    request_parts().and_then(|p| cookie_token(&p.headers))
}

/// A request header of the current request.
pub fn header(name: &str) -> Option<String> {
    request_parts().and_then(|p| {
        p.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    })
}

/// The back end, provided to every route.
pub fn state() -> Result<AppState, ApiError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        ApiError::from(AppError::Internal)
    })
}

/// The signed-in staff user, or the reason to refuse.
pub fn require_staff() -> Result<SessionUser, ApiError> {
    match session_user() {
        None => Err(AppError::Unauthenticated.into()),
        Some(u) if u.is_staff() => Ok(u),
        Some(_) => Err(AppError::Forbidden.into()),
    }
}

/// The signed-in admin, or the reason to refuse.
pub fn require_admin() -> Result<SessionUser, ApiError> {
    let user = require_staff()?;
    if user.role == Role::Admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// The signed-in customer user and their company id, or the reason to refuse.
pub fn require_customer_user() -> Result<(SessionUser, i64), ApiError> {
    match session_user() {
        None => Err(AppError::Unauthenticated.into()),
        Some(u) => match (u.role, u.company.as_ref().map(|c| c.id)) {
            (Role::Customer, Some(company_id)) => Ok((u, company_id)),
            _ => Err(AppError::Forbidden.into()),
        },
    }
}

/// Where the request came from: the peer address, and what a proxy says in
/// `X-Forwarded-For`.
pub fn client_address() -> Option<String> {
    let parts = request_parts()?;
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match (peer, forwarded) {
        (Some(p), Some(f)) => Some(format!("{p} (forwarded for {f})")),
        (p, f) => p.or(f),
    }
}

/// The signed-in customer user's company id, or the reason to refuse.
pub fn require_customer() -> Result<i64, ApiError> {
    require_customer_user().map(|(_, company_id)| company_id)
}

fn response_options() -> Option<ResponseOptions> {
    use_context::<ResponseOptions>()
}

/// The HTTP status that fits an error.
pub fn status_for(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::LockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Transport(_) => StatusCode::BAD_GATEWAY,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Gives a failed server function the HTTP status that fits its error.
pub fn set_error_status(e: &AppError) {
    if let Some(r) = response_options() {
        r.set_status(status_for(e));
    }
}

/// Sets the HTTP status of the page being rendered (e.g. 404 for "not found").
pub fn set_page_status(status: StatusCode) {
    if let Some(r) = response_options() {
        r.set_status(status);
    }
}

pub fn set_session_cookie(token: &str, config: &Config) {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let value = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    if let (Some(r), Ok(v)) = (response_options(), HeaderValue::from_str(&value)) {
        r.append_header(header::SET_COOKIE, v);
    }
}

fn clear_cookie_value() -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
    .expect("valid header")
}

pub fn clear_session_cookie() {
    if let Some(r) = response_options() {
        r.append_header(header::SET_COOKIE, clear_cookie_value());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_next() {
        assert!(is_safe_next("/ops/crm/companies?q=acme", Role::Clerk));
        assert!(!is_safe_next("/ops/crm/companies", Role::Customer));
        assert!(is_safe_next("/portal", Role::Customer));
        assert!(!is_safe_next("/portal", Role::Admin));
        assert!(!is_safe_next("//evil.example/x", Role::Clerk));
        assert!(!is_safe_next("https://evil.example", Role::Clerk));
        assert!(!is_safe_next("/\\evil.example", Role::Clerk));
    }

    #[test]
    fn encodes_next() {
        assert_eq!(
            encode_query_value("/ops/crm/companies?q=a b&page=2"),
            "/ops/crm/companies%3Fq%3Da%20b%26page%3D2"
        );
    }
}

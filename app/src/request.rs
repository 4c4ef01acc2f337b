//! The current request as server functions and pages see it: who acts (the door), the back
//! end, where the request came from, cookies, and the HTTP status of the answer. The floor
//! every server function stands on; it knows nothing of routes or screens.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use server::authority::{Admin, Principal, Staff};
use server::people::sessions::COOKIE;
use server::{AppState, Config};
use shared::auth::{Role, SessionUser};
use shared::AppError;

/// The signed-in user of the current request, put there by the session middleware.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Option<SessionUser>);

/// Where the current request comes from: the client's address as
/// [`server::Config::client_ip`] believes it (a trusted proxy's `X-Forwarded-For`, else the
/// address that connected), put there by the host middleware.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

/// Which role a page area is for.
pub fn area_allows(path: &str) -> Option<fn(Role) -> bool> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/ops") {
        Some(Role::is_staff)
    } else if under("/portal") {
        Some(|r| r == Role::Customer)
    } else {
        None
    }
}

/// `next` (from the login URL) as a path on Settle's own origin the role may see, or `None`.
pub fn safe_next(next: &str, role: Role, config: &Config) -> Option<String> {
    config.local_path(next).filter(|path| {
        !path.starts_with("/login")
            && area_allows(path.split('?').next().unwrap_or(path)).is_none_or(|allows| allows(role))
    })
}

pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
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
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

// ---- The door: who acts in this request. Every server function takes its authority here,
// and every check of it is a method of [`server::authority::Principal`]. ----

/// Who acts through the session: the signed-in user, or the reason to refuse.
pub fn principal() -> Result<Principal, AppError> {
    Principal::of_session(session_user().ok_or(AppError::Unauthenticated)?)
}

/// A signed-in staff member, or "forbidden".
pub fn staff() -> Result<Staff, AppError> {
    principal()?.staff()
}

/// A signed-in admin, or "forbidden".
pub fn admin() -> Result<Admin, AppError> {
    principal()?.admin()
}

/// Who acts: the pay link whose token the request carries (the link is then the only
/// authority; no session is read), else the signed-in user.
pub async fn principal_via(link: Option<&str>) -> Result<Principal, AppError> {
    match link {
        Some(token) => {
            let pool = state()?.pool;
            by_link(server::pay_links::resolve(&pool, token))
                .await
                .map(Principal::PayLink)
        }
        None => principal(),
    }
}

/// Runs what a link opens for the requesting client: refused at once after too many links
/// that opened nothing from it this hour; a link that opens nothing (unknown, malformed)
/// counts against it.
pub async fn by_link<T>(
    work: impl std::future::Future<Output = server::Result<T>>,
) -> Result<T, AppError> {
    let st = state()?;
    let client = client_address();
    server::links::client_may_try(&st.pool, client.as_deref())
        .await
        .map_err(server::Error::into_app)?;
    match work.await {
        Ok(v) => Ok(v),
        Err(e) => {
            let e = e.into_app();
            let dead = matches!(e, AppError::NotFound(_)) || e.message_for("token").is_some();
            if dead {
                server::links::count_dead_link(&st.pool, client.as_deref())
                    .await
                    .map_err(server::Error::into_app)?;
            }
            Err(e)
        }
    }
}

/// The client's address, as the middleware believes it (a trusted proxy's `X-Forwarded-For`,
/// else the address that connected).
pub fn client_address() -> Option<String> {
    request_parts()?
        .extensions
        .get::<ClientIp>()?
        .0
        .map(|ip| ip.to_string())
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
        AppError::LockedOut { .. } | AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Transport(_) => StatusCode::BAD_GATEWAY,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Gives a failed server function the HTTP status that fits its error (and, when it is to be
/// tried again later, `Retry-After`).
pub fn set_error_status(e: &AppError) {
    if let Some(r) = response_options() {
        r.set_status(status_for(e));
        let retry_after = match e {
            AppError::Busy { seconds } => Some(*seconds),
            AppError::LockedOut { minutes } | AppError::TooMany { minutes } => {
                Some(60 * (*minutes).max(1) as u64)
            }
            _ => None,
        };
        if let Some(s) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            r.insert_header(header::RETRY_AFTER, s);
        }
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

pub fn clear_cookie_value() -> HeaderValue {
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
    fn next_is_a_page_of_the_role_on_our_origin() {
        let config = Config::for_tests("postgres://unused");
        let ok = |next: &str, role| safe_next(next, role, &config).is_some();
        assert!(ok("/ops/crm/companies?q=acme", Role::Clerk));
        assert!(!ok("/ops/crm/companies", Role::Customer));
        assert!(ok("/portal", Role::Customer));
        assert!(!ok("/portal", Role::Admin));
        assert!(!ok("/login?next=/ops", Role::Clerk));
        assert!(!ok("//evil.example/x", Role::Clerk));
        assert!(!ok("https://evil.example", Role::Clerk));
        assert!(!ok("/\\evil.example", Role::Clerk));
        assert!(!ok("/\t/evil.example", Role::Clerk));
        assert!(!ok("/ops\r\nx", Role::Clerk));
    }
}

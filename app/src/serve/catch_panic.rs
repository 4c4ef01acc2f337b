//! A panic while answering a request never just closes the connection: before the answer has
//! started it becomes a plain 500 page, and while a streamed body is being written the body
//! ends with a short notice. Either way one error line names the route.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::{FutureExt, StreamExt};
use std::any::Any;
use std::panic::AssertUnwindSafe;

/// The page a request that panicked gets.
pub const PANIC_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Something went wrong · Settle</title></head><body><main><h1>Something went wrong</h1>\
<p>Settle could not show this page. Nothing was changed by it. Reload to try again.</p>\
</main></body></html>";

/// Appended to a streamed page whose rendering panicked after it had started.
const PANIC_NOTICE: &str = "<p role=\"alert\">Settle could not finish showing this page. \
Reload to try again.</p>";

/// The panic's message, when it carried one.
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Middleware: runs the rest of the stack with panics caught, the response's and its body's.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.uri().path().to_string();
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => guard_body(res, method, route),
        Err(payload) => {
            tracing::error!(%method, route, panic = message(&*payload), "request panicked");
            panic_response()
        }
    }
}

/// The plain 500 page, not cached.
pub fn panic_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        PANIC_PAGE,
    )
        .into_response()
}

/// A body whose stream panics ends with [`PANIC_NOTICE`] (HTML) or simply ends, and the
/// panic is logged with the route.
fn guard_body(res: Response, method: Method, route: String) -> Response {
    // A body whose length is known is already in memory: nothing left to panic.
    if http_body::Body::size_hint(res.body()).exact().is_some() {
        return res;
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let (parts, body) = res.into_parts();
    let stream = AssertUnwindSafe(body.into_data_stream())
        .catch_unwind()
        .map(move |item| match item {
            Ok(chunk) => chunk,
            Err(payload) => {
                tracing::error!(%method, route, panic = message(&*payload), "response body panicked");
                Ok(Bytes::from_static(if html {
                    PANIC_NOTICE.as_bytes()
                } else {
                    b""
                }))
            }
        });
    Response::from_parts(parts, Body::from_stream(stream))
}

//! A panic while answering never just closes the connection: the catch-panic middleware the
//! app's router uses, over real HTTP, around handlers that panic before answering and while
//! streaming a page.
#![cfg(feature = "ssr")]

use app::serve::catch_panic::{catch_panic, PANIC_PAGE};
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::get;
use axum::{middleware, Router};
use futures::{stream, StreamExt};
use std::convert::Infallible;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn panics_before_answering() -> &'static str {
    panic!("a bug in a page")
}

/// A streamed page whose second chunk panics (as a server render that breaks midway).
async fn panics_while_streaming() -> Response {
    let chunks = stream::iter(0..3).map(|i| {
        if i == 1 {
            panic!("a bug midway through a page");
        }
        Ok::<_, Infallible>(Bytes::from(format!("<p>part {i}</p>")))
    });
    Response::builder()
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from_stream(chunks))
        .unwrap()
}

#[tokio::test]
async fn a_panic_before_the_answer_is_a_500_page_and_the_server_goes_on() {
    let base = serve(
        Router::new()
            .route("/broken", get(panics_before_answering))
            .route("/fine", get(|| async { "fine" }))
            .layer(middleware::from_fn(catch_panic)),
    )
    .await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let res = http.get(format!("{base}/broken")).send().await.unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(res.text().await.unwrap(), PANIC_PAGE);
        let fine = http.get(format!("{base}/fine")).send().await.unwrap();
        assert_eq!(fine.status(), 200);
        assert_eq!(fine.text().await.unwrap(), "fine");
    }
}

#[tokio::test]
async fn a_panic_while_streaming_ends_the_page_with_a_notice_not_a_cut_connection() {
    let base = serve(
        Router::new()
            .route("/page", get(panics_while_streaming))
            .layer(middleware::from_fn(catch_panic)),
    )
    .await;
    let res = reqwest::get(format!("{base}/page")).await.unwrap();
    assert_eq!(res.status(), 200);
    // The whole body arrives (a cut connection would be an error here).
    let body = res.text().await.unwrap();
    assert!(body.starts_with("<p>part 0</p>"), "{body}");
    assert!(
        body.ends_with("Reload to try again.</p>"),
        "the page ends with the notice: {body}"
    );
}

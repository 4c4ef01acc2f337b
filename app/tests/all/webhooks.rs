//! Webhook deliveries over real HTTP: two instances' workers sending at once deliver each
//! event once (claims with SKIP LOCKED), a failing receiver is retried with backoff and
//! finally marked failed, and every request carries a signature the receiver can check.

use crate::common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::spawn;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

/// A receiver on a random port: answers `status`, keeps (event id, signature valid).
async fn receiver(
    secret: Arc<Mutex<String>>,
    status: StatusCode,
) -> (String, Arc<Mutex<Vec<(String, bool)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            let secret = secret.clone();
            async move {
                let sig = headers
                    .get("settle-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let ok = server::integration::webhooks::verify(
                    &secret.lock().unwrap(),
                    sig,
                    &body,
                    chrono::Utc::now().timestamp(),
                );
                let id = headers
                    .get("settle-event-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                keep.lock().unwrap().push((id, ok));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

async fn endpoint(pool: &PgPool, url: &str) -> String {
    let admin: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let by = server::authority::Principal::of_user(pool, shared::UserId(admin))
        .await
        .unwrap()
        .admin()
        .unwrap();
    let id = server::integration::webhooks::create(
        pool,
        &server::Config::for_tests("postgres://unused"),
        &by,
        url,
        "",
        &[
            "method.deactivated".to_string(),
            "method.activated".to_string(),
        ],
    )
    .await
    .unwrap();
    server::integration::webhooks::get(pool, &by, id)
        .await
        .unwrap()
        .secret
}

/// Flips every card of C1003 off and on: two events per card.
async fn events(pool: &PgPool) -> i64 {
    let n = sqlx::query("UPDATE payment_methods SET active = NOT active WHERE company_id = (SELECT id FROM companies WHERE code = 'C1003')")
        .execute(pool)
        .await
        .unwrap()
        .rows_affected();
    sqlx::query("UPDATE payment_methods SET active = NOT active WHERE company_id = (SELECT id FROM companies WHERE code = 'C1003')")
        .execute(pool)
        .await
        .unwrap();
    2 * n as i64
}

#[sqlx::test(migrations = "../server/migrations")]
async fn two_workers_at_once_deliver_each_event_once_signed(pool: PgPool) {
    let app = spawn(pool).await;
    let secret = Arc::new(Mutex::new(String::new()));
    let (url, got) = receiver(secret.clone(), StatusCode::OK).await;
    *secret.lock().unwrap() = endpoint(&app.pool, &url).await;
    let n = events(&app.pool).await;
    assert!(n >= 2);
    let config = server::Config::for_tests("postgres://unused");
    let (a, b) = (
        server::integration::webhooks::client(&config),
        server::integration::webhooks::client(&config),
    );
    loop {
        let (x, y) = tokio::join!(
            server::integration::webhooks::deliver_due(&app.pool, &a, &config),
            server::integration::webhooks::deliver_due(&app.pool, &b, &config)
        );
        if x.unwrap() + y.unwrap() == 0 {
            break;
        }
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len() as i64, n, "each event once: {got:?}");
    assert!(got.iter().all(|(_, ok)| *ok), "every signature checks");
    let mut ids: Vec<_> = got.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as i64, n);
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(delivered, n);
}

#[sqlx::test(migrations = "../server/migrations")]
async fn a_receiver_that_keeps_failing_is_retried_with_backoff_then_marked_failed(pool: PgPool) {
    let app = spawn(pool).await;
    let secret = Arc::new(Mutex::new(String::new()));
    let (url, got) = receiver(secret.clone(), StatusCode::SERVICE_UNAVAILABLE).await;
    *secret.lock().unwrap() = endpoint(&app.pool, &url).await;
    events(&app.pool).await;
    let mut config = server::Config::for_tests("postgres://unused");
    config.webhook_retry_base = std::time::Duration::from_millis(50);
    config.webhook_max_attempts = 3;
    let client = server::integration::webhooks::client(&config);
    let first: i64 = sqlx::query_scalar("SELECT min(id) FROM webhook_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let state = || async {
        sqlx::query_as::<_, (String, i32, Option<String>)>(
            "SELECT status, attempts, last_error FROM webhook_deliveries WHERE id = $1",
        )
        .bind(first)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    for _ in 0..500 {
        server::integration::webhooks::deliver_due(&app.pool, &client, &config)
            .await
            .unwrap();
        if state().await.0 != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, attempts, last) = state().await;
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert!(last.unwrap().contains("503"));
    // The waits between attempts: the base, then twice the base.
    let gaps: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM at - lag(at) OVER (ORDER BY at))::float8 FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY at OFFSET 1",
    )
    .bind(first)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(
        gaps[0] >= 0.05 && gaps[1] >= 0.1,
        "backoff 50 ms then 100 ms: {gaps:?}"
    );
    assert!(!got.lock().unwrap().is_empty());
}

#[sqlx::test(migrations = "../server/migrations")]
async fn deliveries_to_an_endpoint_turned_off_wait_unsent_until_it_is_on(pool: PgPool) {
    let app = spawn(pool).await;
    let secret = Arc::new(Mutex::new(String::new()));
    let (url, got) = receiver(secret.clone(), StatusCode::OK).await;
    *secret.lock().unwrap() = endpoint(&app.pool, &url).await;
    let id: shared::WebhookId = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let admin: i64 = sqlx::query_scalar("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let by = server::authority::Principal::of_user(&app.pool, shared::UserId(admin))
        .await
        .unwrap()
        .admin()
        .unwrap();
    // Events waiting, then the endpoint turned off: nothing is sent, nothing is spent.
    let n = events(&app.pool).await;
    server::integration::webhooks::set_active(&app.pool, &by, id, false)
        .await
        .unwrap();
    let config = server::Config::for_tests("postgres://unused");
    let client = server::integration::webhooks::client(&config);
    assert_eq!(
        server::integration::webhooks::deliver_due(&app.pool, &client, &config)
            .await
            .unwrap(),
        0
    );
    assert!(got.lock().unwrap().is_empty());
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(waiting, n);
    // On again: they go out.
    server::integration::webhooks::set_active(&app.pool, &by, id, true)
        .await
        .unwrap();
    while server::integration::webhooks::deliver_due(&app.pool, &client, &config)
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(got.lock().unwrap().len() as i64, n);
}

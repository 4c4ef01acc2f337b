//! The HTTP server: start-up, the axum router (Leptos pages, server functions, static files,
//! documents and the sandbox tokenizer) and the middleware around it. The top floor: it
//! stands on the application and on the request context, and nothing imports it back.

pub mod ach_files;
pub mod catch_panic;
pub mod disputes;
pub mod documents;
pub mod imports;
mod middleware;
pub mod rest;
pub mod statements;
pub mod static_files;
pub mod stripe_webhooks;
pub mod tokenizer;
pub mod watchdog;

use crate::app::{shell, App};
use crate::error::ApiError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use server::{AppState, Config};
use shared::AppError;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Runs the server; returns the process exit code.
pub async fn main() -> i32 {
    // Logs go to stderr: stdout is for what a command prints (`app api-key` prints a key).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed_only = args.first().map(String::as_str) == Some("seed");
    let make_key = args.first().map(String::as_str) == Some("api-key");
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
    let mut leptos_options = match get_configuration(None) {
        Ok(c) => c.leptos_options,
        Err(e) => {
            eprintln!("settle: bad LEPTOS_* setting: {e}");
            return 1;
        }
    };
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = static_files::hash_file_beside_binary(&leptos_options);
    }
    // Before anything else, what serving needs: a key to sign links with (production sets
    // its own; demo mode may keep one in the database), and a site that holds every file the
    // pages will name. The subcommands serve nothing.
    if !seed_only && !make_key {
        if let Err(e) = config.check_for_serving() {
            eprintln!("settle: {e}");
            return 1;
        }
        if let Err(e) = static_files::check_site(&leptos_options) {
            eprintln!("settle: not serving: {e}");
            return 1;
        }
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
    if make_key {
        return api_key_command(&state, &args[1..]).await;
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
    if let Err(e) = watchdog::watch(
        tokio::runtime::Handle::current(),
        watchdog::EVERY,
        watchdog::LIMIT,
        watchdog::exit_when_stuck,
    ) {
        eprintln!("settle: cannot start the watchdog: {e}");
        return 1;
    }
    tracing::info!("Settle is listening on http://{addr}");
    use axum::serve::ListenerExt;
    // Without TCP_NODELAY, streamed responses stall ~40 ms per response on loopback.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // On SIGTERM or Ctrl-C: no new connections, the requests under way finish, for at most
    // SHUTDOWN_GRACE (a request stuck for longer must not keep the process, and what it was
    // doing is safe to cut: payments are recovered by the reconciler, the rest is transactional).
    // (Every listener for a signal hears it: the server and the deadline each wait for it.)
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal());
    let deadline = async {
        shutdown_signal().await;
        tracing::info!("stopping: finishing the requests under way");
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => {
            if let Err(e) = served {
                eprintln!("settle: server error: {e}");
                return 1;
            }
        }
        () = deadline => {
            tracing::warn!(
                "stopping: requests still open after {} s are cut",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    0
}

/// How long the requests under way may take to finish once the server is told to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// `app api-key NAME [read|read_write]`: makes an API key on behalf of the first admin and
/// prints its secret (for scripts and first set-up; System → API Keys does the same).
async fn api_key_command(state: &AppState, args: &[String]) -> i32 {
    let name = args.first().map(String::as_str).unwrap_or("");
    let scope = match shared::integration::ApiScope::parse(
        args.get(1).map(String::as_str).unwrap_or("read_write"),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("settle: {e}");
            return 2;
        }
    };
    let made = match server::authority::Principal::first_admin(&state.pool).await {
        Ok(Some(admin)) => {
            server::integration::api_keys::create(&state.pool, &admin, name, scope).await
        }
        Ok(None) => {
            eprintln!("settle: there is no admin user to make the key for");
            return 1;
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(k) => {
            println!("{}", k.secret);
            0
        }
        Err(e) => {
            eprintln!("settle: {}", e.into_app());
            1
        }
    }
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
    let state_for_health = state.clone();
    let state_for_api = state.clone();
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
        .merge(
            documents::routes(state.clone())
                .merge(tokenizer::routes(state.clone()))
                .merge(imports::routes(state.clone()))
                .merge(ach_files::routes(state.clone()))
                .merge(disputes::routes(state.clone()))
                .merge(statements::routes(state.clone())),
        )
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::session,
        ))
        // The machine API: API keys, never a session.
        .merge(rest::routes(state_for_api))
        // Stripe's events: signed by Stripe, never a session.
        .merge(stripe_webhooks::routes(state_for_health.clone()))
        // Static files need no session (and no database round trip to look one up).
        .merge(static_files::routes(&leptos_options))
        // The load balancer's health check: no session, no page render, just "the database
        // answers" (a check that closes early never leaves a half-rendered page behind).
        .merge(health_route(state_for_health.clone()))
        // Outside every route: a request for another host is refused before anything runs.
        .layer(axum::middleware::from_fn_with_state(
            state_for_health,
            middleware::own_host,
        ))
        // Inside compression, so a notice appended to a broken stream is compressed with it.
        .layer(axum::middleware::from_fn(catch_panic::catch_panic))
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

/// `GET /healthz`: 200 "ok" when the database answers, 503 otherwise.
fn health_route(state: AppState) -> Router {
    Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let pool = state.pool.clone();
            async move {
                if server::db::answers(&pool).await {
                    (StatusCode::OK, "ok")
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the database does not answer",
                    )
                }
            }
        }),
    )
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

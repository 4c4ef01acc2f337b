//! What the HTTP tests share: the real router on a random port against a fresh test
//! database, and a client that calls it as the browser does.
#![allow(dead_code)]

use leptos::config::LeptosOptions;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{redirect::Policy, Client, Response, StatusCode};
use serde_json::Value;
use server::{AppState, Config};
use sqlx::PgPool;

pub const CLERK: (&str, &str) = ("clerk@settle.example", "demo-clerk-pass");
pub const CUSTOMER: (&str, &str) = ("ap@c1001.example", "demo-customer-pass");

pub struct TestApp {
    pub base: String,
    pub http: Client,
    pub pool: PgPool,
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with(pool, Config::for_tests("postgres://unused")).await
}

/// The app with this configuration.
pub async fn spawn_with(pool: PgPool, mut config: Config) -> TestApp {
    // The address first: it is the app's public URL (the only host it answers for).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.public_url = format!("http://{addr}");
    let state = AppState::new(pool.clone(), config);
    server::demo::seed(&state.pool, state.gateway.as_ref())
        .await
        .unwrap();
    let options = LeptosOptions::builder()
        .output_name("settle")
        .site_root("target/site")
        .build();
    let router = app::serve::router(state, options);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    TestApp {
        pool,
        base: format!("http://{addr}"),
        // No cookie jar: each test says which session a request carries.
        http: Client::builder().redirect(Policy::none()).build().unwrap(),
    }
}

/// The session cookie a response sets (`None` when it sets none, `Some("")` when it clears it).
pub fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("settle_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

impl TestApp {
    /// The client and base URL, to use from a future that outlives a borrow of the app.
    pub fn clone_http(&self) -> (Client, String) {
        (self.http.clone(), self.base.clone())
    }

    /// Calls a server function as the browser's JavaScript client does.
    pub async fn call(
        &self,
        fn_name: &str,
        form: &[(&str, &str)],
        session: Option<&str>,
    ) -> Response {
        self.post(fn_name, form, session, "application/json").await
    }

    /// Posts a form as a browser does without JavaScript (answers with real redirects).
    pub async fn form(
        &self,
        fn_name: &str,
        form: &[(&str, &str)],
        session: Option<&str>,
    ) -> Response {
        self.post(fn_name, form, session, "text/html").await
    }

    pub async fn post(
        &self,
        fn_name: &str,
        form: &[(&str, &str)],
        session: Option<&str>,
        accept: &str,
    ) -> Response {
        let mut req = self
            .http
            .post(format!("{}/api/{fn_name}", self.base))
            .header("accept", accept)
            .form(form);
        if let Some(s) = session {
            req = req.header(COOKIE, format!("settle_session={s}"));
        }
        req.send().await.unwrap()
    }

    /// Calls a server function that takes JSON (e.g. `pay_invoices`).
    pub async fn call_json(&self, fn_name: &str, body: &Value, session: Option<&str>) -> Response {
        let mut req = self
            .http
            .post(format!("{}/api/{fn_name}", self.base))
            .json(body);
        if let Some(s) = session {
            req = req.header(COOKIE, format!("settle_session={s}"));
        }
        req.send().await.unwrap()
    }

    pub async fn page(&self, path: &str, session: Option<&str>) -> Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(s) = session {
            req = req.header(COOKIE, format!("settle_session={s}"));
        }
        req.send().await.unwrap()
    }

    pub async fn login(&self, who: (&str, &str), session: Option<&str>) -> Response {
        self.form("login", &[("email", who.0), ("password", who.1)], session)
            .await
    }

    pub async fn session_for(&self, who: (&str, &str)) -> String {
        let res = self.login(who, None).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        session_cookie(&res).expect("a session cookie")
    }

    pub async fn current_email(&self, session: &str) -> Option<String> {
        let res = self.call("current_user", &[], Some(session)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = res.json().await.unwrap();
        v.get("email").and_then(|e| e.as_str()).map(str::to_string)
    }
}

pub const ADMIN: (&str, &str) = ("admin@settle.example", "demo-admin-pass");

/// Posts raw bytes (the tokenizer's JSON, an upload) to a path.
impl TestApp {
    pub async fn post_bytes(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
        session: Option<&str>,
    ) -> Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(s) = session {
            req = req.header(COOKIE, format!("settle_session={s}"));
        }
        req.send().await.unwrap()
    }

    pub async fn tokenize(&self, body: &Value, session: Option<&str>) -> Response {
        self.post_bytes(
            shared::method::SANDBOX_TOKENIZER_PATH,
            body.to_string().into_bytes(),
            "application/json",
            session,
        )
        .await
    }

    pub async fn upload(&self, name: &str, bytes: Vec<u8>, session: Option<&str>) -> Response {
        self.post_bytes(
            &format!("/api/documents?company=C1002&name={name}"),
            bytes,
            "application/octet-stream",
            session,
        )
        .await
    }
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

pub async fn id_of(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

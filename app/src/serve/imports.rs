//! Files in and out for staff: an import's upload (raw bytes, previewed at once), the Payments
//! screen's CSV export, the aging's CSV and XLSX exports and the ACH authorizations' zip. All
//! behind the session, admins (import) and staff (exports).

use super::documents::{attachment, principal_of, read_limited, refuse};
use crate::request::CurrentUser;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use server::AppState;
use shared::aging::{AgingInput, AgingQuery, AGING_CSV_PATH, AGING_XLSX_PATH};
use shared::authorization::{AuthorizationsFilter, AuthorizationsInput, AUTHORIZATIONS_ZIP_PATH};
use shared::import::{ImportKind, IMPORTS_PATH, PAYMENTS_CSV_PATH};
use shared::report::{PaymentFilter, PaymentFilterInput};
use shared::AppError;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(IMPORTS_PATH, post(upload))
        .route(PAYMENTS_CSV_PATH, get(export))
        .route(AGING_CSV_PATH, get(aging_csv))
        .route(AGING_XLSX_PATH, get(aging_xlsx))
        .route(AUTHORIZATIONS_ZIP_PATH, get(authorizations_zip))
        .with_state(state)
}

#[derive(Deserialize)]
struct UploadParams {
    kind: Option<String>,
    name: Option<String>,
}

fn too_big(max: usize, size: usize) -> AppError {
    let mb = |n: usize| format!("{:.1} MB", n as f64 / (1 << 20) as f64);
    AppError::invalid(
        "file",
        if size > max + 1 {
            format!(
                "The file is {}; an import takes at most {}. Split it into smaller files.",
                mb(size),
                mb(max)
            )
        } else {
            format!("The file is larger than {}, the most an import takes. Split it into smaller files.", mb(max))
        },
    )
}

/// Uploads a CSV file for System → Import: the raw file as the body, `?kind=&name=`. Read no
/// further than the configured limit. Answers with the preview.
async fn upload(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(params): Query<UploadParams>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let admin = match principal_of(user).and_then(|p| p.admin()) {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    let Some(kind) = params.kind.as_deref().and_then(ImportKind::parse) else {
        return refuse(AppError::invalid(
            "kind",
            "Choose what the file holds: companies, AP contacts or invoices.",
        ));
    };
    let max = state.config.import_max_bytes;
    let bytes = match read_limited(&headers, body, max).await {
        Ok(b) => b,
        Err(size) => return refuse(too_big(max, size)),
    };
    match server::integration::import::upload(
        &state.pool,
        &admin,
        kind,
        params.name.as_deref().unwrap_or(""),
        &bytes,
    )
    .await
    {
        Ok(preview) => Json(preview).into_response(),
        Err(e) => refuse(e.into_app()),
    }
}

/// The Payments screen's rows as CSV (staff), with its filter.
async fn export(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(input): Query<PaymentFilterInput>,
) -> Response {
    let staff = match principal_of(user).and_then(|p| p.staff()) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let filter = match PaymentFilter::parse(&input) {
        Ok(f) => f,
        Err(e) => return refuse(e.into()),
    };
    match server::payments::report::csv(&state.pool, &staff, &filter).await {
        Ok(bytes) => {
            let name = server::payments::report::file_name(&filter, server::companies::today());
            attachment(bytes, "text/csv; charset=utf-8", &name)
        }
        Err(e) => refuse(e.into_app()),
    }
}

/// The aging (staff), every company that matches, as CSV or a workbook.
async fn aging(
    state: &AppState,
    user: Option<shared::auth::SessionUser>,
    input: &AgingInput,
    xlsx: bool,
) -> Response {
    let staff = match principal_of(user).and_then(|p| p.staff()) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let pool = &state.pool;
    let app = server::Error::into_app;
    let report = async {
        let query = AgingQuery::parse(input, server::reports::today(pool).await.map_err(app)?)?;
        server::reports::aging::all(pool, &staff, &query)
            .await
            .map_err(app)
    };
    let report = match report.await {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    let name = |ext| server::reports::aging::file_name(report.as_of, ext);
    let answer = if xlsx {
        // Seconds of writing for a large book: off the threads that answer requests.
        let file_name = name("xlsx");
        tokio::task::spawn_blocking(move || server::reports::aging::xlsx(&report))
            .await
            .unwrap_or_else(|e| Err(server::Error::Other(format!("writing the workbook: {e}"))))
            .map(|file| {
                stream(
                    file,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    &file_name,
                )
            })
    } else {
        server::reports::aging::csv(&report)
            .map(|bytes| attachment(bytes, "text/csv; charset=utf-8", &name("csv")))
    };
    answer.unwrap_or_else(|e| refuse(app(e)))
}

/// A spooled export, streamed from its file as a file to save.
fn stream(spooled: server::reports::Spooled, content_type: &'static str, name: &str) -> Response {
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(spooled.file),
    ));
    let mut res = attachment(body, content_type, name);
    res.headers_mut()
        .insert(axum::http::header::CONTENT_LENGTH, spooled.bytes.into());
    res
}

async fn aging_csv(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(input): Query<AgingInput>,
) -> Response {
    aging(&state, user, &input, false).await
}

async fn aging_xlsx(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(input): Query<AgingInput>,
) -> Response {
    aging(&state, user, &input, true).await
}

/// Every matching ACH authorization and its index as one zip (staff), streamed from the file
/// it was written to; the export is audited.
async fn authorizations_zip(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(input): Query<AuthorizationsInput>,
) -> Response {
    let staff = match principal_of(user).and_then(|p| p.staff()) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let filter = match AuthorizationsFilter::parse(&input) {
        Ok(f) => f,
        Err(e) => return refuse(e.into()),
    };
    let pool = &state.pool;
    let made = async {
        let app = server::Error::into_app;
        let today = server::reports::today(pool).await.map_err(app)?;
        let export = server::reports::authorizations::export(pool, &staff, &filter)
            .await
            .map_err(app)?;
        Ok::<_, AppError>((today, export))
    };
    match made.await {
        Ok((today, export)) => stream(
            export.zip,
            "application/zip",
            &server::reports::authorizations::file_name(&filter, today),
        ),
        Err(e) => refuse(e),
    }
}

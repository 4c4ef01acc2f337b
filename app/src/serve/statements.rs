//! Customer statements as PDF: staff download any company's from its page, a customer their
//! own company's from the portal (`?month=YYYY-MM`, this month by default). Behind the session.

use super::documents::{attachment, principal_of, refuse};
use crate::request::CurrentUser;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use server::reports::statements;
use server::AppState;
use shared::statement::{Period, PORTAL_STATEMENT_PATH, STAFF_STATEMENT_PATH};
use shared::AppError;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(STAFF_STATEMENT_PATH, get(for_staff))
        .route(PORTAL_STATEMENT_PATH, get(for_customer))
        .with_state(state)
}

#[derive(Deserialize)]
struct MonthParams {
    month: Option<String>,
}

async fn period(state: &AppState, month: Option<&str>) -> Result<Period, AppError> {
    let today = server::reports::today(&state.pool)
        .await
        .map_err(server::Error::into_app)?;
    Ok(Period::parse(month, today)?)
}

fn pdf(s: &statements::Statement) -> Response {
    attachment(statements::pdf(s), "application/pdf", &s.file_name())
}

/// Company `code`'s statement (staff): it carries a pay link to the open invoices.
async fn for_staff(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(code): Path<String>,
    Query(params): Query<MonthParams>,
) -> Response {
    let made = async {
        let staff = principal_of(user)?.staff()?;
        let period = period(&state, params.month.as_deref()).await?;
        statements::for_staff(&state.pool, &state.config, &staff, &code, period)
            .await
            .map_err(server::Error::into_app)?
            .ok_or_else(|| AppError::NotFound("Company".into()))
    };
    match made.await {
        Ok(s) => pdf(&s),
        Err(e) => refuse(e),
    }
}

/// The customer's own company's statement: it points to the portal.
async fn for_customer(
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(params): Query<MonthParams>,
) -> Response {
    let made = async {
        let principal = principal_of(user)?;
        let scope = principal
            .company(&state.pool, "")
            .await
            .map_err(server::Error::into_app)?;
        let period = period(&state, params.month.as_deref()).await?;
        statements::for_customer(&state.pool, &state.config, &scope, period)
            .await
            .map_err(server::Error::into_app)
    };
    match made.await {
        Ok(s) => pdf(&s),
        Err(e) => refuse(e),
    }
}

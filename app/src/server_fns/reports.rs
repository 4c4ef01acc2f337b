//! Server functions of staff's reports: the aging as of a day and a company's drill-down, and
//! the seller's time zone that makes the reports' days.

use crate::codec::Form;
use crate::error::ApiError;
use leptos::prelude::*;
use shared::aging::{AgingInput, AgingReport, CompanyAging};

#[cfg(feature = "ssr")]
use crate::request::{admin, staff, state};

/// The aging as of the requested day (the seller's today when none), filtered and sorted;
/// the first rows and the totals of every company that matched. Staff only.
#[server(endpoint = "aging", input = Form)]
pub async fn aging(#[server(default)] input: AgingInput) -> Result<AgingReport, ApiError> {
    let staff = staff()?;
    let pool = &state()?.pool;
    let query = shared::aging::AgingQuery::parse(&input, server::reports::today(pool).await?)?;
    Ok(
        server::reports::aging::report(pool, &staff, &query, server::reports::aging::PAGE_ROWS)
            .await?,
    )
}

/// One company's aging on the day and its open invoices then. Staff only.
#[server(endpoint = "aging_of_company", input = Form)]
pub async fn aging_of_company(
    code: String,
    #[server(default)] input: AgingInput,
) -> Result<CompanyAging, ApiError> {
    let staff = staff()?;
    let pool = &state()?.pool;
    let query = shared::aging::AgingQuery::parse(&input, server::reports::today(pool).await?)?;
    server::reports::aging::company(pool, &staff, &code, query.as_of)
        .await?
        .ok_or_else(|| shared::AppError::NotFound("Company".into()).into())
}

/// The seller's time zone and the zones to pick from (staff read it; admins set it).
#[server(endpoint = "time_zone_settings", input = Form)]
pub async fn time_zone_settings() -> Result<(String, Vec<String>), ApiError> {
    staff()?;
    let pool = &state()?.pool;
    Ok((
        server::reports::time_zone(pool).await?,
        server::reports::time_zones(pool).await?,
    ))
}

/// Sets the seller's time zone: the days of every report (admins).
#[server(endpoint = "set_time_zone", input = Form)]
pub async fn set_time_zone(time_zone: String) -> Result<(), ApiError> {
    let (st, admin) = (state()?, admin()?);
    Ok(server::reports::set_time_zone(&st.pool, &admin, &time_zone).await?)
}

/// The staff home: the book's figures (a snapshot of the seller's today) and the payments to
/// look at. Staff only.
#[server(endpoint = "dashboard", input = Form)]
pub async fn dashboard() -> Result<shared::dashboard::Dashboard, ApiError> {
    let staff = staff()?;
    Ok(server::reports::dashboard::dashboard(&state()?.pool, &staff).await?)
}

/// Adds up the dashboard's figures again now (they are otherwise a few minutes old at most).
#[server(endpoint = "refresh_dashboard", input = Form)]
pub async fn refresh_dashboard() -> Result<shared::dashboard::Dashboard, ApiError> {
    let staff = staff()?;
    Ok(server::reports::dashboard::refresh_now(&state()?.pool, &staff).await?)
}

/// Every ACH authorization that matches (those revoked within two years included): the first
/// of them and how many in all. Staff only.
#[server(endpoint = "ach_authorizations", input = Form)]
pub async fn ach_authorizations(
    #[server(default)] input: shared::authorization::AuthorizationsInput,
) -> Result<shared::authorization::AuthorizationList, ApiError> {
    let staff = staff()?;
    let filter = shared::authorization::AuthorizationsFilter::parse(&input)?;
    Ok(server::reports::authorizations::list(&state()?.pool, &staff, &filter).await?)
}

/// What each of the days asked for (the last week by default) should bring to the bank, per
/// rail, beside the gateway's own books. Staff only.
#[server(endpoint = "deposits", input = Form)]
pub async fn deposits(
    #[server(default)] input: shared::deposit::DepositsInput,
) -> Result<shared::deposit::DepositsReport, ApiError> {
    let (st, staff) = (state()?, staff()?);
    let query =
        shared::deposit::DepositsQuery::parse(&input, server::reports::today(&st.pool).await?)?;
    let sources = server::reports::deposits::Sources::of(&st);
    Ok(server::reports::deposits::report(&st.pool, &staff, &query, &sources).await?)
}

/// One day's line of a rail, movement by movement. Staff only.
#[server(endpoint = "deposit_day", input = Form)]
pub async fn deposit_day(
    day: String,
    rail: String,
) -> Result<shared::deposit::DepositDay, ApiError> {
    let (st, staff) = (state()?, staff()?);
    let day = shared::format::parse_day("day", Some(day.as_str()))?
        .ok_or_else(|| shared::FieldError::new("day", "Choose a day."))?;
    let rail = shared::deposit::Rail::parse(&rail)
        .ok_or_else(|| shared::FieldError::new("rail", "Choose card or ACH."))?;
    let sources = server::reports::deposits::Sources::of(&st);
    Ok(server::reports::deposits::day(&st.pool, &staff, day, rail, &sources).await?)
}

/// The statements' schedule and remittance details (admins).
#[server(endpoint = "statement_schedule", input = Form)]
pub async fn statement_schedule() -> Result<shared::statement::StatementSchedule, ApiError> {
    admin()?;
    Ok(server::reports::statements::schedule(&state()?.pool).await?)
}

/// Sets the day statements go out each month (empty: none) and the remittance details printed
/// on them (admins).
#[server(endpoint = "set_statement_schedule", input = Form)]
pub async fn set_statement_schedule(
    day: String,
    remittance: String,
) -> Result<shared::statement::StatementSchedule, ApiError> {
    let (st, admin) = (state()?, admin()?);
    let schedule = shared::statement::StatementSchedule::parse(&day, &remittance)?;
    server::reports::statements::set_schedule(&st.pool, &admin, &schedule).await?;
    Ok(server::reports::statements::schedule(&st.pool).await?)
}

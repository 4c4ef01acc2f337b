//! The reports of the machine API: the aging as of a day (`/api/v1/reports/aging`) and what
//! each day's money should bring to the bank, per rail, beside the gateway's books
//! (`/api/v1/reports/deposits`).

use super::model::{AgingCompany, AgingFigures, AgingReport};
use super::problem::Problem;
use super::records::{money, ReadErrors};
use super::Key;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use server::reports::deposits::{self, Sources};
use server::AppState;
use shared::deposit::{DepositsInput, DepositsQuery, Figures};
use utoipa::{IntoParams, ToSchema};

/// The deposits' parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepositsParams {
    /// The first day, `YYYY-MM-DD` (six days before `to` when omitted).
    #[param(format = Date)]
    from: Option<String>,
    /// The last day, `YYYY-MM-DD` (the seller's today when omitted); at most 92 days from `from`.
    #[param(format = Date)]
    to: Option<String>,
}

/// One side's figures, amounts as decimal strings signed as they move the balance.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DepositFigures {
    pub payments: String,
    pub refunds: String,
    pub returns: String,
    /// Disputes opened less those won.
    pub disputes: String,
    /// The gateway's fees (negative: taken off).
    pub fees: String,
    /// What reaches the bank.
    pub net: String,
    /// How many movements.
    pub count: i64,
}

/// A day and rail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DepositLine {
    /// The seller's day, `YYYY-MM-DD`.
    pub day: String,
    /// `card` or `ach`.
    pub rail: String,
    /// What Settle recorded, with the gateway's fees.
    pub settle: DepositFigures,
    /// The gateway's own books; null where they are not read.
    pub gateway: Option<DepositFigures>,
    /// A gross figure differs between the two.
    pub differs: bool,
}

/// A NACHA file's control totals beside its entries.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DepositFile {
    pub name: String,
    pub day: String,
    pub entries: i64,
    pub file_debits: String,
    pub entry_debits: String,
    pub file_credits: String,
    pub entry_credits: String,
    pub differs: bool,
}

/// Deposits per day and rail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DepositsReport {
    /// Always `deposits`.
    pub object: String,
    pub from: String,
    pub to: String,
    /// The seller's time zone (IANA name) that makes its days.
    pub time_zone: String,
    pub currency: String,
    /// Lines and files that differ from the gateway's books.
    pub differences: i64,
    /// Newest day first.
    pub data: Vec<DepositLine>,
    pub files: Vec<DepositFile>,
}

/// A report's filter read against the seller's today. A parameter sent empty is refused (the
/// browser's form sends an empty field for "the default"; the API leaves the parameter out), as
/// is one the filter cannot read (400); well-formed `days` the report does not cover (to come,
/// before 2000, a period too long) are out of range (422).
pub(super) async fn filter<Q>(
    state: &AppState,
    params: &[(&str, &Option<String>)],
    days: &[&str],
    parse: impl FnOnce(chrono::NaiveDate) -> Result<Q, shared::FieldError>,
) -> Result<Q, Response> {
    if let Some((name, _)) = params.iter().find(|(_, v)| v.as_deref() == Some("")) {
        return Err(
            Problem::bad_parameter(name, format!("Leave `{name}` out rather than empty."))
                .into_response(),
        );
    }
    let today = server::reports::today(&state.pool)
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    parse(today).map_err(|e| {
        let well_formed = params
            .iter()
            .filter(|(name, _)| days.contains(name))
            .all(|(name, v)| shared::format::parse_day(name, v.as_deref()).is_ok());
        if days.contains(&e.field.as_str()) && well_formed {
            Problem::parameter_out_of_range(&e.field, &e.message).into_response()
        } else {
            Problem::bad_parameter(&e.field, &e.message).into_response()
        }
    })
}

fn figures(f: &Figures) -> DepositFigures {
    DepositFigures {
        payments: money(f.payments),
        refunds: money(f.refunds),
        returns: money(f.returns),
        disputes: money(f.disputes),
        fees: money(-f.fees),
        net: money(f.net()),
        count: f.count,
    }
}

/// What each day's card payments, ACH settlements, refunds, returns and disputes should bring
/// to the bank, per rail, beside the gateway's own books (the sandbox's or Stripe's balance
/// transactions, whichever is the gateway), and the NACHA files' control totals beside their
/// entries. Days are the seller's (its time zone).
#[utoipa::path(get, path = "/api/v1/reports/deposits", tag = "reports", params(DepositsParams),
    responses((status = 200, description = "The deposits", body = DepositsReport),
        (status = 422, description = "`to` is before `from`, or more than 92 days after it", body = Problem,
         content_type = "application/problem+json"), ReadErrors))]
pub async fn get_deposits(
    State(state): State<AppState>,
    Extension(key): Key,
    query: Result<Query<DepositsParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return Problem::bad_parameter("from", "`from` and `to` are days, YYYY-MM-DD.")
            .into_response();
    };
    let input = DepositsInput {
        from: p.from,
        to: p.to,
    };
    let query = match filter(
        &state,
        &[("from", &input.from), ("to", &input.to)],
        &["from", "to"],
        |today| DepositsQuery::parse(&input, today),
    )
    .await
    {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    let sources = Sources::of(&state);
    match deposits::report_for_key(&state.pool, &key, &query, &sources).await {
        Ok(r) => Json(DepositsReport {
            object: "deposits".into(),
            differences: r.differences() as i64,
            from: r.from.to_string(),
            to: r.to.to_string(),
            time_zone: r.time_zone,
            currency: "USD".into(),
            data: r
                .lines
                .iter()
                .map(|l| DepositLine {
                    day: l.day.to_string(),
                    rail: l.rail.key().into(),
                    settle: figures(&l.expected()),
                    gateway: l.gateway.as_ref().map(figures),
                    differs: l.differs(),
                })
                .collect(),
            files: r
                .files
                .iter()
                .map(|f| DepositFile {
                    name: f.name.clone(),
                    day: f.day.to_string(),
                    entries: f.entries,
                    file_debits: money(f.file_debits),
                    entry_debits: money(f.entry_debits),
                    file_credits: money(f.file_credits),
                    entry_credits: money(f.entry_credits),
                    differs: f.differs(),
                })
                .collect(),
        })
        .into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// The aging's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgingParams {
    /// The day, `YYYY-MM-DD` (the seller's today when omitted; not after it).
    #[param(format = Date)]
    as_of: Option<String>,
    /// Part of the company's name or ID (no control characters).
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    q: Option<String>,
    /// `open` (largest first, the default), `overdue`, `oldest` or `name`.
    #[param(pattern = "^(open|overdue|oldest|name)$")]
    sort: Option<String>,
    /// `true`: only companies with something past due.
    overdue: Option<bool>,
    /// Companies per answer, 1–1000 (default 100); the totals count them all.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

fn aging_figures(f: &shared::aging::Figures) -> AgingFigures {
    let m = |x: shared::money::Money| money(x.amount());
    AgingFigures {
        current: m(f.buckets[0]),
        days_1_30: m(f.buckets[1]),
        days_31_60: m(f.buckets[2]),
        days_61_90: m(f.buckets[3]),
        days_91_120: m(f.buckets[4]),
        over_120: m(f.buckets[5]),
        open: m(f.open),
        past_due: m(f.overdue()),
        unapplied_credit: m(f.unapplied_credit),
        disputed: m(f.disputed),
    }
}

/// Each company's open balance as of a day by days past due (Current, 1–30, 31–60, 61–90,
/// 91–120, over 120), with its unapplied credit and what was in dispute then. Payments, refunds
/// and credit after the day are left out; days are the seller's (its time zone).
#[utoipa::path(get, path = "/api/v1/reports/aging", tag = "reports", params(AgingParams),
    responses((status = 200, description = "The aging", body = AgingReport),
        (status = 422, description = "`as_of` is a day to come or before 2000", body = Problem,
         content_type = "application/problem+json"), ReadErrors))]
pub async fn get_aging(
    State(state): State<AppState>,
    Extension(key): Key,
    query: Result<Query<AgingParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = query else {
        return Problem::bad_parameter(
            "overdue",
            "`overdue` is true or false; `limit` a whole number from 1 to 1000.",
        )
        .into_response();
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Problem::bad_parameter("limit", "`limit` is a whole number from 1 to 1000.")
            .into_response();
    }
    let input = shared::aging::AgingInput {
        as_of: p.as_of,
        q: p.q,
        sort: p.sort,
        overdue: p.overdue.filter(|o| *o).map(|_| "1".into()),
    };
    let query = match filter(
        &state,
        &[("as_of", &input.as_of), ("sort", &input.sort)],
        &["as_of"],
        |today| shared::aging::AgingQuery::parse(&input, today),
    )
    .await
    {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    match server::reports::aging::report_for_key(&state.pool, &key, &query, limit).await {
        Ok(r) => Json(AgingReport {
            object: "aging".into(),
            as_of: r.as_of.to_string(),
            time_zone: r.time_zone,
            currency: "USD".into(),
            companies: r.companies,
            totals: aging_figures(&r.totals),
            data: r
                .rows
                .iter()
                .map(|row| AgingCompany {
                    id: row.code.clone(),
                    name: row.name.clone(),
                    figures: aging_figures(&row.figures),
                })
                .collect(),
        })
        .into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

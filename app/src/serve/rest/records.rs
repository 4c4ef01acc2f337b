//! The handlers: upserts of ERP records (single and batch), reads of a company and an
//! invoice and the payments feed.

use super::model::*;
use super::problem::{Problem, ProblemItem};
use super::{json_body, write, Answer, Key};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use server::integration::erp::{self, Outcome};
use server::AppState;
use shared::erp::{CompanyRecord, ContactRecord, ExternalPaymentRecord, InvoiceRecord, MAX_BATCH};
use utoipa::{IntoParams, IntoResponses};

/// The errors any write can answer with.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum WriteErrors {
    /// Not JSON, or a bad header.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No valid API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// A read-only key.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// The Idempotency-Key was used for another request.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is larger than one request may be (2 MB).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The record (or the body's shape) is not valid; nothing changed.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(Problem),
    /// Over the key's rate limit; see `Retry-After`.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
}

/// The errors any read can answer with.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub(super) enum ReadErrors {
    /// A bad parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No valid API key.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Nothing with this id.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Over the key's rate limit; see `Retry-After`.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
}

fn result(
    index: usize,
    id: &str,
    outcome: &Outcome,
    payment: Option<String>,
    prefix: &str,
) -> RecordResult {
    let (kind, errors) = match outcome {
        Outcome::Created => (ResultKind::Created, vec![]),
        Outcome::Updated => (ResultKind::Updated, vec![]),
        Outcome::Unchanged => (ResultKind::Unchanged, vec![]),
        Outcome::Refused(errs) => (
            ResultKind::Error,
            errs.iter().map(|e| ProblemItem::field(prefix, e)).collect(),
        ),
    };
    RecordResult {
        index,
        id: id.trim().to_string(),
        result: kind,
        payment,
        errors,
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("API answers serialize")
}

/// One record's answer: 201 created, 200 updated or unchanged, 422 refused.
fn single(outcome: &Outcome, id: &str, payment: Option<String>) -> Result<Answer, Problem> {
    if let Outcome::Refused(errs) = outcome {
        return Err(Problem::invalid_records("", errs));
    }
    let status = if *outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Answer {
        status,
        body: to_json(&result(0, id, outcome, payment, "")),
    })
}

fn batch(results: Vec<RecordResult>) -> Answer {
    let count = |k: ResultKind| results.iter().filter(|r| r.result == k).count();
    let b = BatchResult {
        created: count(ResultKind::Created),
        updated: count(ResultKind::Updated),
        unchanged: count(ResultKind::Unchanged),
        errors: count(ResultKind::Error),
        results,
    };
    Answer {
        status: StatusCode::OK,
        body: to_json(&b),
    }
}

fn too_many(n: usize) -> Option<Problem> {
    (n > MAX_BATCH || n == 0).then(|| {
        Problem::invalid_records(
            "",
            &[shared::FieldError::new(
                "records",
                if n == 0 {
                    "Send at least one record.".to_string()
                } else {
                    format!("A batch holds at most {MAX_BATCH} records; this one has {n}.")
                },
            )],
        )
    })
}

macro_rules! upsert_handlers {
    ($single:ident, $batch:ident, $record:ty, $batch_ty:ty, $path:literal, $upsert:path, $key:ident, $one:literal, $many:literal) => {
        #[utoipa::path(post, path = $path, tag = "records", request_body = $record, summary = $one,
            params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retry of the same request (1–255 visible ASCII characters; a UUID is a good choice).", pattern = r"^[!-~]{1,255}$")),
            responses((status = 201, description = "Created", body = RecordResult),
                      (status = 200, description = "Updated, or already so", body = RecordResult),
                      WriteErrors))]
        pub async fn $single(State(state): State<AppState>, key: Key, headers: HeaderMap, body: Bytes) -> Response {
            let record: $record = match json_body(&headers, &body) {
                Ok(r) => r,
                Err(p) => return p.into_response(),
            };
            let actor = key.actor();
            write(&state, key.0, &headers, $path, &body, move |conn| {
                Box::pin(async move {
                    let outcome = $upsert(conn, actor, std::slice::from_ref(&record)).await?.remove(0);
                    single(&outcome, record.$key.as_str(), None)
                })
            })
            .await
        }

        #[utoipa::path(post, path = concat!($path, "/batch"), tag = "records", request_body = $batch_ty, summary = $many,
            description = "A result per record, in order: a refused record changes nothing; the others are written.",
            params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retry of the same request (1–255 visible ASCII characters; a UUID is a good choice).", pattern = r"^[!-~]{1,255}$")),
            responses((status = 200, description = "A result per record", body = BatchResult), WriteErrors))]
        pub async fn $batch(State(state): State<AppState>, key: Key, headers: HeaderMap, body: Bytes) -> Response {
            let b: $batch_ty = match json_body(&headers, &body) {
                Ok(r) => r,
                Err(p) => return p.into_response(),
            };
            if let Some(p) = too_many(b.records.len()) {
                return p.into_response();
            }
            let actor = key.actor();
            write(&state, key.0, &headers, concat!($path, "/batch"), &body, move |conn| {
                Box::pin(async move {
                    let outcomes = $upsert(conn, actor, &b.records).await?;
                    Ok(batch(
                        outcomes
                            .iter()
                            .enumerate()
                            .map(|(i, o)| result(i, b.records[i].$key.as_str(), o, None, &format!("/records/{i}")))
                            .collect(),
                    ))
                })
            })
            .await
        }
    };
}

upsert_handlers!(
    post_company,
    post_companies,
    CompanyRecord,
    CompanyBatch,
    "/api/v1/companies",
    erp::upsert_companies,
    id,
    "Upsert a company by its Company ID",
    "Upsert up to 1,000 companies"
);
upsert_handlers!(
    post_contact,
    post_contacts,
    ContactRecord,
    ContactBatch,
    "/api/v1/contacts",
    erp::upsert_contacts,
    email,
    "Upsert an AP contact by company and email",
    "Upsert up to 1,000 AP contacts"
);
upsert_handlers!(
    post_invoice,
    post_invoices,
    InvoiceRecord,
    InvoiceBatch,
    "/api/v1/invoices",
    erp::upsert_invoices,
    number,
    "Upsert an invoice by company and number",
    "Upsert up to 1,000 invoices"
);

/// Record one payment booked in the ERP (a check, a wire, a credit applied). Applied once by
/// its `id`: sent again with the same content it answers `unchanged`; with other content it is
/// refused.
#[utoipa::path(post, path = "/api/v1/external-payments", tag = "records", request_body = ExternalPaymentRecord,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retry of the same request (1–255 visible ASCII characters; a UUID is a good choice).", pattern = r"^[!-~]{1,255}$")),
    responses((status = 201, description = "Recorded", body = RecordResult),
              (status = 200, description = "Already recorded", body = RecordResult),
              WriteErrors))]
pub async fn post_external_payment(
    State(state): State<AppState>,
    key: Key,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let record: ExternalPaymentRecord = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let actor = key.actor();
    write(
        &state,
        key.0,
        &headers,
        "/api/v1/external-payments",
        &body,
        move |conn| {
            Box::pin(async move {
                let r = erp::record_external_payments(conn, actor, std::slice::from_ref(&record))
                    .await?
                    .remove(0);
                single(&r.outcome, &record.id, r.payment)
            })
        },
    )
    .await
}

/// Record up to 1,000 ERP payments, with a result per record.
#[utoipa::path(post, path = "/api/v1/external-payments/batch", tag = "records", request_body = ExternalPaymentBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retry of the same request (1–255 visible ASCII characters; a UUID is a good choice).", pattern = r"^[!-~]{1,255}$")),
    responses((status = 200, description = "A result per record", body = BatchResult), WriteErrors))]
pub async fn post_external_payments(
    State(state): State<AppState>,
    key: Key,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let b: ExternalPaymentBatch = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    if let Some(p) = too_many(b.records.len()) {
        return p.into_response();
    }
    let actor = key.actor();
    write(
        &state,
        key.0,
        &headers,
        "/api/v1/external-payments/batch",
        &body,
        move |conn| {
            Box::pin(async move {
                let rs = erp::record_external_payments(conn, actor, &b.records).await?;
                Ok(batch(
                    rs.into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            result(
                                i,
                                &b.records[i].id,
                                &r.outcome,
                                r.payment,
                                &format!("/records/{i}"),
                            )
                        })
                        .collect(),
                ))
            })
        },
    )
    .await
}

pub(super) fn money(d: rust_decimal::Decimal) -> String {
    format!("{:.2}", d)
}

/// A company with its open balance.
#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "records",
    params(("id" = String, Path, description = "The Company ID")),
    responses((status = 200, description = "The company", body = Company), ReadErrors))]
pub async fn get_company(
    State(state): State<AppState>,
    _key: Key,
    Path(id): Path<String>,
) -> Response {
    if id.chars().any(char::is_control) {
        return Problem::not_found("This company").into_response();
    }
    match erp::company(&state.pool, &id.trim().to_ascii_uppercase()).await {
        Ok(Some(c)) => Json(Company {
            id: c.code,
            name: c.name,
            currency: c.currency,
            open_balance: money(c.open_balance),
            open_invoices: c.open_invoices,
            unapplied_credit: money(c.unapplied_credit),
        })
        .into_response(),
        Ok(None) => Problem::not_found(&format!("Company {id}")).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Apply a company's credit on account to its open invoices, each at most its balance, in all
/// at most the credit that can be applied now; all of it or nothing.
#[utoipa::path(post, path = "/api/v1/companies/{id}/credit-applications", tag = "records", request_body = CreditApplicationRequest,
    params(("id" = String, Path, description = "The Company ID"),
           ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retry of the same request (1–255 visible ASCII characters; a UUID is a good choice).", pattern = r"^[!-~]{1,255}$")),
    responses((status = 200, description = "Applied", body = CreditApplication),
              (status = 404, description = "No company with this id", body = Problem, content_type = "application/problem+json"),
              WriteErrors))]
pub async fn post_credit_application(
    State(state): State<AppState>,
    key: Key,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if id.chars().any(char::is_control) {
        return Problem::not_found("This company").into_response();
    }
    let request: CreditApplicationRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    let code = id.trim().to_ascii_uppercase();
    let actor = key.actor();
    let path = format!("/api/v1/companies/{code}/credit-applications");
    write(&state, key.0, &headers, &path.clone(), &body, move |conn| {
        Box::pin(async move {
            let lines: Vec<(String, String)> = request
                .allocations
                .iter()
                .map(|a| (a.invoice.clone(), a.amount.clone()))
                .collect();
            let done = server::credits::apply_by_number(conn, &code, actor, &lines).await?;
            Ok(Answer {
                status: StatusCode::OK,
                body: serde_json::to_value(CreditApplication {
                    company_id: code,
                    applied: money(done.applied.amount()),
                    unapplied_credit: money(done.available.amount()),
                })
                .unwrap_or_default(),
            })
        })
    })
    .await
}

/// An invoice with the balance Settle keeps.
#[utoipa::path(get, path = "/api/v1/companies/{id}/invoices/{number}", tag = "records",
    params(("id" = String, Path, description = "The Company ID"), ("number" = String, Path, description = "The invoice number")),
    responses((status = 200, description = "The invoice", body = Invoice), ReadErrors))]
pub async fn get_invoice(
    State(state): State<AppState>,
    _key: Key,
    Path((id, number)): Path<(String, String)>,
) -> Response {
    if id.chars().chain(number.chars()).any(char::is_control) {
        return Problem::not_found("This invoice").into_response();
    }
    match erp::invoice(&state.pool, &id.trim().to_ascii_uppercase(), &number).await {
        Ok(Some(i)) => Json(Invoice {
            company_id: i.company_id,
            number: i.number,
            po_number: i.po_number,
            issue_date: i.issue_date.to_string(),
            due_date: i.due_date.to_string(),
            currency: i.currency,
            total: money(i.total),
            balance: money(i.balance),
            status: i.status,
        })
        .into_response(),
        Ok(None) => {
            Problem::not_found(&format!("Invoice {number} of company {id}")).into_response()
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// The payments feed's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous page; omitted: from the first event.
    #[param(pattern = r"^[0-9]{1,18}\.[0-9]{1,18}$")]
    since: Option<String>,
    /// Events per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Payment events in the order they became final: approved, pending, declined, settled and
/// returned, each with the payment's allocations, method, who took it and for whom. Page with
/// `since` = the previous `next_cursor`; no event is skipped or repeated, however payments are
/// being written meanwhile.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", params(FeedQuery),
    responses((status = 200, description = "A page of events", body = PaymentEventList), ReadErrors))]
pub async fn list_payments(
    State(state): State<AppState>,
    _key: Key,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return Problem::bad_parameter("limit", "`limit` is a whole number from 1 to 500.")
            .into_response();
    };
    let since = match q.since.as_deref() {
        None => None,
        Some(s) => match server::integration::feed::Cursor::parse(s) {
            Some(c) => Some(c),
            None => {
                return Problem::bad_parameter(
                    "since",
                    "`since` is a `next_cursor` from an earlier page.",
                )
                .into_response()
            }
        },
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Problem::bad_parameter("limit", "`limit` is a whole number from 1 to 500.")
            .into_response();
    }
    let page = match server::integration::feed::payments(&state.pool, since, limit).await {
        Ok(p) => p,
        Err(e) => return Problem::from(e).into_response(),
    };
    let data = page
        .events
        .into_iter()
        .map(|e| PaymentEvent {
            id: server::outbox::event_id(e.id),
            event_type: e.event_type,
            created_at: e.created_at.to_rfc3339(),
            data: e.data,
        })
        .collect();
    Json(PaymentEventList {
        object: "list".into(),
        data,
        next_cursor: page.next.to_string(),
        has_more: page.has_more,
    })
    .into_response()
}

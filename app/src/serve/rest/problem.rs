//! RFC 9457 problem details (`application/problem+json`): what every API error answers with,
//! naming the body field (a JSON pointer), query parameter or header it is about.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::FieldError;
use utoipa::ToSchema;

/// One thing wrong with the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemItem {
    /// What is wrong, for a person.
    pub detail: String,
    /// The body field, as a JSON pointer (RFC 6901), e.g. `/records/3/total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The query parameter, e.g. `since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The request header, e.g. `Idempotency-Key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl ProblemItem {
    /// A field error of the record at `prefix` (a JSON pointer; `""` for the body itself).
    /// Field names use `/` between levels (`allocations/0/amount`).
    pub fn field(prefix: &str, e: &FieldError) -> Self {
        ProblemItem {
            detail: e.message.clone(),
            pointer: Some(format!("{prefix}/{}", e.field)),
            ..Default::default()
        }
    }
}

/// A problem details document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:settle:problem:…`).
    #[serde(rename = "type")]
    #[schema(example = "urn:settle:problem:invalid-record")]
    pub kind: String,
    /// A short summary of the kind.
    #[schema(example = "The record is not valid")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// Each thing wrong, with where it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
    /// Seconds to wait (429 only; also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:settle:problem:{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with(mut self, item: ProblemItem) -> Self {
        self.errors.push(item);
        self
    }

    pub fn unauthorized(detail: &str) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Not authenticated",
            detail,
        )
    }

    pub fn invalid_records(prefix: &str, errors: &[FieldError]) -> Self {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-record",
            "The record is not valid",
            "The record was refused and nothing changed; see errors.",
        );
        p.errors = errors
            .iter()
            .map(|e| ProblemItem::field(prefix, e))
            .collect();
        p
    }

    pub fn bad_parameter(name: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            "A parameter is not valid",
            detail.clone(),
        )
        .with(ProblemItem {
            detail,
            parameter: Some(name.to_string()),
            ..Default::default()
        })
    }

    /// A parameter well formed but out of what it may be (a day to come): 422.
    pub fn parameter_out_of_range(name: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter-out-of-range",
            "A parameter is out of range",
            detail.clone(),
        )
        .with(ProblemItem {
            detail,
            parameter: Some(name.to_string()),
            ..Default::default()
        })
    }

    pub fn bad_header(name: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-header",
            "A header is not valid",
            detail.clone(),
        )
        .with(ProblemItem {
            detail,
            header: Some(name.to_string()),
            ..Default::default()
        })
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("{what} was not found."),
        )
    }

    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong",
            "Something went wrong on our side; nothing was changed. Try again; the details are in the server log.",
        )
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<server::Error> for Problem {
    fn from(e: server::Error) -> Self {
        use shared::AppError;
        match e.into_app() {
            AppError::Invalid(fe) => Problem::invalid_records("", &[fe]),
            AppError::NotFound(what) => Problem::not_found(&what),
            AppError::Forbidden => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                "This key may not do this.",
            ),
            _ => Problem::internal(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"settle\""),
            );
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

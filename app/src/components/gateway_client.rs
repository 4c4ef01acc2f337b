//! Browser-side calls that are not server functions: sending card and account numbers to
//! the gateway's tokenizer (they never reach Settle's server functions), and uploading a
//! document as raw bytes.

use crate::error::ApiError;
use chrono::NaiveDate;
use shared::document::UploadedDocument;
use shared::document::DOCUMENTS_PATH;
use shared::error::FieldError;
use shared::method::{TokenizeError, TokenizeRequest, TokenizeResponse, SANDBOX_TOKENIZER_PATH};
use shared::AppError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn transport(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "network error".into())
}

/// POSTs `body` and returns the status and the response text.
async fn post(
    url: &str,
    body: &JsValue,
    content_type: &str,
    extra: Option<(&str, &str)>,
) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(body);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(transport)?;
    headers
        .set("Content-Type", content_type)
        .map_err(transport)?;
    headers
        .set("Accept", "application/json")
        .map_err(transport)?;
    if let Some((name, value)) = extra {
        headers.set(name, value).map_err(transport)?;
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(transport)?;
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(transport)?
        .dyn_into()
        .map_err(transport)?;
    let text = JsFuture::from(response.text().map_err(transport)?)
        .await
        .map_err(transport)?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

/// Sends what the payer typed to the gateway's tokenizer; a refusal comes back with the
/// field it belongs to. A payer without a session (a pay link) presents the link instead.
pub async fn tokenize(
    request: &TokenizeRequest,
    pay_link: Option<&str>,
) -> Result<TokenizeResponse, FieldError> {
    let body = serde_json::to_string(request)
        .map_err(|_| FieldError::new("request", "Could not send the details."))?;
    let (status, text) = post(
        SANDBOX_TOKENIZER_PATH,
        &JsValue::from_str(&body),
        "application/json",
        pay_link.map(|t| (shared::email::PAY_LINK_HEADER, t)),
    )
    .await
    .map_err(|e| {
        FieldError::new(
            "request",
            format!("Could not reach the payment gateway ({e}). Nothing was saved; try again."),
        )
    })?;
    if status == 200 {
        serde_json::from_str(&text).map_err(|_| {
            FieldError::new("request", "The payment gateway answered oddly. Try again.")
        })
    } else {
        Err(serde_json::from_str::<TokenizeError>(&text)
            .map(|e| e.error)
            .unwrap_or_else(|_| {
                FieldError::new(
                    "request",
                    format!("The payment gateway refused the details (HTTP {status})."),
                )
            }))
    }
}

/// An upload's JSON answer, or the error it carries.
fn answer<T: serde::de::DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    if status == 200 {
        serde_json::from_str(text).map_err(|e| ApiError(AppError::Transport(e.to_string())))
    } else {
        Err(serde_json::from_str::<ApiError>(text)
            .unwrap_or_else(|_| ApiError(AppError::Transport(format!("HTTP {status}")))))
    }
}

/// Uploads a file for `company` (staff; `None` in the customer portal).
pub async fn upload_document(
    company: Option<&str>,
    file: &web_sys::File,
) -> Result<UploadedDocument, ApiError> {
    let mut url = format!(
        "{DOCUMENTS_PATH}?name={}",
        String::from(js_sys::encode_uri_component(&file.name()))
    );
    if let Some(c) = company {
        url.push_str(&format!(
            "&company={}",
            String::from(js_sys::encode_uri_component(c))
        ));
    }
    let content_type = match file.type_() {
        t if t.is_empty() => "application/octet-stream".to_string(),
        t => t,
    };
    let (status, text) = post(&url, file.as_ref(), &content_type, None)
        .await
        .map_err(|e| ApiError(AppError::Transport(e)))?;
    answer(status, &text)
}

/// Uploads a CSV file for System → Import; answers with its preview.
pub async fn upload_import(
    kind: shared::import::ImportKind,
    file: &web_sys::File,
) -> Result<shared::import::ImportPreview, ApiError> {
    let url = format!(
        "{}?kind={}&name={}",
        shared::import::IMPORTS_PATH,
        kind.key(),
        String::from(js_sys::encode_uri_component(&file.name()))
    );
    let (status, text) = post(&url, file.as_ref(), "text/csv", None)
        .await
        .map_err(|e| ApiError(AppError::Transport(e)))?;
    answer(status, &text)
}

/// Today in the browser's time zone.
pub fn today() -> NaiveDate {
    let now = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(
        now.get_full_year() as i32,
        now.get_month() + 1,
        now.get_date(),
    )
    .unwrap_or_default()
}

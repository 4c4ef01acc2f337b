//! How server function arguments travel: as JSON ([`Json`]) or as a URL-encoded form
//! ([`Form`]). Both decode with the path of what was wrong (`payment.lines[0].amount`), so a
//! malformed or missing argument is answered with a 400 that names it instead of a 500.
//! (`login` and `logout` keep server_fn's own `PostUrl`: plain HTML forms post them.)

use serde::de::DeserializeOwned;
use serde::Serialize;
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use shared::AppError;
use std::fmt;

/// Arguments as a JSON object, one key per argument.
pub type Json = Post<JsonArgs>;
/// Arguments as `application/x-www-form-urlencoded`, one field per argument.
pub type Form = Post<FormArgs>;

pub struct JsonArgs;
pub struct FormArgs;

/// What was wrong with the arguments, and where.
#[derive(Debug)]
pub struct ArgError {
    /// The argument's path (`payment.lines[0].amount`), empty when the body as a whole is
    /// unreadable.
    path: String,
    reason: String,
}

/// How [`ArgError`] is written into server_fn's error string, and found again.
const MARK: &str = "argument `";

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MARK}{}`: {}", self.path, self.reason)
    }
}

impl ArgError {
    fn from_path<E: fmt::Display>(e: serde_path_to_error::Error<E>) -> Self {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let reason = e.into_inner().to_string();
        // A missing field is reported at its parent: name the field itself.
        if let Some(name) = reason
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(name);
            return ArgError {
                path,
                reason: "missing".into(),
            };
        }
        ArgError { path, reason }
    }
}

/// The error to answer for arguments server_fn could not decode (`message` as server_fn
/// reports it): invalid, with the argument's path as its field.
pub fn bad_arguments(message: &str) -> AppError {
    let (path, reason) = message
        .split_once(MARK)
        .and_then(|(_, rest)| rest.split_once("`: "))
        .map(|(path, reason)| (path.to_string(), reason.to_string()))
        // server_fn's own decoders: "missing argument x", or serde's words.
        .or_else(|| {
            message
                .split_once("missing field `")
                .or_else(|| message.split_once("missing argument "))
                .map(|(_, rest)| {
                    let name = rest.split('`').next().unwrap_or(rest).trim();
                    (name.to_string(), "missing".to_string())
                })
        })
        .unwrap_or_else(|| (String::new(), message.to_string()));
    let reason = reason.chars().take(200).collect::<String>();
    if path.is_empty() {
        AppError::invalid(
            "request",
            format!("The request could not be read: {reason}."),
        )
    } else {
        AppError::invalid(
            path.clone(),
            format!("The request's `{path}` is not valid: {reason}."),
        )
    }
}

impl ContentType for JsonArgs {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonArgs {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonArgs {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonArgs {
    type Error = ArgError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(ArgError::from_path)?;
        de.end().map_err(|e| ArgError {
            path: String::new(),
            reason: e.to_string(),
        })?;
        Ok(value)
    }
}

impl ContentType for FormArgs {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";
}

impl FormatType for FormArgs {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for FormArgs {
    type Error = serde_qs::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_qs::to_string(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for FormArgs {
    type Error = ArgError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // As server_fn's PostUrl: nesting at most 5 deep, brackets may be percent-encoded.
        let config = serde_qs::Config::new(5, false);
        let de = serde_qs::Deserializer::with_config(&config, &bytes).map_err(|e| ArgError {
            path: String::new(),
            reason: e.to_string(),
        })?;
        serde_path_to_error::deserialize(de).map_err(ArgError::from_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        invoice_id: i64,
        amount: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Args {
        id: i64,
        lines: Vec<Line>,
    }

    fn json(body: &str) -> AppError {
        let e = <JsonArgs as Decodes<Args>>::decode(Bytes::from(body.to_string())).unwrap_err();
        bad_arguments(&format!("error deserializing server function results: {e}"))
    }

    #[test]
    fn names_the_argument_that_is_wrong() {
        let e = json(r#"{"id": 1, "lines": [{"invoice_id": 2, "amount": 100}]}"#);
        assert_eq!(e.field().unwrap().field, "lines[0].amount");
        assert!(e.to_string().contains("invalid type: integer `100`"), "{e}");
        assert_eq!(json(r#"{"id": 1}"#).field().unwrap().field, "lines");
        assert_eq!(
            json(r#"{"id": "x", "lines": []}"#).field().unwrap().field,
            "id"
        );
        assert_eq!(json("not json").field().unwrap().field, "request");
        assert_eq!(
            json(r#"{"id": 1, "lines": []} {}"#).field().unwrap().field,
            "request"
        );
    }

    #[test]
    fn names_a_form_field_that_is_wrong() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Page {
            q: String,
            page: i64,
        }
        let e = <FormArgs as Decodes<Page>>::decode(Bytes::from("q=a&page=first")).unwrap_err();
        let e = bad_arguments(&e.to_string());
        assert_eq!(e.field().unwrap().field, "page");
        let e = <FormArgs as Decodes<Page>>::decode(Bytes::from("q=a")).unwrap_err();
        assert_eq!(bad_arguments(&e.to_string()).field().unwrap().field, "page");
        assert_eq!(
            bad_arguments("missing argument code")
                .field()
                .unwrap()
                .field,
            "code"
        );
    }
}

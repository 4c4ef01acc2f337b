//! What Stripe's answers mean to Settle, read as the description (API version 2020-08-27)
//! gives them: a PaymentIntent's `status` and `last_payment_error`, and the error object of a
//! refused request (`error.type`: `card_error`, `invalid_request_error`, `idempotency_error`,
//! `api_error`) with its HTTP status. Pure: the adapter's HTTP calls hand their answers here.

use crate::gateway::{Charge, ChargeStatus, GatewayError};
use serde::Deserialize;

/// The fields of a PaymentIntent Settle reads.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    /// `canceled`, `processing`, `requires_action`, `requires_capture`,
    /// `requires_confirmation`, `requires_payment_method` or `succeeded`.
    pub status: String,
    #[serde(default)]
    pub payment_method_types: Vec<String>,
    #[serde(default)]
    pub last_payment_error: Option<ApiError>,
}

/// Stripe's error object (`api_errors` in the description).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<Box<PaymentIntent>>,
}

/// A refused request's body: `{"error": {...}}`.
#[derive(Clone, Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

/// The message for a payment the card's bank wants the cardholder to confirm (3-D Secure):
/// Settle takes payments on the customer's behalf, so it cannot.
pub const NEEDS_CARDHOLDER: &str = "The card's bank asks the cardholder to confirm this payment \
     themselves. It cannot be taken on their behalf: ask the customer to pay in the portal or \
     with another method.";

impl PaymentIntent {
    pub fn is_bank_debit(&self) -> bool {
        self.payment_method_types
            .iter()
            .any(|t| t == "us_bank_account")
    }

    fn decline(&self, fallback: &str) -> (Option<String>, Option<String>) {
        match &self.last_payment_error {
            Some(e) => (
                e.decline_code.clone().or_else(|| e.code.clone()),
                e.message.clone(),
            ),
            None => (Some(fallback.to_string()), None),
        }
    }

    /// The charge this intent is, as Settle records it.
    ///
    /// A card that succeeded is approved; a bank debit that succeeded has settled, and one
    /// processing is pending. A card still processing is not known yet (asked again by key).
    /// A bank debit back at `requires_payment_method` after processing was returned (its
    /// `last_payment_error` holds the reason); a card there was declined. `requires_action`
    /// is refused with [`NEEDS_CARDHOLDER`].
    pub fn charge(&self) -> Result<Charge, GatewayError> {
        let charge = |status, code: Option<String>, message: Option<String>| Charge {
            id: self.id.clone(),
            status,
            code,
            message,
        };
        let bank = self.is_bank_debit();
        Ok(match self.status.as_str() {
            "succeeded" if bank => charge(ChargeStatus::Settled, None, None),
            "succeeded" => charge(ChargeStatus::Approved, None, None),
            "processing" if bank => charge(ChargeStatus::Pending, None, None),
            "processing" => return Err(GatewayError::Timeout),
            "requires_payment_method" if bank && self.last_payment_error.is_some() => {
                let (code, message) = self.decline("returned");
                charge(ChargeStatus::Returned, code, message)
            }
            "requires_payment_method" => {
                let (code, message) = self.decline("card_declined");
                charge(ChargeStatus::Declined, code, message)
            }
            "requires_action" => charge(
                ChargeStatus::Declined,
                Some("authentication_required".into()),
                Some(NEEDS_CARDHOLDER.into()),
            ),
            "canceled" if bank => charge(ChargeStatus::Voided, None, None),
            "canceled" => charge(
                ChargeStatus::Declined,
                Some("canceled".into()),
                Some("The payment was canceled at the gateway.".into()),
            ),
            other => {
                return Err(GatewayError::Refused(format!(
                    "the gateway left the payment at {other}, which Settle does not take"
                )))
            }
        })
    }
}

/// What a refused request means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An answer: a declined card is a declined charge; anything else an error.
    Answer(Result<Charge, GatewayError>),
    /// 429: too many requests; the same request may be sent again after a wait.
    RetryLater,
}

/// Reads a refused request by its HTTP status and body.
pub fn refusal(status: u16, body: &[u8]) -> Refusal {
    let error = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let message = |fallback: &str| {
        error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| fallback.to_string())
    };
    match (status, error.as_ref().map(|e| e.kind.as_str())) {
        (429, _) => Refusal::RetryLater,
        // A declined card: the intent it declined, when the answer carries it.
        (402, Some("card_error")) => {
            let e = error.as_ref().expect("matched");
            let code = e.decline_code.clone().or_else(|| e.code.clone());
            let id = e
                .payment_intent
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_default();
            Refusal::Answer(Ok(Charge {
                id,
                status: ChargeStatus::Declined,
                code,
                message: e.message.clone(),
            }))
        }
        (_, Some("idempotency_error")) => Refusal::Answer(Err(GatewayError::Refused(format!(
            "the same key was used for another request: {}",
            message("idempotency error")
        )))),
        (401, _) => Refusal::Answer(Err(GatewayError::Unavailable(
            "Stripe refused the secret key (STRIPE_SECRET_KEY)".into(),
        ))),
        (500..=599, _) => Refusal::Answer(Err(GatewayError::Timeout)),
        (_, _) => Refusal::Answer(Err(GatewayError::Refused(message(&format!(
            "Stripe answered {status}"
        ))))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(status: &str, types: &[&str], error: serde_json::Value) -> PaymentIntent {
        serde_json::from_value(json!({
            "id": "pi_1", "object": "payment_intent", "status": status,
            "payment_method_types": types, "last_payment_error": error,
            "amount": 1099, "currency": "usd", "metadata": {"settle_key": "k"}
        }))
        .unwrap()
    }

    #[test]
    fn each_status_of_an_intent() {
        let null = serde_json::Value::Null;
        let card = |s| intent(s, &["card"], serde_json::Value::Null).charge();
        let bank = |s, e| intent(s, &["us_bank_account"], e).charge();
        assert_eq!(card("succeeded").unwrap().status, ChargeStatus::Approved);
        assert_eq!(card("processing"), Err(GatewayError::Timeout));
        assert_eq!(
            bank("processing", null.clone()).unwrap().status,
            ChargeStatus::Pending
        );
        assert_eq!(
            bank("succeeded", null.clone()).unwrap().status,
            ChargeStatus::Settled
        );
        let declined = intent(
            "requires_payment_method",
            &["card"],
            json!({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                   "message": "Your card has insufficient funds."}),
        )
        .charge()
        .unwrap();
        assert_eq!(declined.status, ChargeStatus::Declined);
        assert_eq!(declined.code.as_deref(), Some("insufficient_funds"));
        let returned = bank(
            "requires_payment_method",
            json!({"type": "invalid_request_error", "code": "payment_method_account_closed",
                   "message": "The bank account has been closed."}),
        )
        .unwrap();
        assert_eq!(returned.status, ChargeStatus::Returned);
        assert_eq!(
            returned.code.as_deref(),
            Some("payment_method_account_closed")
        );
        let action = card("requires_action").unwrap();
        assert_eq!(action.status, ChargeStatus::Declined);
        assert_eq!(action.message.as_deref(), Some(NEEDS_CARDHOLDER));
        assert_eq!(card("canceled").unwrap().status, ChargeStatus::Declined);
        assert!(matches!(
            card("requires_capture"),
            Err(GatewayError::Refused(_))
        ));
    }

    #[test]
    fn each_kind_of_refusal() {
        let body = |v: serde_json::Value| v.to_string().into_bytes();
        let declined = refusal(
            402,
            &body(
                json!({"error": {"type": "card_error", "code": "card_declined",
                "decline_code": "generic_decline", "message": "Your card was declined.",
                "payment_intent": {"id": "pi_9", "status": "requires_payment_method"}}}),
            ),
        );
        assert_eq!(
            declined,
            Refusal::Answer(Ok(Charge {
                id: "pi_9".into(),
                status: ChargeStatus::Declined,
                code: Some("generic_decline".into()),
                message: Some("Your card was declined.".into()),
            }))
        );
        assert!(matches!(
            refusal(400, &body(json!({"error": {"type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}}))),
            Refusal::Answer(Err(GatewayError::Refused(m))) if m.contains("same key")
        ));
        assert!(matches!(
            refusal(
                409,
                &body(json!({"error": {"type": "idempotency_error", "message": "in progress"}}))
            ),
            Refusal::Answer(Err(GatewayError::Refused(_)))
        ));
        assert_eq!(refusal(429, b"{}"), Refusal::RetryLater);
        assert_eq!(
            refusal(503, b"upstream"),
            Refusal::Answer(Err(GatewayError::Timeout))
        );
        assert!(matches!(
            refusal(
                401,
                &body(
                    json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
                )
            ),
            Refusal::Answer(Err(GatewayError::Unavailable(_)))
        ));
        assert_eq!(
            refusal(
                404,
                &body(
                    json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                "message": "No such payment_method: 'pm_x'"}})
                )
            ),
            Refusal::Answer(Err(GatewayError::Refused(
                "No such payment_method: 'pm_x'".into()
            )))
        );
    }
}

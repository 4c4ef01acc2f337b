//! The sandbox tokenizer's front door, as a hosted gateway's: it checks what the payer typed
//! and issues a token. With a hosted gateway the browser talks to the gateway instead.

use super::{GatewayError, PaymentGateway};
use chrono::NaiveDate;
use shared::bank::{check_account_number, RoutingNumber};
use shared::card::{check_cvc, check_postal_code, CardExpiry, CardNumber};
use shared::error::FieldError;
use shared::method::check_holder_name;
use shared::method::{TokenizeRequest, TokenizeResponse};

/// Why the tokenizer refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizeRefusal {
    /// A field the payer typed is wrong.
    Field(FieldError),
    Gateway(GatewayError),
}

impl From<GatewayError> for TokenizeRefusal {
    fn from(e: GatewayError) -> Self {
        TokenizeRefusal::Gateway(e)
    }
}

/// The tokenizer's front door, as a hosted gateway's: checks what the payer typed (card
/// number, expiry, security code, postal code; routing and account number), then issues a
/// token. The numbers are used here and dropped; only the token and display fields leave.
pub async fn tokenize(
    gateway: &dyn PaymentGateway,
    request: &TokenizeRequest,
    today: NaiveDate,
) -> Result<TokenizeResponse, TokenizeRefusal> {
    let field = TokenizeRefusal::Field;
    match request {
        TokenizeRequest::Card {
            number,
            exp_month,
            exp_year,
            cvc,
            postal_code,
            holder_name,
        } => {
            check_holder_name(holder_name).map_err(field)?;
            let number = CardNumber::parse(number).map_err(field)?;
            let expiry = CardExpiry::new(*exp_month, *exp_year, today).map_err(field)?;
            check_cvc(cvc, Some(number.brand())).map_err(field)?;
            check_postal_code(postal_code).map_err(field)?;
            let token = gateway
                .tokenize_card(&number, expiry.month, expiry.year)
                .await
                .map_err(TokenizeRefusal::Gateway)?;
            Ok(TokenizeResponse {
                token: token.token,
                last4: token.last4,
                brand: Some(token.brand),
                exp_month: Some(expiry.month),
                exp_year: Some(expiry.year),
                routing_number: None,
                bank_name: None,
            })
        }
        TokenizeRequest::BankAccount {
            routing_number,
            account_number,
            holder_name,
            account_type,
        } => {
            check_holder_name(holder_name).map_err(field)?;
            let routing = RoutingNumber::parse(routing_number).map_err(field)?;
            let account = check_account_number(account_number, account_number).map_err(field)?;
            let kind = account_type
                .as_deref()
                .map(|k| shared::bank::AccountType::parse(k).map(|t| t.as_str()))
                .transpose()
                .map_err(field)?;
            let token = gateway
                .tokenize_bank_account(&super::BankAccountNumbers {
                    routing_number: routing.as_str(),
                    account_number: &account,
                    holder_name,
                    account_type: kind,
                })
                .await
                .map_err(TokenizeRefusal::Gateway)?;
            Ok(TokenizeResponse {
                token,
                last4: account[account.len() - 4..].to_string(),
                brand: None,
                exp_month: None,
                exp_year: None,
                bank_name: routing.bank_name().map(str::to_string),
                routing_number: Some(routing.as_str().to_string()),
            })
        }
    }
}

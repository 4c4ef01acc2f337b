//! Saved payment methods: adding one from a gateway token ([`add`]), activating and making
//! the default ([`manage`]), the lists and a method's detail ([`query`]), and the ACH debit
//! authorization documents ([`documents`]) — each change with an audit row in its transaction.
//!
//! A deactivation takes the method's row lock, so it waits for a payment that is already
//! checking the method, and every payment that starts after it sees the method inactive.

/// The [`MethodRow`] in a row that selects its columns under their own names (a `query!`
/// record with more columns, or another row type). Defined before the submodules, so each of
/// them sees it.
macro_rules! method_row {
    ($r:ident) => {
        $crate::methods::MethodRow {
            id: $r.id,
            kind: $r.kind,
            holder_name: $r.holder_name,
            last4: $r.last4,
            card_brand: $r.card_brand,
            card_funding: $r.card_funding,
            exp_month: $r.exp_month,
            exp_year: $r.exp_year,
            bank_name: $r.bank_name,
            account_type: $r.account_type,
            is_default: $r.is_default,
        }
    };
}

mod add;
mod documents;
mod manage;
mod query;

pub use add::{add_bank_account, add_card};
pub use documents::{clear_unattached_documents, document_file, store_document};
pub use manage::{set_active, set_default};
pub(crate) use query::lock_for_payment;
pub use query::{active_methods, company_methods, detail, offered_through_link, search};

use crate::{Error, Result};
use shared::bank::AccountType;
use shared::card::{CardBrand, CardFunding};
use shared::method::{Instrument, MethodKind, MethodOption};
use shared::{AppError, MethodId};

/// A `payment_methods` row as every query here reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct MethodRow {
    pub id: MethodId,
    pub kind: MethodKind,
    pub holder_name: String,
    pub last4: String,
    pub card_brand: Option<CardBrand>,
    pub card_funding: Option<CardFunding>,
    pub exp_month: Option<i16>,
    pub exp_year: Option<i16>,
    pub bank_name: Option<String>,
    pub account_type: Option<AccountType>,
    pub is_default: bool,
}

impl MethodRow {
    /// The method as a payer chooses it. A row missing what its kind needs is an error,
    /// never a guess.
    pub fn into_option(self) -> Result<MethodOption> {
        let broken = |what: &str| Error::Other(format!("payment method {}: {what}", self.id));
        let instrument = match self.kind {
            MethodKind::Card => Instrument::Card {
                brand: self
                    .card_brand
                    .ok_or_else(|| broken("a card without a brand"))?,
                exp_month: self
                    .exp_month
                    .and_then(|m| u32::try_from(m).ok())
                    .ok_or_else(|| broken("a card without an expiry month"))?,
                exp_year: i32::from(
                    self.exp_year
                        .ok_or_else(|| broken("a card without an expiry year"))?,
                ),
                funding: self.card_funding.unwrap_or_default(),
            },
            MethodKind::Ach => Instrument::Ach {
                bank_name: self.bank_name,
                account_type: self
                    .account_type
                    .ok_or_else(|| broken("an account without a type"))?,
            },
        };
        Ok(MethodOption {
            id: self.id,
            holder_name: self.holder_name,
            last4: self.last4,
            is_default: self.is_default,
            instrument,
            label_only: false,
        })
    }
}

fn field(name: &str, message: &str) -> Error {
    AppError::invalid(name, message).into()
}

/// What a method is called when it is not found.
const METHOD: &str = "Payment method";

fn not_found() -> Error {
    AppError::NotFound(METHOD.into()).into()
}

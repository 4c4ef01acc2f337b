//! Credit on account: money a company has with the seller that no invoice holds (a payment's
//! excess, an ERP credit memo), and applying it to open invoices.

use crate::error::FieldError;
use crate::key::IdempotencyKey;
use crate::money::{check_amount, Currency, Money};
use crate::InvoiceId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One credit of a company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditView {
    /// CR-1001.
    pub number: String,
    /// Where it came from: "Payment P-1042 (on account)", "Credit memo CM-7".
    pub source: String,
    pub amount: Money,
    /// What is left to apply or refund.
    pub remaining: Money,
    /// Its payment has not cleared yet (processing, or an ACH debit not yet settled): it can be
    /// applied once it has.
    pub waiting: bool,
    pub created_at: DateTime<Utc>,
}

/// A company's credit on account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditSummary {
    /// What can be applied now.
    pub available: Money,
    /// What will be once its payments clear.
    pub waiting: Money,
    /// The credits with something left, oldest first.
    pub credits: Vec<CreditView>,
}

impl CreditSummary {
    pub fn none(currency: Currency) -> Self {
        CreditSummary {
            available: Money::zero(currency),
            waiting: Money::zero(currency),
            credits: Vec::new(),
        }
    }

    /// Whether there is any credit to show.
    pub fn is_empty(&self) -> bool {
        self.available.is_zero() && self.waiting.is_zero()
    }
}

/// The form field of the credit applied to an invoice: `credit_<invoice id>`.
pub fn credit_field(invoice_id: InvoiceId) -> String {
    format!("credit_{invoice_id}")
}

/// One invoice and the credit to apply to it, as the form sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLineInput {
    pub invoice_id: InvoiceId,
    pub amount: Money,
}

/// Applying credit, as the form sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyCreditInput {
    /// The Company ID staff apply for; a customer applies to their own.
    pub company: String,
    pub lines: Vec<CreditLineInput>,
    /// Made when the dialog opens: the same key is the same application.
    pub idempotency_key: String,
}

/// A checked application of credit: each invoice once, each amount above zero. The invoices'
/// balances and the credit left are checked again under lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyCredit {
    pub lines: Vec<CreditLineInput>,
    pub key: IdempotencyKey,
    total: Money,
}

impl ApplyCredit {
    pub const MAX_LINES: usize = 500;

    /// Lines of zero are left out (the form has a field for every invoice).
    pub fn parse(input: &ApplyCreditInput, currency: Currency) -> Result<Self, FieldError> {
        let key = IdempotencyKey::parse(&input.idempotency_key)?;
        let mut lines: Vec<CreditLineInput> = Vec::new();
        for l in input.lines.iter().filter(|l| !l.amount.is_zero()) {
            if lines.iter().any(|x| x.invoice_id == l.invoice_id) {
                return Err(FieldError::new(
                    "invoices",
                    "An invoice is in the application twice.",
                ));
            }
            let amount = check_amount(&credit_field(l.invoice_id), l.amount, currency)?;
            lines.push(CreditLineInput {
                invoice_id: l.invoice_id,
                amount,
            });
        }
        if lines.is_empty() {
            return Err(FieldError::new(
                "invoices",
                "Enter the credit to apply to at least one invoice.",
            ));
        }
        if lines.len() > Self::MAX_LINES {
            return Err(FieldError::new(
                "invoices",
                format!(
                    "Apply credit to at most {} invoices at once.",
                    Self::MAX_LINES
                ),
            ));
        }
        let total = Money::sum(currency, lines.iter().map(|l| &l.amount))
            .filter(Money::within_limit)
            .ok_or_else(|| {
                FieldError::new("invoices", "That is more credit than any company has.")
            })?;
        Ok(ApplyCredit { lines, key, total })
    }

    pub fn total(&self) -> Money {
        self.total
    }
}

/// Spreads `credit` over invoices with these balances, oldest due first (the order given),
/// each up to its balance: what the dialog proposes.
pub fn proposal(credit: Money, balances: &[Money]) -> Vec<Money> {
    let mut left = credit.amount();
    balances
        .iter()
        .map(|b| {
            let take = left.min(b.amount()).max(rust_decimal::Decimal::ZERO);
            left -= take;
            Money::new(take, b.currency())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn usd(s: &str) -> Money {
        Money::usd(Decimal::from_str(s).unwrap())
    }

    fn input(lines: &[(i64, &str)]) -> ApplyCreditInput {
        ApplyCreditInput {
            company: "C1001".into(),
            lines: lines
                .iter()
                .map(|(id, a)| CreditLineInput {
                    invoice_id: InvoiceId(*id),
                    amount: usd(a),
                })
                .collect(),
            idempotency_key: "6f1c8a52-3f0e-4a55-9a42-1d2b3c4d5e6f".into(),
        }
    }

    #[test]
    fn zero_lines_are_left_out_and_the_rest_checked_at_their_field() {
        let a = ApplyCredit::parse(&input(&[(1, "0"), (2, "12.50")]), Currency::USD).unwrap();
        assert_eq!(a.lines.len(), 1);
        assert_eq!(a.total(), usd("12.50"));
        let e = ApplyCredit::parse(&input(&[(1, "0")]), Currency::USD).unwrap_err();
        assert_eq!(e.field, "invoices");
        let e = ApplyCredit::parse(&input(&[(3, "-1")]), Currency::USD).unwrap_err();
        assert_eq!(e.field, "credit_3");
        let e = ApplyCredit::parse(&input(&[(3, "1"), (3, "2")]), Currency::USD).unwrap_err();
        assert_eq!(e.field, "invoices");
    }

    #[test]
    fn the_proposal_fills_the_oldest_first_and_never_past_a_balance() {
        let p = proposal(usd("150"), &[usd("100"), usd("80"), usd("10")]);
        assert_eq!(p, [usd("100"), usd("50"), usd("0")]);
        let p = proposal(usd("5"), &[usd("100")]);
        assert_eq!(p, [usd("5")]);
    }
}

//! Payment policies: how a company may pay — which methods, how little and how much per
//! payment, ACH above an amount, whether an invoice may be paid in part. The seller keeps a
//! default; a company may have its own. The server checks every payment against its company's
//! policy in every door (staff, portal, pay link); the forms check the same rules as they are
//! typed, with the same words.

use crate::error::FieldError;
use crate::method::MethodKind;
use crate::money::Money;
use crate::payment::{amount_field, PaymentLine, ON_ACCOUNT_FIELD};
use serde::{Deserialize, Serialize};

/// One policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPolicy {
    pub card_allowed: bool,
    pub ach_allowed: bool,
    /// The least one payment may be.
    pub min_amount: Option<Money>,
    /// The most one payment may be.
    pub max_amount: Option<Money>,
    /// Above this a payment must be made by ACH.
    pub ach_required_above: Option<Money>,
    /// Whether an invoice may be paid less than its balance.
    pub partial_allowed: bool,
    /// Whether a payment may carry more than its invoices (or no invoice): the excess is the
    /// company's credit on account.
    #[serde(default)]
    pub overpayment_allowed: bool,
}

impl Default for PaymentPolicy {
    /// Anything goes: the seller's default until an admin sets one.
    fn default() -> Self {
        PaymentPolicy {
            card_allowed: true,
            ach_allowed: true,
            min_amount: None,
            max_amount: None,
            ach_required_above: None,
            partial_allowed: true,
            overpayment_allowed: false,
        }
    }
}

impl PaymentPolicy {
    /// Whether a method of `kind` may be offered at all.
    pub fn allows(&self, kind: MethodKind) -> bool {
        match kind {
            MethodKind::Card => self.card_allowed,
            MethodKind::Ach => self.ach_allowed,
        }
    }

    /// Checks what a payment puts on account beyond its invoices (none is always fine).
    pub fn check_on_account(&self, on_account: Option<Money>) -> Result<(), FieldError> {
        match on_account {
            Some(m) if m.is_positive() && !self.overpayment_allowed => Err(FieldError::new(
                ON_ACCOUNT_FIELD,
                "This account does not take payments on account: pay open invoices only, up to their balances.",
            )),
            _ => Ok(()),
        }
    }

    /// Checks a payment of `total` by a method of `kind` over `lines` (each with its invoice's
    /// balance now): the first rule it breaks, at its field, in the words the payer reads.
    pub fn check(
        &self,
        kind: MethodKind,
        total: Money,
        lines: &[(&PaymentLine, Money)],
    ) -> Result<(), FieldError> {
        if !self.partial_allowed {
            if let Some((line, balance)) =
                lines.iter().find(|(l, b)| l.amount.amount() < b.amount())
            {
                return Err(FieldError::new(
                    amount_field(line.invoice_id),
                    format!(
                        "This account pays each invoice in full: enter the balance, {}.",
                        balance.display()
                    ),
                ));
            }
        }
        if let Some(min) = self.min_amount {
            if total.amount() < min.amount() {
                return Err(FieldError::new(
                    "invoices",
                    format!("A payment for this account is at least {}.", min.display()),
                ));
            }
        }
        if let Some(max) = self.max_amount {
            if total.amount() > max.amount() {
                return Err(FieldError::new(
                    "invoices",
                    format!(
                        "A payment for this account is at most {}: pay these invoices in more than one payment.",
                        max.display()
                    ),
                ));
            }
        }
        if !self.allows(kind) {
            return Err(FieldError::new(
                "method",
                match kind {
                    MethodKind::Card => "This account does not pay by card: choose a bank account.",
                    MethodKind::Ach => "This account does not pay by ACH: choose a card.",
                },
            ));
        }
        if let Some(above) = self.ach_required_above {
            if kind == MethodKind::Card && total.amount() > above.amount() {
                return Err(FieldError::new(
                    "method",
                    format!(
                        "Payments over {} must be made by ACH for this account.",
                        above.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The rules in words, for the payer before they pay ("Card or ACH · ACH above $25,000.00").
    pub fn summary(&self) -> Vec<String> {
        let mut said = Vec::new();
        said.push(
            match (self.card_allowed, self.ach_allowed) {
                (true, true) => "Card or ACH",
                (true, false) => "Card only",
                _ => "ACH only",
            }
            .to_string(),
        );
        if let Some(above) = self.ach_required_above {
            said.push(format!("ACH above {}", above.display()));
        }
        match (self.min_amount, self.max_amount) {
            (Some(min), Some(max)) => said.push(format!(
                "{} to {} per payment",
                min.display(),
                max.display()
            )),
            (Some(min), None) => said.push(format!("at least {} per payment", min.display())),
            (None, Some(max)) => said.push(format!("at most {} per payment", max.display())),
            (None, None) => {}
        }
        if !self.partial_allowed {
            said.push("invoices paid in full".into());
        }
        if self.overpayment_allowed {
            said.push("payments on account accepted".into());
        }
        said
    }
}

/// A company's policy as the forms see it: the seller's default, the company's own (if it has
/// one), and whether staff may pay outside it with a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub default: PaymentPolicy,
    pub own: Option<PaymentPolicy>,
    pub staff_may_override: bool,
    /// What the company's credit-card payments carry.
    #[serde(default)]
    pub surcharge: crate::surcharge::CompanySurcharge,
}

impl PolicyView {
    /// The policy the company pays under.
    pub fn in_force(&self) -> &PaymentPolicy {
        self.own.as_ref().unwrap_or(&self.default)
    }
}

/// A policy as the admin's form sends it: amounts as typed (empty for none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInput {
    pub card_allowed: bool,
    pub ach_allowed: bool,
    #[serde(default)]
    pub min_amount: String,
    #[serde(default)]
    pub max_amount: String,
    #[serde(default)]
    pub ach_required_above: String,
    pub partial_allowed: bool,
    #[serde(default)]
    pub overpayment_allowed: bool,
}

impl PolicyInput {
    /// The checked policy; every error names its field.
    pub fn parse(&self, currency: crate::money::Currency) -> Result<PaymentPolicy, FieldError> {
        let amount = |field: &str, typed: &str| -> Result<Option<Money>, FieldError> {
            if typed.trim().is_empty() {
                return Ok(None);
            }
            crate::payment::parse_amount(field, typed, currency).map(Some)
        };
        if !self.card_allowed && !self.ach_allowed {
            return Err(FieldError::new(
                "methods",
                "Allow at least one way to pay: card, ACH or both.",
            ));
        }
        let min_amount = amount("min_amount", &self.min_amount)?;
        let max_amount = amount("max_amount", &self.max_amount)?;
        if let (Some(min), Some(max)) = (min_amount, max_amount) {
            if min.amount() > max.amount() {
                return Err(FieldError::new(
                    "max_amount",
                    format!("Enter at least the minimum, {}.", min.display()),
                ));
            }
        }
        let ach_required_above = amount("ach_required_above", &self.ach_required_above)?;
        if ach_required_above.is_some() && !self.ach_allowed {
            return Err(FieldError::new(
                "ach_required_above",
                "ACH is not allowed: leave this empty, or allow ACH.",
            ));
        }
        if ach_required_above.is_some() && !self.card_allowed {
            return Err(FieldError::new(
                "ach_required_above",
                "Cards are not allowed at all: leave this empty.",
            ));
        }
        Ok(PaymentPolicy {
            card_allowed: self.card_allowed,
            ach_allowed: self.ach_allowed,
            min_amount,
            max_amount,
            ach_required_above,
            partial_allowed: self.partial_allowed,
            overpayment_allowed: self.overpayment_allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::InvoiceId;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn usd(s: &str) -> Money {
        Money::usd(Decimal::from_str(s).unwrap())
    }

    fn line(id: i64, amount: &str) -> PaymentLine {
        PaymentLine {
            invoice_id: InvoiceId(id),
            amount: usd(amount),
            short_pay_code: None,
            short_pay_reason: None,
        }
    }

    #[test]
    fn each_rule_is_refused_at_its_field_in_the_payers_words() {
        let p = PaymentPolicy {
            card_allowed: true,
            ach_allowed: true,
            min_amount: Some(usd("50")),
            max_amount: Some(usd("100000")),
            ach_required_above: Some(usd("25000")),
            partial_allowed: false,
            overpayment_allowed: false,
        };
        let on_account = p.check_on_account(Some(usd("5"))).unwrap_err();
        assert_eq!(on_account.field, "on_account");
        assert!(p.check_on_account(None).is_ok());
        let full = line(1, "30000");
        let lines = [(&full, usd("30000"))];
        let e = p.check(MethodKind::Card, usd("30000"), &lines).unwrap_err();
        assert_eq!(e.field, "method");
        assert_eq!(
            e.message,
            "Payments over $25,000.00 must be made by ACH for this account."
        );
        assert!(p.check(MethodKind::Ach, usd("30000"), &lines).is_ok());
        let short = line(2, "10");
        let e = p
            .check(MethodKind::Ach, usd("10"), &[(&short, usd("40"))])
            .unwrap_err();
        assert_eq!(e.field, "amount_2");
        assert!(e.message.contains("$40.00"), "{}", e.message);
        let small = line(3, "10");
        let e = p
            .check(MethodKind::Card, usd("10"), &[(&small, usd("10"))])
            .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("invoices", "A payment for this account is at least $50.00.")
        );
        let big = line(4, "200000");
        let e = p
            .check(MethodKind::Ach, usd("200000"), &[(&big, usd("200000"))])
            .unwrap_err();
        assert_eq!(e.field, "invoices");
        let ach_only = PaymentPolicy {
            card_allowed: false,
            ..PaymentPolicy::default()
        };
        let e = ach_only
            .check(MethodKind::Card, usd("10"), &[(&small, usd("10"))])
            .unwrap_err();
        assert_eq!(e.field, "method");
        assert!(PaymentPolicy::default()
            .check(MethodKind::Card, usd("10"), &[(&short, usd("40"))])
            .is_ok());
    }

    #[test]
    fn the_admins_form_is_checked_field_by_field() {
        let input = |card, ach, min: &str, max: &str, above: &str| PolicyInput {
            card_allowed: card,
            ach_allowed: ach,
            min_amount: min.into(),
            max_amount: max.into(),
            ach_required_above: above.into(),
            partial_allowed: true,
            overpayment_allowed: false,
        };
        let field = |i: PolicyInput| i.parse(Currency::USD).unwrap_err().field;
        assert_eq!(field(input(false, false, "", "", "")), "methods");
        assert_eq!(field(input(true, true, "100", "50", "")), "max_amount");
        assert_eq!(field(input(true, true, "-1", "", "")), "min_amount");
        assert_eq!(
            field(input(true, false, "", "", "25000")),
            "ach_required_above"
        );
        assert_eq!(
            field(input(false, true, "", "", "25000")),
            "ach_required_above"
        );
        let p = input(true, true, "", "1,000", "500")
            .parse(Currency::USD)
            .unwrap();
        assert_eq!(p.max_amount, Some(usd("1000")));
        assert_eq!(
            p.summary(),
            [
                "Card or ACH",
                "ACH above $500.00",
                "at most $1,000.00 per payment"
            ]
        );
    }
}

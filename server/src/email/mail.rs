//! What one email reports, typed per kind: the outbox row's `data` is read only through
//! [`Mail::read`] (a message whose data does not fit its kind fails with the reason, it is
//! never sent with blanks) and written only through [`Mail::data`]. Payments and methods are
//! the events' own payload ([`shared::event`]); the subject is composed here, in Rust.

use crate::links::Purpose;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shared::email::EmailKind;
use shared::event::{amount, CompanyRef, Method, Payment};
use shared::{Currency, Money};

/// The link a message carries (its token is made from the row's nonce when it is sent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    #[serde(with = "purpose")]
    pub purpose: Purpose,
    /// The `user_tokens` or `pay_links` row.
    pub id: i64,
}

mod purpose {
    use crate::links::Purpose;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Purpose, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Purpose, D::Error> {
        let raw = String::deserialize(d)?;
        Purpose::parse(&raw).ok_or_else(|| D::Error::custom(format!("no link purpose {raw:?}")))
    }
}

/// A returned ACH debit and the invoices it reopened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Returned {
    #[serde(flatten)]
    pub payment: Payment,
    pub reopened: Vec<Reopened>,
}

/// One invoice a return reopened: what the payment had put on it, its balance now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopened {
    pub invoice: String,
    #[serde(with = "amount")]
    pub amount: Decimal,
    #[serde(with = "amount")]
    pub balance: Decimal,
}

/// An invitation to sign up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub link: LinkRef,
    pub email: String,
    pub invited_by: String,
    /// The customer company, for a customer user.
    pub company_name: Option<String>,
    /// "an admin", "a clerk", "a customer user".
    pub role_label: String,
}

/// A password-reset link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reset {
    pub link: LinkRef,
    pub email: String,
}

/// A pay link to a company's AP contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayLink {
    pub link: LinkRef,
    pub sent_by: String,
    pub company_name: String,
    pub invoices: Vec<LinkInvoice>,
    #[serde(with = "amount")]
    pub total: Decimal,
    /// The seller's currency (links sent before it was kept were in USD, then the only one).
    #[serde(default)]
    pub currency: Currency,
    pub expires_at: DateTime<Utc>,
}

/// One invoice of a pay link, as it stood when sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInvoice {
    pub number: String,
    #[serde(with = "amount")]
    pub balance: Decimal,
}

/// To the clerk who sent a pay link: it was locked after repeated declines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayLinkLocked {
    pub company: CompanyRef,
    /// The address the link was sent to.
    pub payer: String,
    pub declines: i32,
}

/// A month's statement to a company's AP contacts (the PDF kept in `statements`, attached).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementMail {
    pub statement_id: i64,
    pub company_name: String,
    pub company_code: String,
    /// `November 2026`.
    pub month: String,
    #[serde(with = "amount")]
    pub amount_due: Decimal,
    #[serde(default)]
    pub currency: Currency,
    pub file_name: String,
    /// The pay link the statement carries (none: the message points to the portal).
    pub link: Option<LinkRef>,
}

/// What one email reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mail {
    PaymentReceipt(Box<Payment>),
    AchReturned(Box<Returned>),
    CardExpiring(Box<Method>),
    MethodAdded(Box<Method>),
    MethodDeactivated(Box<Method>),
    Invitation(Invitation),
    PasswordReset(Reset),
    PayLink(PayLink),
    PayLinkLocked(PayLinkLocked),
    RefundReceipt(Box<Payment>),
    Statement(Box<StatementMail>),
}

impl Mail {
    /// The outbox row's data, read as its kind says.
    pub fn read(kind: EmailKind, data: &Json) -> Result<Mail> {
        fn as_<T: serde::de::DeserializeOwned>(kind: EmailKind, data: &Json) -> Result<T> {
            T::deserialize(data).map_err(|e| {
                Error::Other(format!(
                    "the {} message's data is not readable: {e}",
                    kind.as_str()
                ))
            })
        }
        Ok(match kind {
            EmailKind::PaymentReceipt => Mail::PaymentReceipt(as_(kind, data)?),
            EmailKind::AchReturned => Mail::AchReturned(as_(kind, data)?),
            EmailKind::CardExpiring => Mail::CardExpiring(as_(kind, data)?),
            EmailKind::MethodAdded => Mail::MethodAdded(as_(kind, data)?),
            EmailKind::MethodDeactivated => Mail::MethodDeactivated(as_(kind, data)?),
            EmailKind::Invitation => Mail::Invitation(as_(kind, data)?),
            EmailKind::PasswordReset => Mail::PasswordReset(as_(kind, data)?),
            EmailKind::PayLink => Mail::PayLink(as_(kind, data)?),
            EmailKind::PayLinkLocked => Mail::PayLinkLocked(as_(kind, data)?),
            EmailKind::RefundReceipt => Mail::RefundReceipt(as_(kind, data)?),
            EmailKind::Statement => Mail::Statement(as_(kind, data)?),
        })
    }

    pub fn kind(&self) -> EmailKind {
        match self {
            Mail::PaymentReceipt(_) => EmailKind::PaymentReceipt,
            Mail::AchReturned(_) => EmailKind::AchReturned,
            Mail::CardExpiring(_) => EmailKind::CardExpiring,
            Mail::MethodAdded(_) => EmailKind::MethodAdded,
            Mail::MethodDeactivated(_) => EmailKind::MethodDeactivated,
            Mail::Invitation(_) => EmailKind::Invitation,
            Mail::PasswordReset(_) => EmailKind::PasswordReset,
            Mail::PayLink(_) => EmailKind::PayLink,
            Mail::PayLinkLocked(_) => EmailKind::PayLinkLocked,
            Mail::RefundReceipt(_) => EmailKind::RefundReceipt,
            Mail::Statement(_) => EmailKind::Statement,
        }
    }

    /// The row's data.
    pub fn data(&self) -> Json {
        let value = match self {
            Mail::PaymentReceipt(p) | Mail::RefundReceipt(p) => serde_json::to_value(p),
            Mail::AchReturned(r) => serde_json::to_value(r),
            Mail::CardExpiring(m) | Mail::MethodAdded(m) | Mail::MethodDeactivated(m) => {
                serde_json::to_value(m)
            }
            Mail::Invitation(i) => serde_json::to_value(i),
            Mail::PasswordReset(r) => serde_json::to_value(r),
            Mail::PayLink(l) => serde_json::to_value(l),
            Mail::PayLinkLocked(l) => serde_json::to_value(l),
            Mail::Statement(st) => serde_json::to_value(st),
        };
        value.expect("mail data serializes")
    }

    /// The link the message carries, when it carries a token.
    pub fn link(&self) -> Option<&LinkRef> {
        match self {
            Mail::Invitation(i) => Some(&i.link),
            Mail::PasswordReset(r) => Some(&r.link),
            Mail::PayLink(l) => Some(&l.link),
            Mail::Statement(st) => st.link.as_ref(),
            _ => None,
        }
    }

    /// The statement it carries.
    pub fn statement(&self) -> Option<&StatementMail> {
        match self {
            Mail::Statement(st) => Some(st),
            _ => None,
        }
    }

    /// The payment it reports.
    pub fn payment(&self) -> Option<&Payment> {
        match self {
            Mail::PaymentReceipt(p) | Mail::RefundReceipt(p) => Some(p),
            Mail::AchReturned(r) => Some(&r.payment),
            _ => None,
        }
    }

    /// The saved method it reports.
    pub fn method(&self) -> Option<&Method> {
        match self {
            Mail::CardExpiring(m) | Mail::MethodAdded(m) | Mail::MethodDeactivated(m) => Some(m),
            _ => None,
        }
    }

    /// The customer company's name.
    pub fn company_name(&self) -> Option<&str> {
        match self {
            Mail::PaymentReceipt(p) | Mail::RefundReceipt(p) => Some(&p.company.name),
            Mail::AchReturned(r) => Some(&r.payment.company.name),
            Mail::CardExpiring(m) | Mail::MethodAdded(m) | Mail::MethodDeactivated(m) => {
                Some(&m.company.name)
            }
            Mail::Invitation(i) => i.company_name.as_deref(),
            Mail::PasswordReset(_) => None,
            Mail::PayLink(l) => Some(&l.company_name),
            Mail::PayLinkLocked(l) => Some(&l.company.name),
            Mail::Statement(st) => Some(&st.company_name),
        }
    }

    /// The subject line.
    pub fn subject(&self) -> String {
        match self {
            Mail::PaymentReceipt(p) => format!(
                "Payment receipt {}: {} from {}",
                p.id,
                p.money(),
                p.company.name
            ),
            Mail::RefundReceipt(p) => format!(
                "Refund {}: {} of payment {} to {}",
                p.refund.as_deref().unwrap_or(""),
                p.the_refund()
                    .map(|r| Money::new(r.amount, p.currency))
                    .unwrap_or_else(|| p.money()),
                p.id,
                p.company.name
            ),
            Mail::AchReturned(r) => format!(
                "ACH payment returned: {} ({}) from {}",
                r.payment.id,
                r.payment.money(),
                r.payment.company.name
            ),
            Mail::CardExpiring(m) => format!(
                "Your {} expires soon: update it for {}",
                m.label(),
                m.company.name
            ),
            Mail::MethodAdded(m) => format!(
                "Security notice: a payment method was added for {}",
                m.company.name
            ),
            Mail::MethodDeactivated(m) => format!(
                "Security notice: a payment method was deactivated for {}",
                m.company.name
            ),
            Mail::Invitation(_) => "You are invited to Settle".into(),
            Mail::PasswordReset(_) => "Reset your Settle password".into(),
            Mail::PayLink(l) => format!(
                "{} sent you a link to pay {} of {}",
                l.sent_by,
                Money::new(l.total, l.currency),
                l.company_name
            ),
            Mail::PayLinkLocked(l) => format!(
                "A pay link to {} of {} was locked after {} declined payments",
                l.payer, l.company.name, l.declines
            ),
            Mail::Statement(st) => format!(
                "Statement for {}: {} due from {}",
                st.month,
                Money::new(st.amount_due, st.currency),
                st.company_name
            ),
        }
    }
}

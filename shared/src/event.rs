//! What an event says: a payment or a saved method as it stood when it changed. One shape, read
//! and written through these types only, for the payments feed and its OpenAPI document, the
//! webhooks' bodies and the emails' templates and subjects. The database writes it at commit
//! (`payment_json`, `method_json`: migrations 0009 and 0013) as plain values (amounts as their
//! decimal text, names as the columns hold them); a field missing or of another type is an
//! error where it is read, never a default.

use crate::auth::Role;
use crate::bank::AccountType;
use crate::card::CardBrand;
use crate::method::MethodKind;
use crate::money::{Currency, Money};
use crate::payment::{ConsentChannel, PaymentStatus};
use crate::refund::{RefundKind, RefundStatus};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An enum as the database and the wire name it (`approved`, `pay_link`): the events' names,
/// whatever the enum's own serde form (which server functions and stored answers use).
pub trait WireName: Copy + 'static {
    const ALL: &'static [Self];
    fn wire(self) -> &'static str;
}

macro_rules! wire_names {
    ($t:ty, [$($v:path => $s:literal),* $(,)?]) => {
        impl WireName for $t {
            const ALL: &'static [Self] = &[$($v),*];
            fn wire(self) -> &'static str {
                match self { $($v => $s),* }
            }
        }
    };
}

wire_names!(PaymentStatus, [
    PaymentStatus::Processing => "processing",
    PaymentStatus::Pending => "pending",
    PaymentStatus::Approved => "approved",
    PaymentStatus::Declined => "declined",
    PaymentStatus::Settled => "settled",
    PaymentStatus::Returned => "returned",
    PaymentStatus::Failed => "failed",
    PaymentStatus::Voided => "voided",
]);
wire_names!(ConsentChannel, [
    ConsentChannel::Phone => "phone",
    ConsentChannel::Email => "email",
    ConsentChannel::Other => "other",
    ConsentChannel::Portal => "portal",
    ConsentChannel::PayLink => "pay_link",
]);
wire_names!(Role, [Role::Admin => "admin", Role::Clerk => "clerk", Role::Customer => "customer"]);
wire_names!(MethodKind, [MethodKind::Card => "card", MethodKind::Ach => "ach"]);
wire_names!(CardBrand, [
    CardBrand::Visa => "visa",
    CardBrand::Mastercard => "mastercard",
    CardBrand::Amex => "amex",
    CardBrand::Discover => "discover",
]);
wire_names!(AccountType, [AccountType::Checking => "checking", AccountType::Savings => "savings"]);
wire_names!(RefundKind, [
    RefundKind::Refund => "refund",
    RefundKind::Reversal => "reversal",
    RefundKind::Dispute => "dispute",
]);
wire_names!(RefundStatus, [
    RefundStatus::AwaitingApproval => "awaiting_approval",
    RefundStatus::Refused => "refused",
    RefundStatus::Pending => "pending",
    RefundStatus::Succeeded => "succeeded",
    RefundStatus::Failed => "failed",
    RefundStatus::Cancelled => "cancelled",
]);

/// Serde by [`WireName`]: `#[serde(with = "wire")]`.
pub mod wire {
    use super::WireName;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<T: WireName, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.wire())
    }

    pub fn deserialize<'de, T: WireName, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        T::ALL
            .iter()
            .copied()
            .find(|v| v.wire() == raw)
            .ok_or_else(|| D::Error::custom(format!("unknown name {raw:?}")))
    }

    /// The same for an optional value.
    pub mod option {
        use super::super::WireName;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<T: WireName, S: Serializer>(
            v: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(v.wire()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, T: WireName, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<T>, D::Error> {
            #[derive(Deserialize)]
            struct Named<T: WireName>(#[serde(with = "super")] T);
            Ok(Option::<Named<T>>::deserialize(d)?.map(|n| n.0))
        }
    }
}

/// Amounts on the wire: the decimal with the currency's 2 places as text (`"1250.00"`).
pub mod amount {
    use rust_decimal::Decimal;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:.2}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Decimal::from_str(&raw).map_err(|_| D::Error::custom(format!("not an amount: {raw:?}")))
    }

    /// The same for an optional amount.
    pub mod option {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            #[derive(Deserialize)]
            struct Amount(#[serde(with = "super")] Decimal);
            Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
        }
    }
}

/// What `object` says a payment is (always `payment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentObject {
    Payment,
}

/// What `object` says a saved method is (always `payment_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MethodObject {
    PaymentMethod,
}

/// A company as an event names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyRef {
    /// The Company ID (`C1004`).
    pub id: String,
    pub name: String,
}

/// How a payment was made (never more than the last 4 digits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MethodSummary {
    /// `card` or `ach`.
    #[serde(with = "wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "card"))]
    pub kind: MethodKind,
    #[serde(with = "wire::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "visa"))]
    pub brand: Option<CardBrand>,
    pub bank_name: Option<String>,
    #[serde(with = "wire::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "checking"))]
    pub account_type: Option<AccountType>,
    pub last4: String,
}

impl MethodSummary {
    /// "Visa ending in 4242", "Chase checking ending in 6789".
    pub fn label(&self) -> String {
        method_label(
            self.kind,
            self.brand,
            self.bank_name.as_deref(),
            self.account_type,
            &self.last4,
        )
    }
}

fn method_label(
    kind: MethodKind,
    brand: Option<CardBrand>,
    bank_name: Option<&str>,
    account_type: Option<AccountType>,
    last4: &str,
) -> String {
    match kind {
        MethodKind::Ach => format!(
            "{} {} ending in {last4}",
            bank_name.unwrap_or("Bank"),
            account_type.map_or("account", AccountType::as_str)
        ),
        MethodKind::Card => format!(
            "{} ending in {last4}",
            brand.map_or("Card", CardBrand::label)
        ),
    }
}

/// Who took a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TakenBy {
    pub name: String,
    pub email: String,
    /// `admin`, `clerk` (staff, on the company's behalf) or `customer` (for their own company).
    #[serde(with = "wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "clerk"))]
    pub role: Role,
}

/// The payer's authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    /// `phone`, `email`, `other`, `portal` or `pay_link`.
    #[serde(with = "wire::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "phone"))]
    pub channel: Option<ConsentChannel>,
    pub reference: Option<String>,
}

/// Why a payment was declined or returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Failure {
    /// E.g. `card_declined`, or an ACH return code such as `R01`.
    pub code: String,
    pub message: Option<String>,
}

/// What one invoice got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    pub invoice: String,
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "250.00"))]
    pub amount: Decimal,
    /// The invoice's balance right after this payment.
    #[serde(with = "amount::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "0.00"))]
    pub balance_after: Option<Decimal>,
    /// Why less than the balance was paid: one of the seller's short-pay reason codes
    /// (`pricing`, `other`, …); null for a line paid in full, or with a reason given as text
    /// before codes.
    #[cfg_attr(feature = "openapi", schema(example = "pricing"))]
    pub short_pay_code: Option<String>,
    /// The short payment's comment (required with `other`), or its text from before codes.
    pub short_pay_reason: Option<String>,
    /// Its share of the payment's card surcharge (never part of the balance).
    #[serde(default, with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub fee: Decimal,
}

/// What a refund gives back on one invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundLine {
    pub invoice: String,
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.00"))]
    pub amount: Decimal,
}

/// A refund (money back through the gateway) or a reversal (an ERP record taken back) of a
/// payment, as it stood at the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// Settle's refund number.
    #[cfg_attr(feature = "openapi", schema(example = "R-1001"))]
    pub id: String,
    /// `refund` or `reversal`.
    #[serde(with = "wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "refund"))]
    pub kind: RefundKind,
    /// `pending`, `succeeded`, `failed` or `cancelled`.
    #[serde(with = "wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "succeeded"))]
    pub status: RefundStatus,
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.00"))]
    pub amount: Decimal,
    /// The reason's code, e.g. `duplicate`, `wrong_invoices`, `other`.
    #[cfg_attr(feature = "openapi", schema(example = "wrong_invoices"))]
    pub reason: String,
    pub lines: Vec<RefundLine>,
    pub created_at: DateTime<Utc>,
}

/// A dispute of a card payment, as the gateway reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dispute {
    /// The gateway's dispute id.
    #[cfg_attr(feature = "openapi", schema(example = "dp_1Q2w3E"))]
    pub id: String,
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.00"))]
    pub amount: Decimal,
    /// The network's reason, e.g. `fraudulent`, `product_not_received`.
    pub reason: String,
    /// The gateway's status: `needs_response`, `under_review`, `won`, `lost`, or an inquiry's
    /// `warning_*`.
    pub status: String,
    pub evidence_due_by: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A payment as it stood at the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Always `payment`.
    pub object: PaymentObject,
    /// Settle's payment number.
    #[cfg_attr(feature = "openapi", schema(example = "P-100042"))]
    pub id: String,
    /// `approved`, `pending`, `declined`, `settled` or `returned`.
    #[serde(with = "wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "approved"))]
    pub status: PaymentStatus,
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "1250.00"))]
    pub amount: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "USD"))]
    pub currency: Currency,
    pub company: CompanyRef,
    pub method: Option<MethodSummary>,
    pub taken_by: Option<TakenBy>,
    /// The Company ID the payment was made for.
    pub on_behalf_of: String,
    pub consent: Consent,
    pub failure: Option<Failure>,
    pub allocations: Vec<Allocation>,
    /// What it paid beyond its invoices, kept as the company's credit on account.
    #[serde(default, with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub on_account: Decimal,
    /// Its card surcharge (a credit card's fee on the invoices, spread over the allocations).
    #[serde(default, with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub surcharge: Decimal,
    /// The surcharge's rate in percent; null without one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "3"))]
    pub surcharge_percent: Option<Decimal>,
    /// What its refunds and reversals gave back or are giving back (pending and succeeded).
    #[serde(with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "0.00"))]
    pub refunded: Decimal,
    /// Its refunds and reversals, oldest first (those waiting for approval or refused are not
    /// shown).
    pub refunds: Vec<Refund>,
    /// The refund this event is about (`payment.refunded`, `payment.reversed`,
    /// `refund.failed`); null for the others.
    pub refund: Option<String>,
    /// Its disputes, oldest first.
    pub disputes: Vec<Dispute>,
    /// The dispute this event is about (`dispute.opened`, `dispute.closed`); null for the
    /// others.
    pub dispute: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    /// The refund this event is about.
    pub fn the_refund(&self) -> Option<&Refund> {
        let id = self.refund.as_deref()?;
        self.refunds.iter().find(|r| r.id == id)
    }

    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
}

/// A saved method as it stood at the event (never its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// Always `payment_method`.
    pub object: MethodObject,
    pub id: i64,
    pub company: CompanyRef,
    #[serde(with = "wire")]
    pub kind: MethodKind,
    #[serde(with = "wire::option")]
    pub brand: Option<CardBrand>,
    pub last4: String,
    pub exp_month: Option<i32>,
    pub exp_year: Option<i32>,
    pub bank_name: Option<String>,
    #[serde(with = "wire::option")]
    pub account_type: Option<AccountType>,
    pub holder_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl Method {
    /// "Visa ending in 4242", "Chase checking ending in 6789".
    pub fn label(&self) -> String {
        method_label(
            self.kind,
            self.brand,
            self.bank_name.as_deref(),
            self.account_type,
            &self.last4,
        )
    }
}

/// What an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventData {
    Payment(Box<Payment>),
    Method(Box<Method>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payment() -> serde_json::Value {
        json!({
            "object": "payment", "id": "P-100200", "status": "approved", "amount": "1234.50",
            "currency": "USD", "company": {"id": "C1004", "name": "Acme"},
            "method": {"kind": "card", "brand": "visa", "bank_name": null, "account_type": null, "last4": "4242"},
            "taken_by": {"name": "Carla", "email": "c@x.example", "role": "clerk"},
            "on_behalf_of": "C1004", "consent": {"channel": "pay_link", "reference": "r"},
            "failure": null,
            "allocations": [{"invoice": "INV-1", "amount": "1000.00", "balance_after": "0.00", "short_pay_code": null, "short_pay_reason": null, "fee": "30.00"}],
            "on_account": "204.50", "surcharge": "30.00", "surcharge_percent": "3",
            "refunded": "25.00",
            "refunds": [{"id": "R-1001", "kind": "refund", "status": "succeeded", "amount": "25.00",
                         "reason": "duplicate", "lines": [{"invoice": "INV-1", "amount": "25.00"}],
                         "created_at": "2026-11-30T10:00:00Z"}],
            "refund": "R-1001",
            "disputes": [], "dispute": null,
            "created_at": "2026-11-29T10:00:00Z", "updated_at": "2026-11-29T10:00:00Z"
        })
    }

    #[test]
    fn a_payment_reads_and_writes_the_same_json() {
        let p: Payment = serde_json::from_value(payment()).unwrap();
        assert_eq!(p.status, PaymentStatus::Approved);
        assert_eq!(p.consent.channel, Some(ConsentChannel::PayLink));
        assert_eq!(p.money().display(), "$1,234.50");
        assert_eq!(p.method.as_ref().unwrap().label(), "Visa ending in 4242");
        assert_eq!(serde_json::to_value(&p).unwrap(), payment());
        assert_eq!(p.the_refund().unwrap().status, RefundStatus::Succeeded);
        assert!(matches!(
            serde_json::from_value::<EventData>(payment()).unwrap(),
            EventData::Payment(_)
        ));
    }

    #[test]
    fn a_missing_or_mistyped_field_is_an_error_not_a_default() {
        for (field, value) in [
            ("status", json!("Approved")),
            ("amount", json!(1234.5)),
            ("amount", json!("12,34")),
            ("object", json!("payment_method")),
            ("company", json!(null)),
        ] {
            let mut bad = payment();
            bad[field] = value;
            assert!(serde_json::from_value::<Payment>(bad).is_err(), "{field}");
        }
        let mut bad = payment();
        bad.as_object_mut().unwrap().remove("allocations");
        assert!(serde_json::from_value::<Payment>(bad).is_err());
        let mut bad = payment();
        bad["refunds"][0]["status"] = json!("Succeeded");
        assert!(serde_json::from_value::<Payment>(bad).is_err());
    }

    #[test]
    fn amounts_keep_two_places() {
        let a = Allocation {
            invoice: "I".into(),
            amount: Decimal::new(5, 0),
            balance_after: Some(Decimal::new(125, 1)),
            short_pay_code: Some("pricing".into()),
            short_pay_reason: None,
            fee: Decimal::new(15, 2),
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"invoice": "I", "amount": "5.00", "balance_after": "12.50",
                   "short_pay_code": "pricing", "short_pay_reason": null, "fee": "0.15"})
        );
    }
}

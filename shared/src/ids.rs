//! Typed ids: a company's id cannot be passed where a method's is meant. Each is the row's
//! `BIGINT` key, sent as a plain number.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id!(
    /// A company (a customer of the seller).
    CompanyId
);
id!(
    /// An invoice.
    InvoiceId
);
id!(
    /// A saved payment method.
    MethodId
);
id!(
    /// A payment.
    PaymentId
);
id!(
    /// A refund or a reversal of a payment.
    RefundId
);
id!(
    /// A user (staff or customer).
    UserId
);
id!(
    /// A stored document (an ACH debit authorization).
    DocumentId
);
id!(
    /// A pay link (`pay_links`).
    PayLinkId
);
id!(
    /// A message in the email outbox (`emails`).
    EmailId
);
id!(
    /// A webhook endpoint (`webhook_endpoints`).
    WebhookId
);
id!(
    /// One delivery of an event to a webhook endpoint (`webhook_deliveries`).
    DeliveryId
);
id!(
    /// An API key (`api_keys`).
    ApiKeyId
);
id!(
    /// An uploaded import (`imports`).
    ImportId
);
id!(
    /// A company's contact (`contacts`).
    ContactId
);
id!(
    /// Something that happened to a payment or a method (`events`), told to webhooks, the
    /// payments feed and email.
    EventId
);

//! Settle's domain: money, companies, invoices, users and the rules they keep.
//!
//! Pure code shared by the WASM UI and the server. No IO lives here.

pub mod ach_file;
pub mod aging;
pub mod auth;
pub mod authorization;
pub mod bank;
pub mod card;
pub mod chart;
pub mod company;
pub mod credit;
pub mod dashboard;
pub mod deposit;
pub mod document;
pub mod email;
pub mod erp;
pub mod error;
pub mod event;
pub mod format;
pub mod ids;
pub mod import;
pub mod integration;
pub mod invoice;
pub mod key;
pub mod method;
pub mod money;
pub mod page;
pub mod payment;
pub mod policy;
pub mod reason;
pub mod refund;
pub mod report;
pub mod statement;
pub mod surcharge;

pub use error::{AppError, FieldError};
pub use ids::{
    ApiKeyId, CompanyId, ContactId, DeliveryId, DocumentId, EmailId, EventId, ImportId, InvoiceId,
    MethodId, PayLinkId, PaymentId, RefundId, UserId, WebhookId,
};
pub use money::{Currency, Money};

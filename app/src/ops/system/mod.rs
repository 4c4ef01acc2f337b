//! System menu: payment methods, payments awaiting the gateway, refunds awaiting approval, and (admins) the
//! integration with the seller's ERP: API keys, webhooks, CSV import; the email outbox; staff
//! users (admins).

pub mod ach_files;
pub mod api_keys;
pub mod awaiting_gateway;
pub mod disputes;
pub mod email;
pub mod import;
pub mod payment_method;
pub mod payment_methods;
pub mod reason_codes;
pub mod refund_approvals;
pub mod staff_users;
pub mod webhooks;

//! The seller's systems talking to Settle and back: API keys, the ERP's records (companies,
//! contacts, invoices, payments recorded elsewhere), the change feed, CSV imports and
//! webhooks.

pub mod api_keys;
pub mod erp;
pub mod feed;
pub mod import;
pub mod webhooks;

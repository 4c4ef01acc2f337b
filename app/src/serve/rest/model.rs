//! What the API answers with, as the OpenAPI document describes it. Amounts are decimal
//! strings with 2 decimals (`"1250.00"`), dates `YYYY-MM-DD`, times RFC 3339.

use serde::{Deserialize, Serialize};
use shared::erp::{CompanyRecord, ContactRecord, ExternalPaymentRecord, InvoiceRecord};
use utoipa::ToSchema;

use super::problem::ProblemItem;

/// What became of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    Created,
    Updated,
    Unchanged,
    Error,
}

/// One record's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordResult {
    /// The record's position in the request (0 for a single record).
    pub index: usize,
    /// The record's key as sent: Company ID, contact email, invoice number or ERP payment id.
    pub id: String,
    pub result: ResultKind,
    /// Settle's payment number (ERP payments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    /// Why it was refused (`result` = `error`); pointers are into the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
}

/// A batch's results, one per record in order, and their counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<RecordResult>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: usize,
}

/// Up to 1,000 companies.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyBatch {
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<CompanyRecord>,
}

/// Up to 1,000 contacts.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBatch {
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<ContactRecord>,
}

/// Up to 1,000 invoices.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBatch {
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<InvoiceRecord>,
}

/// Up to 1,000 ERP payments.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalPaymentBatch {
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<ExternalPaymentRecord>,
}

/// A company with its open figures.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Company {
    #[schema(example = "C2001")]
    pub id: String,
    pub name: String,
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(example = "1250.00")]
    pub open_balance: String,
    pub open_invoices: i64,
    /// Credit on account that can be applied now (payments' excess that cleared, ERP credit
    /// memos), less what was applied or refunded.
    #[schema(example = "100.00")]
    pub unapplied_credit: String,
}

/// Credit on account to apply: the company's invoices by number, each with its amount. The
/// oldest credit is used first; nothing is applied unless all of it can be.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditApplicationRequest {
    #[schema(min_items = 1, max_items = 500)]
    pub allocations: Vec<shared::erp::ExternalAllocation>,
}

/// What an application of credit did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreditApplication {
    #[schema(example = "C2001")]
    pub company_id: String,
    #[schema(example = "250.00")]
    pub applied: String,
    /// What is left to apply.
    #[schema(example = "100.00")]
    pub unapplied_credit: String,
}

/// An invoice with the balance Settle keeps.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub company_id: String,
    pub number: String,
    pub po_number: Option<String>,
    #[schema(format = Date)]
    pub issue_date: String,
    #[schema(format = Date)]
    pub due_date: String,
    pub currency: String,
    #[schema(example = "1250.00")]
    pub total: String,
    /// The total less every payment applied (0 unless open).
    #[schema(example = "250.00")]
    pub balance: String,
    pub status: shared::erp::InvoiceStatus,
}

/// One payment event.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentEvent {
    /// The event's id (`evt_…`); the same event never comes with another id.
    #[schema(example = "evt_1042")]
    pub id: String,
    /// `payment.approved`, `payment.pending`, `payment.declined`, `payment.settled`,
    /// `payment.returned` or `payment.voided`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub data: shared::event::Payment,
}

/// A page of payment events.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentEventList {
    /// Always `list`.
    pub object: String,
    pub data: Vec<PaymentEvent>,
    /// Pass as `since` for the next page (the same value when nothing was new).
    pub next_cursor: String,
    /// More events are ready now.
    pub has_more: bool,
}

/// A company's (or the book's) aging figures, amounts as decimal strings.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgingFigures {
    /// Not yet due, or due on the day.
    pub current: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub days_91_120: String,
    pub over_120: String,
    /// The buckets' sum: the open balance on the day.
    pub open: String,
    /// Every bucket but `current`.
    pub past_due: String,
    pub unapplied_credit: String,
    pub disputed: String,
}

/// One company's line of the aging.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgingCompany {
    /// The Company ID.
    pub id: String,
    pub name: String,
    pub figures: AgingFigures,
}

/// The aging as of a day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgingReport {
    /// Always `aging`.
    pub object: String,
    /// The day (`YYYY-MM-DD`), in the seller's time zone.
    pub as_of: String,
    /// The seller's time zone (IANA name) that makes its days.
    pub time_zone: String,
    pub currency: String,
    /// How many companies matched; `data` holds the first `limit` of them.
    pub companies: u64,
    /// The totals of every company that matched.
    pub totals: AgingFigures,
    pub data: Vec<AgingCompany>,
}

//! ACH debits sent to the seller's bank as NACHA files, as staff see them (System → ACH files):
//! the files with their totals, the debits in each, and the bank's returns and notifications of
//! change with what Settle did about each.

use crate::company::CompanyCode;
use crate::money::Money;
use crate::payment::PaymentStatus;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where a file's bytes are downloaded (admins): `{id}` is the file's id.
pub const ACH_FILE_PATH: &str = "/ops/system/ach-files/{id}/file";

/// The download address of file `id`.
pub fn file_path(id: i64) -> String {
    ACH_FILE_PATH.replace("{id}", &id.to_string())
}

/// How the NACHA rail is set up, or `None` on the screen when ACH goes through the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchRail {
    pub odfi_name: String,
    pub odfi_routing: String,
    /// Cut-offs as HH:MM (UTC), on banking days.
    pub cutoffs: Vec<String>,
    pub same_day_until: Option<String>,
    pub next_cutoff: Option<DateTime<Utc>>,
    /// Debits waiting for the next file.
    pub waiting: i64,
    pub waiting_total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchFileRow {
    pub id: i64,
    pub name: String,
    pub cutoff_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub batches: i32,
    pub entries: i32,
    pub total: Money,
    pub entry_hash: i64,
    /// When it was written into the outbox folder.
    pub exported_at: Option<DateTime<Utc>>,
    /// Its debits since returned.
    pub returned: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchEntryRow {
    pub trace: String,
    pub payment_number: Option<String>,
    pub payment_status: Option<PaymentStatus>,
    pub company_code: Option<CompanyCode>,
    pub company_name: Option<String>,
    pub sec: String,
    /// The account as Settle shows it: its last four.
    pub account_last4: String,
    pub effective: NaiveDate,
    pub settles_on: NaiveDate,
    pub amount: Money,
    pub return_code: Option<String>,
}

/// A return or notification of change read from the bank, and what Settle did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchNoticeRow {
    pub at: DateTime<Utc>,
    pub file_name: String,
    /// `return` or `change`.
    pub kind: String,
    pub code: String,
    pub reason: String,
    pub trace: String,
    pub payment_number: Option<String>,
    pub company_code: Option<CompanyCode>,
    pub outcome: String,
    /// No debit Settle sent has this trace number: for staff to look into.
    pub unknown: bool,
}

/// A file from the bank that could not be read (nothing in it was applied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchUnreadFile {
    pub name: String,
    pub at: DateTime<Utc>,
    pub error: String,
}

/// System → ACH files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchFiles {
    pub rail: Option<AchRail>,
    /// The latest 100 files, newest first.
    pub files: Vec<AchFileRow>,
    /// The latest 200 returns and notices, newest first.
    pub notices: Vec<AchNoticeRow>,
    pub unread: Vec<AchUnreadFile>,
}

/// One file and its debits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AchFileDetail {
    pub file: AchFileRow,
    pub entries: Vec<AchEntryRow>,
}

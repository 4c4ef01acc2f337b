//! System → ACH files, as staff see it: the rail's set-up and what waits for the next file,
//! the files with their totals, each file's debits (accounts by their last four), the bank's
//! returns and notifications of change, and files that could not be read. Downloading a file's
//! bytes — whole account numbers — is for admins, and audited.

use super::inbox::{change_reason, return_reason};
use super::outbox::next_cutoff;
use super::settings::NachaSettings;
use crate::audit::{self, Action, Entity, Event};
use crate::authority::{Admin, Staff};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

use serde_json::json;
use shared::ach_file::{
    AchEntryRow, AchFileDetail, AchFileRow, AchFiles, AchNoticeRow, AchRail, AchUnreadFile,
};
use shared::company::CompanyCode;
use shared::money::{Currency, Money};
use shared::payment::PaymentStatus;
use shared::AppError;
use sqlx::PgPool;

fn usd(cents: i64) -> Money {
    Money::from_minor_units(cents, Currency::USD)
}

fn code(raw: Option<String>) -> Option<CompanyCode> {
    raw.and_then(|c| CompanyCode::parse(&c).ok())
}

struct FileRecord {
    id: i64,
    name: String,
    cutoff_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    batch_count: i32,
    entry_count: i32,
    total_cents: i64,
    entry_hash: i64,
    exported_at: Option<DateTime<Utc>>,
    returned: i64,
}

impl From<FileRecord> for AchFileRow {
    fn from(f: FileRecord) -> Self {
        AchFileRow {
            id: f.id,
            name: f.name,
            cutoff_at: f.cutoff_at,
            created_at: f.created_at,
            batches: f.batch_count,
            entries: f.entry_count,
            total: usd(f.total_cents),
            entry_hash: f.entry_hash,
            exported_at: f.exported_at,
            returned: f.returned,
        }
    }
}

/// The latest 100 files, newest first, or the one file `id`.
async fn files(pool: &PgPool, id: Option<i64>) -> Result<Vec<FileRecord>> {
    Ok(sqlx::query_as!(
        FileRecord,
        r#"SELECT f.id, f.name, f.cutoff_at, f.created_at, f.batch_count, f.entry_count,
                  f.total_cents, f.entry_hash, f.exported_at,
                  (SELECT count(*) FROM ach_entries e
                   WHERE e.file_id = f.id AND e.return_code IS NOT NULL) AS "returned!"
           FROM ach_files f WHERE $1::bigint IS NULL OR f.id = $1
           ORDER BY f.id DESC LIMIT 100"#,
        id
    )
    .fetch_all(pool)
    .await?)
}

/// The screen's figures at `now`.
pub async fn overview(
    pool: &PgPool,
    _staff: &Staff,
    settings: Option<&NachaSettings>,
    now: DateTime<Utc>,
) -> Result<AchFiles> {
    let rail = match settings {
        None => None,
        Some(s) => {
            let waiting = sqlx::query!(
                r#"SELECT count(*) AS "n!", COALESCE(sum(cents), 0)::bigint AS "cents!"
                   FROM ach_entries WHERE file_id IS NULL"#
            )
            .fetch_one(pool)
            .await?;
            Some(AchRail {
                odfi_name: s.odfi_name.clone(),
                odfi_routing: s.odfi.as_str().to_string(),
                cutoffs: s
                    .cutoffs
                    .iter()
                    .map(|t| t.format("%H:%M").to_string())
                    .collect(),
                same_day_until: s.same_day_until.map(|t| t.format("%H:%M").to_string()),
                next_cutoff: next_cutoff(now, &s.cutoffs),
                waiting: waiting.n,
                waiting_total: usd(waiting.cents),
            })
        }
    };
    let files = files(pool, None)
        .await?
        .into_iter()
        .map(AchFileRow::from)
        .collect();
    let notices = sqlx::query!(
        r#"SELECT n.created_at, i.name, n.kind, n.code::text AS "code!", n.original_trace::text AS "trace!",
                  p.number AS "number?", c.code AS "company?", n.outcome, n.entry_id IS NULL AS "unknown!"
           FROM ach_notices n JOIN ach_inbox_files i ON i.id = n.inbox_file_id
           LEFT JOIN payments p ON p.id = n.payment_id
           LEFT JOIN companies c ON c.id = p.company_id
           ORDER BY n.created_at DESC, n.id DESC LIMIT 200"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|n| AchNoticeRow {
        at: n.created_at,
        file_name: n.name,
        reason: if n.kind == "return" {
            return_reason(&n.code)
        } else {
            change_reason(&n.code)
        }
        .to_string(),
        kind: n.kind,
        code: n.code,
        trace: n.trace,
        payment_number: n.number,
        company_code: code(n.company),
        outcome: n.outcome,
        unknown: n.unknown,
    })
    .collect();
    let unread = sqlx::query!(
        r#"SELECT name, read_at, error AS "error!" FROM ach_inbox_files
           WHERE error IS NOT NULL ORDER BY id DESC LIMIT 50"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|f| AchUnreadFile {
        name: f.name,
        at: f.read_at,
        error: f.error,
    })
    .collect();
    Ok(AchFiles {
        rail,
        files,
        notices,
        unread,
    })
}

/// One file and its debits, by trace number.
pub async fn detail(pool: &PgPool, _staff: &Staff, id: i64) -> Result<AchFileDetail> {
    let file = files(pool, Some(id))
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("ACH file".into()))?;
    let entries = sqlx::query!(
        r#"SELECT e.trace::text AS "trace!", e.sec AS "sec!", e.effective_date AS "effective!: NaiveDate",
                  e.settles_on AS "settles_on!: NaiveDate", e.cents, e.return_code::text AS "return_code?",
                  v.last4::text AS "last4!", p.number AS "number?", p.status AS "status?: PaymentStatus",
                  c.code AS "company?", c.name AS "company_name?"
           FROM ach_entries e JOIN ach_vault v ON v.token = e.token
           LEFT JOIN payments p ON p.id = e.payment_id
           LEFT JOIN companies c ON c.id = p.company_id
           WHERE e.file_id = $1 ORDER BY e.trace"#,
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|e| AchEntryRow {
        trace: e.trace,
        payment_number: e.number,
        payment_status: e.status,
        company_code: code(e.company),
        company_name: e.company_name,
        sec: e.sec,
        account_last4: e.last4,
        effective: e.effective,
        settles_on: e.settles_on,
        amount: usd(e.cents),
        return_code: e.return_code,
    })
    .collect();
    Ok(AchFileDetail {
        file: file.into(),
        entries,
    })
}

/// A file's name and bytes, as sent (admins; audited: it holds whole account numbers).
pub async fn download(pool: &PgPool, admin: &Admin, id: i64) -> Result<(String, String)> {
    let mut tx = pool.begin().await?;
    let file = sqlx::query!("SELECT name, body FROM ach_files WHERE id = $1", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("ACH file".into()))?;
    audit::record(
        &mut tx,
        Event {
            actor: admin.actor(),
            on_behalf_of: None,
            action: Action::AchFileDownloaded,
            entity: Entity::AchFile,
            entity_id: Some(file.name.clone()),
            details: json!({ "id": id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((file.name, file.body))
}

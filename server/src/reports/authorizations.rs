//! ACH authorizations on request (migration 0027): every bank account's authorization, those of
//! accounts deactivated (revoked) within the last two years included, listed for staff and
//! exported as one zip: each document or online agreement as it was kept, and `index.csv`
//! (who signed, when, from where, what account, its SHA-256). The zip is spooled
//! ([`super::spool`]) from batches of documents so a large book never sits in memory, and
//! every export is audited.

use super::defuse;
use crate::audit::{self, Action, Entity};
use crate::authority::Staff;
use crate::tokens::hex;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use shared::authorization::{
    AgreementRecord, AuthorizationList, AuthorizationRow, AuthorizationSource,
    AuthorizationsFilter, INDEX_COLUMNS, KEPT_AFTER_REVOCATION_DAYS,
};
use shared::document::clean_file_name;
use sqlx::PgPool;
use std::io::{Seek, SeekFrom, Write};

/// The most rows the page lists (the export holds them all).
pub const PAGE_ROWS: i64 = 200;
/// Documents read from the database at a time while writing the zip.
const BATCH: i64 = 50;

/// The beginning of the record Settle keeps of an online agreement.
const AGREEMENT: &[u8] = b"ACH debit authorization ";

struct Found {
    id: i64,
    code: String,
    name: String,
    holder_name: String,
    holder_type: Option<String>,
    bank_name: Option<String>,
    routing_number: Option<String>,
    account_type: Option<String>,
    last4: String,
    content_type: String,
    file_name: String,
    sha256: Vec<u8>,
    signed_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    deactivated_at: Option<DateTime<Utc>>,
    content: Option<Vec<u8>>,
    /// How many match from this one on (the first row's is the whole count).
    matching: i64,
}

impl Found {
    fn source(&self) -> AuthorizationSource {
        let agreement = self.content_type == "text/plain"
            && self
                .content
                .as_deref()
                .is_some_and(|c| c.starts_with(AGREEMENT));
        if agreement {
            AuthorizationSource::Portal
        } else {
            AuthorizationSource::Document
        }
    }

    fn row(&self) -> AuthorizationRow {
        let source = self.source();
        let record = match source {
            AuthorizationSource::Portal => AgreementRecord::read(&String::from_utf8_lossy(
                self.content.as_deref().unwrap_or_default(),
            )),
            AuthorizationSource::Document => AgreementRecord::default(),
        };
        AuthorizationRow {
            method_id: self.id,
            company_code: self.code.clone(),
            company_name: self.name.clone(),
            account: format!(
                "{} •••• {}",
                self.bank_name.as_deref().unwrap_or("Bank account"),
                self.last4
            ),
            holder_name: self.holder_name.clone(),
            source,
            signed_by: record.signed_by.unwrap_or_else(|| self.holder_name.clone()),
            signed_at: record
                .at
                .or_else(|| self.signed_on.map(|d| d.to_string()))
                .unwrap_or_default(),
            address: record.address,
            added_at: self.created_at,
            revoked_at: self.deactivated_at,
            file_name: self.zip_name(),
        }
    }

    /// Where the document sits in the zip.
    fn zip_name(&self) -> String {
        format!(
            "{}/{}-{}",
            clean_file_name(&self.code),
            self.id,
            clean_file_name(&self.file_name)
        )
    }
}

/// The authorizations that match after method `after`, in method order, at most `limit`;
/// with each document's bytes when `content` (else only an online agreement's record).
async fn find(
    pool: &PgPool,
    f: &AuthorizationsFilter,
    after: i64,
    limit: i64,
    content: bool,
) -> Result<Vec<Found>> {
    Ok(sqlx::query_as!(
        Found,
        r#"SELECT m.id, c.code, c.name, m.holder_name, m.holder_type, m.bank_name,
                  m.routing_number::text AS routing_number, m.account_type, m.last4::text AS "last4!",
                  d.content_type, d.file_name, d.sha256, d.signed_on, m.created_at, m.deactivated_at,
                  CASE WHEN $6 OR (d.content_type = 'text/plain' AND d.size_bytes <= 65536)
                       THEN d.content END AS content,
                  count(*) OVER () AS "matching!"
           FROM payment_methods m JOIN companies c ON c.id = m.company_id
           JOIN documents d ON d.id = m.authorization_document_id
           WHERE m.kind = 'ach'
             AND (m.deactivated_at IS NULL OR m.deactivated_at > now() - make_interval(days => $7))
             AND ($1::date IS NULL OR m.created_at >= seller_day_end($1::date - 1))
             AND ($2::date IS NULL OR m.created_at < seller_day_end($2::date))
             AND ($3::text IS NULL OR c.code = $3)
             AND m.id > $4
           ORDER BY m.id
           LIMIT $5"#,
        f.from,
        f.to,
        f.company,
        after,
        limit,
        content,
        KEPT_AFTER_REVOCATION_DAYS as i32
    )
    .fetch_all(pool)
    .await?)
}

/// The first [`PAGE_ROWS`] authorizations that match and how many match in all. Staff only.
pub async fn list(
    pool: &PgPool,
    _staff: &Staff,
    f: &AuthorizationsFilter,
) -> Result<AuthorizationList> {
    let rows = find(pool, f, 0, PAGE_ROWS, false).await?;
    let total = rows.first().map_or(0, |r| r.matching);
    Ok(AuthorizationList {
        rows: rows.iter().map(Found::row).collect(),
        total: total as u64,
    })
}

/// The zip's name for a filter.
pub fn file_name(f: &AuthorizationsFilter, today: NaiveDate) -> String {
    let mut name = format!("ach-authorizations-{today}");
    if let Some(c) = &f.company {
        name.push('-');
        name.push_str(&clean_file_name(c));
    }
    name + ".zip"
}

/// An export: the zip and how many authorizations it holds.
pub struct Export {
    pub zip: super::Spooled,
    pub authorizations: u64,
}

/// Writes every matching authorization and `index.csv` into a zip, and audits the export
/// (who, the filter, how many, the zip's SHA-256). Staff only.
pub async fn export(pool: &PgPool, staff: &Staff, f: &AuthorizationsFilter) -> Result<Export> {
    let fail = |e: &dyn std::fmt::Display| crate::Error::Other(format!("writing the zip: {e}"));
    let file = super::spool("authorizations.zip")?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut index = csv::Writer::from_writer(Vec::new());
    index.write_record(INDEX_COLUMNS).map_err(|e| fail(&e))?;
    let (mut after, mut n) = (0, 0u64);
    loop {
        let batch = find(pool, f, after, BATCH, true).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for doc in &batch {
            let row = doc.row();
            zip.start_file(row.file_name.as_str(), options)
                .map_err(|e| fail(&e))?;
            zip.write_all(doc.content.as_deref().unwrap_or_default())
                .map_err(|e| fail(&e))?;
            let time = |t: DateTime<Utc>| t.to_rfc3339();
            index
                .write_record([
                    doc.id.to_string(),
                    defuse(&doc.code),
                    defuse(&doc.name),
                    defuse(&doc.holder_name),
                    doc.holder_type.clone().unwrap_or_default(),
                    defuse(doc.bank_name.as_deref().unwrap_or_default()),
                    doc.routing_number.clone().unwrap_or_default(),
                    doc.account_type.clone().unwrap_or_default(),
                    doc.last4.clone(),
                    row.source.key().to_string(),
                    defuse(&row.signed_by),
                    row.signed_at.clone(),
                    row.address.clone().unwrap_or_default(),
                    time(doc.created_at),
                    doc.deactivated_at.map(time).unwrap_or_default(),
                    row.file_name.clone(),
                    hex(&doc.sha256),
                ])
                .map_err(|e| fail(&e))?;
            n += 1;
        }
    }
    zip.start_file("index.csv", options).map_err(|e| fail(&e))?;
    zip.write_all(&index.into_inner().map_err(|e| fail(&e))?)
        .map_err(|e| fail(&e))?;
    let mut zip = super::Spooled::rewound(zip.finish().map_err(|e| fail(&e))?)?;
    let sha256 = {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        std::io::copy(&mut zip.file, &mut hasher).map_err(|e| fail(&e))?;
        zip.file.seek(SeekFrom::Start(0)).map_err(|e| fail(&e))?;
        hex(&hasher.finalize())
    };
    let mut tx = pool.begin().await?;
    audit::system_change(
        &mut tx,
        staff.actor(),
        Action::AuthorizationsExported,
        Entity::Export,
        "ach_authorizations",
        json!({
            "from": f.from, "to": f.to, "company": f.company,
            "authorizations": n, "bytes": zip.bytes, "sha256": sha256,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Export {
        zip,
        authorizations: n,
    })
}

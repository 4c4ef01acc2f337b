//! CSV imports of companies, AP contacts and invoices (System → Import): the file is kept
//! until committed; its preview decides every row as committing would (the same checks and
//! the same balance rule, `erp::preview`) against one read-only snapshot, taking no lock, so
//! payments never wait behind a preview; committing decides again under locks and writes, all
//! or nothing or the valid rows only.
//! Rows are keyed by the ERP's ids, so importing a file twice changes nothing the second time.

use crate::audit::{self, Action, Actor, Entity};
use crate::authority::Admin;
use crate::integration::erp::{self, Outcome, Records};
use crate::Result;
use serde_json::json;
use shared::erp::{CompanyRecord, ContactRecord, InvoiceRecord, InvoiceStatus};
use shared::import::{CommitMode, ImportCounts, ImportKind, ImportPreview, RowError};
use shared::{AppError, FieldError, ImportId, UserId};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;

/// Rows written per statement.
const CHUNK: usize = 1000;

/// A file's rows, read.
enum Rows {
    Companies(Vec<(u64, CompanyRecord)>),
    Contacts(Vec<(u64, ContactRecord)>),
    Invoices(Vec<(u64, InvoiceRecord)>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Companies(r) => r.len(),
            Rows::Contacts(r) => r.len(),
            Rows::Invoices(r) => r.len(),
        }
    }
}

fn file_error(message: impl Into<String>) -> crate::Error {
    AppError::invalid("file", message).into()
}

/// A header cell as a column name: `Company ID` → `company_id`.
fn column_name(raw: &str) -> String {
    let n = raw
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-', '.'], "_");
    match n.as_str() {
        "company" | "customer_id" | "customer" => "company_id".into(),
        "invoice" | "invoice_number" | "invoice_no" => "number".into(),
        "po" | "po_no" | "purchase_order" => "po_number".into(),
        "issued" | "invoice_date" => "issue_date".into(),
        "due" => "due_date".into(),
        "amount" => "total".into(),
        "email_address" => "email".into(),
        _ => n,
    }
}

/// Reads a CSV file of `kind`: UTF-8, comma-separated, a header naming the columns. Problems
/// with the whole file are one field error (`file`); problems with rows are row errors.
fn read(kind: ImportKind, bytes: &[u8]) -> Result<(Rows, Vec<RowError>)> {
    if bytes.is_empty() || bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(file_error("The file is empty."));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(file_error(
            "The file is UTF-16 text; save it as \"CSV UTF-8 (comma delimited)\" and upload it again.",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        return Err(file_error(format!(
            "The file is not UTF-8 text (line {line} has a character in another encoding, such as Windows-1252); save it as \"CSV UTF-8\" and upload it again."
        )));
    }
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let first_line = String::from_utf8_lossy(first_line);
    if !first_line.contains(',') {
        for (d, name) in [(';', "semicolons"), ('\t', "tabs"), ('|', "vertical bars")] {
            if first_line.contains(d) {
                return Err(file_error(format!(
                    "The columns are separated by {name}; Settle reads comma-separated files. Save the file as CSV (comma delimited)."
                )));
            }
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| file_error(format!("The first line cannot be read: {e}.")))?
        .clone();
    let names: Vec<String> = header.iter().map(column_name).collect();
    let known: Vec<&str> = kind
        .required()
        .iter()
        .chain(kind.optional())
        .copied()
        .collect();
    let mut seen = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(file_error(format!(
                "Column {} of the first line has no name. The first line names the columns, e.g. {}",
                i + 1,
                kind.example_header()
            )));
        }
        if !known.contains(&n.as_str()) {
            return Err(file_error(format!(
                "Unknown column \"{}\". {} files have the columns {} (the optional ones may be left out).",
                header.get(i).unwrap_or(""),
                kind.label(),
                kind.example_header()
            )));
        }
        if seen.insert(n.clone(), i).is_some() {
            return Err(file_error(format!(
                "The column \"{n}\" appears twice in the first line."
            )));
        }
    }
    let missing: Vec<&str> = kind
        .required()
        .iter()
        .copied()
        .filter(|c| !seen.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(file_error(format!(
            "Missing column{} {}. The first line must name the columns, e.g. {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            kind.example_header()
        )));
    }
    let mut errors = Vec::new();
    let mut cells: Vec<(u64, HashMap<&str, String>)> = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(RowError {
                    line,
                    column: "—".into(),
                    message: format!("This line cannot be read: {e}."),
                });
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if rec.len() != names.len() {
            errors.push(RowError {
                line,
                column: "—".into(),
                message: format!(
                    "This line has {} values; the first line names {} columns.",
                    rec.len(),
                    names.len()
                ),
            });
            continue;
        }
        let map = known
            .iter()
            .filter_map(|k| {
                seen.get(*k)
                    .map(|&i| (*k, rec.get(i).unwrap_or("").to_string()))
            })
            .collect();
        cells.push((line, map));
    }
    let get = |m: &HashMap<&str, String>, k: &str| m.get(k).cloned().unwrap_or_default();
    let opt = |m: &HashMap<&str, String>, k: &str| m.get(k).filter(|v| !v.is_empty()).cloned();
    let rows = match kind {
        ImportKind::Companies => Rows::Companies(
            cells
                .into_iter()
                .map(|(l, m)| {
                    (
                        l,
                        CompanyRecord {
                            id: get(&m, "company_id"),
                            name: get(&m, "name"),
                            currency: opt(&m, "currency"),
                            billing_state: opt(&m, "billing_state"),
                        },
                    )
                })
                .collect(),
        ),
        ImportKind::Contacts => Rows::Contacts(
            cells
                .into_iter()
                .map(|(l, m)| {
                    (
                        l,
                        ContactRecord {
                            company_id: get(&m, "company_id"),
                            email: get(&m, "email"),
                            name: get(&m, "name"),
                            title: opt(&m, "title"),
                            phone: opt(&m, "phone"),
                        },
                    )
                })
                .collect(),
        ),
        ImportKind::Invoices => {
            let mut out = Vec::with_capacity(cells.len());
            for (l, m) in cells {
                let status = get(&m, "status");
                let Some(st) = InvoiceStatus::parse(&status) else {
                    errors.push(RowError {
                        line: l,
                        column: "status".into(),
                        message: format!(
                            "The status {status:?} is not open, cancelled or credit_memo."
                        ),
                    });
                    continue;
                };
                out.push((
                    l,
                    InvoiceRecord {
                        company_id: get(&m, "company_id"),
                        number: get(&m, "number"),
                        po_number: opt(&m, "po_number"),
                        issue_date: get(&m, "issue_date"),
                        due_date: get(&m, "due_date"),
                        currency: opt(&m, "currency"),
                        total: get(&m, "total"),
                        status: st,
                    },
                ));
            }
            Rows::Invoices(out)
        }
    };
    Ok((rows, errors))
}

/// The row's key, for duplicates within the file.
fn key_of_company(r: &CompanyRecord) -> String {
    r.id.trim().to_ascii_uppercase()
}
fn key_of_contact(r: &ContactRecord) -> String {
    format!(
        "{}\u{0}{}",
        r.company_id.trim().to_ascii_uppercase(),
        r.email.trim().to_lowercase()
    )
}
fn key_of_invoice(r: &InvoiceRecord) -> String {
    format!(
        "{}\u{0}{}",
        r.company_id.trim().to_ascii_uppercase(),
        r.number.trim()
    )
}

/// Leaves out rows that repeat an earlier row's key, as errors.
fn drop_duplicates<T>(
    rows: Vec<(u64, T)>,
    key: impl Fn(&T) -> String,
    what: &str,
    errors: &mut Vec<RowError>,
) -> Vec<(u64, T)> {
    let mut first: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let k = key(&r);
        match first.get(&k) {
            Some(&l) => errors.push(RowError {
                line,
                column: "—".into(),
                message: format!("Duplicate row: the same {what} as line {l}."),
            }),
            None => {
                first.insert(k, line);
                out.push((line, r));
            }
        }
    }
    out
}

/// Whether a run writes (a commit, under locks) or only reads what it would do (a preview,
/// against a snapshot, taking no lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Write,
    Preview,
}

/// Runs the rows through the upserts (or their preview), a chunk at a time, counting what
/// each did.
async fn apply(
    conn: &mut PgConnection,
    by: Actor,
    rows: Rows,
    counts: &mut ImportCounts,
    errors: &mut Vec<RowError>,
    mode: Mode,
) -> Result<()> {
    async fn chunks<T>(
        conn: &mut PgConnection,
        rows: Vec<(u64, T)>,
        counts: &mut ImportCounts,
        errors: &mut Vec<RowError>,
        column: impl Fn(&str) -> String,
        mut upsert: impl for<'c> FnMut(
            &'c mut PgConnection,
            &'c [T],
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Vec<Outcome>>> + Send + 'c>,
        >,
    ) -> Result<()>
    where
        T: Clone,
    {
        for chunk in rows.chunks(CHUNK) {
            let records: Vec<T> = chunk.iter().map(|(_, r)| r.clone()).collect();
            let outcomes = upsert(&mut *conn, &records).await?;
            for ((line, _), o) in chunk.iter().zip(outcomes) {
                match o {
                    Outcome::Created => counts.created += 1,
                    Outcome::Updated => counts.updated += 1,
                    Outcome::Unchanged => counts.unchanged += 1,
                    Outcome::Refused(errs) => {
                        errors.extend(errs.into_iter().map(|e: FieldError| RowError {
                            line: *line,
                            column: column(&e.field),
                            message: e.message,
                        }))
                    }
                }
            }
        }
        Ok(())
    }
    let same = |f: &str| f.to_string();
    let preview = mode == Mode::Preview;
    match rows {
        Rows::Companies(r) => {
            let r = drop_duplicates(r, key_of_company, "Company ID", errors);
            let column = |f: &str| {
                if f == "id" {
                    "company_id".to_string()
                } else {
                    f.to_string()
                }
            };
            if preview {
                chunks(conn, r, counts, errors, column, |c, recs| {
                    Box::pin(erp::preview(c, Records::Companies(recs)))
                })
                .await
            } else {
                chunks(conn, r, counts, errors, column, |c, recs| {
                    Box::pin(erp::upsert_companies(c, by, recs))
                })
                .await
            }
        }
        Rows::Contacts(r) => {
            let r = drop_duplicates(r, key_of_contact, "company and email", errors);
            if preview {
                chunks(conn, r, counts, errors, same, |c, recs| {
                    Box::pin(erp::preview(c, Records::Contacts(recs)))
                })
                .await
            } else {
                chunks(conn, r, counts, errors, same, |c, recs| {
                    Box::pin(erp::upsert_contacts(c, by, recs))
                })
                .await
            }
        }
        Rows::Invoices(r) => {
            let r = drop_duplicates(r, key_of_invoice, "company and invoice number", errors);
            if preview {
                chunks(conn, r, counts, errors, same, |c, recs| {
                    Box::pin(erp::preview(c, Records::Invoices(recs)))
                })
                .await
            } else {
                chunks(conn, r, counts, errors, same, |c, recs| {
                    Box::pin(erp::upsert_invoices(c, by, recs))
                })
                .await
            }
        }
    }
}

/// Reads and runs a file in a transaction; the caller commits or rolls back.
async fn run(
    conn: &mut PgConnection,
    by: Actor,
    kind: ImportKind,
    bytes: &[u8],
    mode: Mode,
) -> Result<(ImportCounts, Vec<RowError>)> {
    let (rows, mut errors) = read(kind, bytes)?;
    let mut counts = ImportCounts {
        rows: rows.len() + errors.len(),
        ..Default::default()
    };
    if counts.rows == 0 {
        return Err(file_error("The file has a header but no rows."));
    }
    apply(conn, by, rows, &mut counts, &mut errors, mode).await?;
    errors.sort_by_key(|e| e.line);
    let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    counts.invalid = lines.len();
    Ok((counts, errors))
}

/// Keeps an uploaded file and previews it (nothing is written but the file).
pub async fn upload(
    pool: &PgPool,
    admin: &Admin,
    kind: ImportKind,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportPreview> {
    let uploaded_by = admin.id();
    let file_name: String = file_name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let file_name = if file_name.is_empty() {
        "upload.csv".to_string()
    } else {
        file_name
    };
    // A preview reads one snapshot and locks nothing: payments on the same companies never
    // wait for it (a commit decides again, under locks).
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (counts, mut errors) = run(&mut tx, admin.actor(), kind, bytes, Mode::Preview).await?;
    tx.rollback().await?;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO imports (kind, file_name, size_bytes, content, uploaded_by)
           VALUES ($1, $2, $3, $4, $5) RETURNING id AS "id: ImportId""#,
        kind as ImportKind,
        &file_name,
        bytes.len() as i32,
        bytes,
        uploaded_by as UserId
    )
    .fetch_one(pool)
    .await?;
    errors.truncate(ImportPreview::MAX_ERRORS);
    Ok(ImportPreview {
        id,
        kind,
        file_name,
        counts,
        errors,
    })
}

/// Commits an uploaded file. All or nothing: any error refuses the whole file (naming the
/// first); valid only: the rows without errors. A file is committed once; its content is
/// then forgotten.
pub async fn commit(
    pool: &PgPool,
    admin: &Admin,
    id: ImportId,
    mode: CommitMode,
) -> Result<ImportCounts> {
    let by = admin.actor();
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT kind AS "kind: ImportKind", content, result FROM imports WHERE id = $1 FOR UPDATE"#,
        id as ImportId
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(AppError::NotFound("Import".into()).into());
    };
    let (kind, content) = (row.kind, row.content);
    if let Some(done) = row.result {
        // Committed already (a double click, a retry): the same answer.
        return serde_json::from_value(done).map_err(|e| crate::Error::Other(e.to_string()));
    }
    let (counts, errors) = run(&mut tx, by, kind, &content, Mode::Write).await?;
    if mode == CommitMode::AllOrNothing && !errors.is_empty() {
        let first = &errors[0];
        return Err(AppError::invalid(
            "mode",
            format!(
                "Nothing was imported: {} row{} have errors (the first: line {}, {}: {}). Fix the file, or import only the valid rows.",
                counts.invalid,
                if counts.invalid == 1 { "" } else { "s" },
                first.line,
                first.column,
                first.message
            ),
        )
        .into());
    }
    let result = serde_json::to_value(&counts).map_err(|e| crate::Error::Other(e.to_string()))?;
    sqlx::query!(
        "UPDATE imports SET committed_at = now(), result = $2, content = ''::bytea WHERE id = $1",
        id as ImportId,
        &result
    )
    .execute(&mut *tx)
    .await?;
    audit::system_change(
        &mut tx,
        by,
        Action::ImportCommitted,
        Entity::Import,
        id.0,
        json!({ "kind": kind.key(), "mode": mode, "counts": result }),
    )
    .await?;
    tx.commit().await?;
    Ok(counts)
}

/// Forgets uploads never committed within a day (their files held customers' data).
pub async fn forget_uncommitted(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM imports WHERE committed_at IS NULL AND created_at < now() - interval '1 day'"
    )
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: ImportKind, csv: &str) -> String {
        match read(kind, csv.as_bytes()) {
            Err(e) => e.into_app().to_string(),
            Ok(_) => "ok".into(),
        }
    }

    #[test]
    fn whole_file_problems_are_named() {
        assert!(msg(ImportKind::Invoices, "").contains("empty"));
        assert!(msg(
            ImportKind::Invoices,
            "company_id;number;issue_date\nC1;1;2026-01-01"
        )
        .contains("semicolons"));
        assert!(msg(ImportKind::Invoices, "company_id,number\nC1,1")
            .contains("Missing columns issue_date, due_date, total"));
        assert!(msg(ImportKind::Companies, "company_id,name,totl\n")
            .contains("Unknown column \"totl\""));
        let latin1 = b"company_id,name\nC1,Caf\xe9\n";
        assert!(read(ImportKind::Companies, latin1)
            .err()
            .unwrap()
            .into_app()
            .to_string()
            .contains("not UTF-8 text (line 2"));
        assert_eq!(
            msg(ImportKind::Companies, "\u{feff}Company ID,Name\nC1,Acme\n"),
            "ok"
        );
    }

    #[test]
    fn ragged_rows_are_row_errors() {
        let (rows, errors) =
            read(ImportKind::Companies, b"company_id,name\nC1,Acme\nC2\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(errors[0].line, 3);
    }
}

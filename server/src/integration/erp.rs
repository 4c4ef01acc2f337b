//! Data in from the seller's ERP: companies, AP contacts, invoices and payments booked in the
//! ERP, upserted by the ERP's identifiers, a batch at a time, with a result per record.
//!
//! The balance rule: the ERP owns an invoice's total, Settle owns its balance. An open
//! invoice's balance is always its total less what payments that count applied to it
//! (Settle's and the ERP's), recomputed under the invoice's row lock — so a payment taken in
//! Settle is never undone by an update the ERP sent before it knew of it; a payment booked in
//! the ERP is its own record, applied once by its id; a total below what is already applied,
//! or cancelling an invoice that has payments, is refused.

use crate::audit::Actor;
use crate::Result;
use rust_decimal::Decimal;
use serde_json::json;
use shared::auth::Role;
use shared::erp::{self, InvoiceStatus};
use shared::{ApiKeyId, Currency, FieldError, Money, UserId};
use sqlx::PgConnection;
use std::collections::HashMap;

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    /// Already so: nothing written.
    Unchanged,
    /// Refused, changing nothing, for these reasons (fields of the record).
    Refused(Vec<FieldError>),
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Refused(_) => "error",
        }
    }

    fn refused(field: &str, message: impl Into<String>) -> Self {
        Outcome::Refused(vec![FieldError::new(field, message)])
    }
}

/// One audit row per written record, in one statement.
async fn audit_writes(
    conn: &mut PgConnection,
    by: Actor,
    action: &str,
    entity: &str,
    written: &[(Option<i64>, String, serde_json::Value)],
) -> Result<()> {
    if written.is_empty() {
        return Ok(());
    }
    let companies: Vec<Option<i64>> = written.iter().map(|w| w.0).collect();
    let ids: Vec<String> = written.iter().map(|w| w.1.clone()).collect();
    let details: Vec<serde_json::Value> = written.iter().map(|w| w.2.clone()).collect();
    sqlx::query!(
        "INSERT INTO audit_events (actor_user_id, actor_role, actor_api_key_id, on_behalf_company_id, \
         action, entity_type, entity_id, details) \
         SELECT $1, $2, $3, c, $4, $5, e, d FROM unnest($6::bigint[], $7::text[], $8::jsonb[]) AS w(c, e, d)",
        by.user_id as Option<UserId>,
        by.role as Option<Role>,
        by.api_key_id as Option<ApiKeyId>,
        action,
        entity,
        // Null for a record of no company: the macro cannot check an array's nullable items.
        &companies as _,
        &ids,
        &details
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The ids of these Company IDs (the ones that exist).
async fn company_ids(conn: &mut PgConnection, codes: &[String]) -> Result<HashMap<String, i64>> {
    Ok(
        sqlx::query!("SELECT code, id FROM companies WHERE code = ANY($1)", codes)
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|r| (r.code, r.id))
            .collect(),
    )
}

/// The records of a batch that belong to a company, checked: each with its company's id and
/// its key (`key_field`) once; the others refused in `out`. Also the (company, key) → index
/// of what is left, to map written rows back to their records.
#[allow(clippy::type_complexity)]
async fn of_companies<R, V>(
    conn: &mut PgConnection,
    records: &[R],
    out: &mut [Outcome],
    check: impl Fn(&R) -> std::result::Result<V, Vec<FieldError>>,
    company: impl Fn(&V) -> &shared::company::CompanyCode,
    key: impl Fn(&V) -> String,
    key_field: &str,
) -> Result<(Vec<(usize, i64, V)>, HashMap<(i64, String), usize>)> {
    let mut checked = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match check(r) {
            Err(errs) => out[i] = Outcome::Refused(errs),
            Ok(v) => checked.push((i, v)),
        }
    }
    let codes: Vec<String> = checked
        .iter()
        .map(|(_, v)| company(v).as_str().to_string())
        .collect();
    let ids = company_ids(conn, &codes).await?;
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    let mut rows = Vec::new();
    for (i, v) in checked {
        let Some(&id) = ids.get(company(&v).as_str()) else {
            out[i] = unknown_company(company(&v).as_str());
            continue;
        };
        let k = (id, key(&v));
        if let Some(&first) = seen.get(&k) {
            out[i] = Outcome::refused(
                key_field,
                format!("{} is also record {first} of this batch.", k.1),
            );
            continue;
        }
        seen.insert(k, i);
        rows.push((i, id, v));
    }
    Ok((rows, seen))
}

fn unknown_company(code: &str) -> Outcome {
    Outcome::refused(
        "company_id",
        format!("There is no company {code}: send the company first."),
    )
}

/// The companies of a batch, checked, each Company ID once (with its index); the others
/// refused in `out`.
fn checked_companies(
    records: &[erp::CompanyRecord],
    out: &mut [Outcome],
) -> Vec<(usize, erp::Company)> {
    let mut rows: Vec<(usize, erp::Company)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        match r.check() {
            Err(errs) => out[i] = Outcome::Refused(errs),
            Ok(c) => {
                if let Some(&first) = seen.get(c.code.as_str()) {
                    out[i] = Outcome::refused(
                        "id",
                        format!("Company {} is also record {first} of this batch.", c.code),
                    );
                } else {
                    seen.insert(c.code.as_str().to_string(), i);
                    rows.push((i, c));
                }
            }
        }
    }
    rows
}

/// Upserts companies by Company ID (a name change updates it).
pub async fn upsert_companies(
    conn: &mut PgConnection,
    by: Actor,
    records: &[erp::CompanyRecord],
) -> Result<Vec<Outcome>> {
    let mut out = vec![Outcome::Unchanged; records.len()];
    let rows = checked_companies(records, &mut out);
    if rows.is_empty() {
        return Ok(out);
    }
    let codes: Vec<String> = rows
        .iter()
        .map(|(_, c)| c.code.as_str().to_string())
        .collect();
    let names: Vec<String> = rows.iter().map(|(_, c)| c.name.clone()).collect();
    let states: Vec<Option<String>> = rows.iter().map(|(_, c)| c.billing_state.clone()).collect();
    // A state left out keeps the one the company has.
    let written: Vec<(String, i64, bool)> = sqlx::query!(
        r#"INSERT INTO companies (code, name, billing_state)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT (code) DO UPDATE
           SET name = EXCLUDED.name, billing_state = COALESCE(EXCLUDED.billing_state, companies.billing_state)
           WHERE companies.name IS DISTINCT FROM EXCLUDED.name
              OR companies.billing_state IS DISTINCT FROM COALESCE(EXCLUDED.billing_state, companies.billing_state)
           RETURNING code, id, (xmax = 0) AS "inserted!""#,
        &codes,
        &names,
        &states as &[Option<String>]
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.code, r.id, r.inserted))
    .collect();
    let by_code: HashMap<&str, usize> = rows.iter().map(|(i, c)| (c.code.as_str(), *i)).collect();
    let mut audited = Vec::new();
    for (code, id, inserted) in &written {
        let i = by_code[code.as_str()];
        out[i] = if *inserted {
            Outcome::Created
        } else {
            Outcome::Updated
        };
        audited.push((
            Some(*id),
            code.clone(),
            json!({ "name": names[rows.iter().position(|(j, _)| *j == i).unwrap_or(0)], "result": out[i].as_str() }),
        ));
    }
    audit_writes(conn, by, "company.upserted", "company", &audited).await?;
    Ok(out)
}

/// Upserts AP contacts by (company, email).
pub async fn upsert_contacts(
    conn: &mut PgConnection,
    by: Actor,
    records: &[erp::ContactRecord],
) -> Result<Vec<Outcome>> {
    let mut out = vec![Outcome::Unchanged; records.len()];
    let (rows, seen) = of_companies(
        conn,
        records,
        &mut out,
        erp::ContactRecord::check,
        |c| &c.company,
        |c| c.email.as_str().to_string(),
        "email",
    )
    .await?;
    if rows.is_empty() {
        return Ok(out);
    }
    let companies: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let emails: Vec<String> = rows
        .iter()
        .map(|r| r.2.email.as_str().to_string())
        .collect();
    let names: Vec<String> = rows.iter().map(|r| r.2.name.clone()).collect();
    let titles: Vec<Option<String>> = rows.iter().map(|r| r.2.title.clone()).collect();
    let phones: Vec<Option<String>> = rows.iter().map(|r| r.2.phone.clone()).collect();
    let written = sqlx::query!(
        r#"INSERT INTO contacts (company_id, email, name, title, phone)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
           ON CONFLICT (company_id, lower(email)) WHERE email IS NOT NULL DO UPDATE
           SET name = EXCLUDED.name, title = EXCLUDED.title, phone = EXCLUDED.phone
           WHERE (contacts.name, contacts.title, contacts.phone) IS DISTINCT FROM
                 (EXCLUDED.name, EXCLUDED.title, EXCLUDED.phone)
           RETURNING company_id, lower(email) AS "email!", id, (xmax = 0) AS "inserted!""#,
        &companies,
        &emails,
        &names,
        // Titles and phones may be empty: the macro cannot check an array's nullable items.
        &titles as _,
        &phones as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut audited = Vec::new();
    for r in written {
        let (company, email, id, inserted) = (r.company_id, r.email, r.id, r.inserted);
        if let Some(&i) = seen.get(&(company, email.clone())) {
            out[i] = if inserted {
                Outcome::Created
            } else {
                Outcome::Updated
            };
            audited.push((
                Some(company),
                id.to_string(),
                json!({ "email": email, "result": out[i].as_str() }),
            ));
        }
    }
    audit_writes(conn, by, "contact.upserted", "contact", &audited).await?;
    Ok(out)
}

/// An invoice as it stands, locked.
struct Existing {
    company_id: i64,
    number: String,
    po_number: Option<String>,
    issue_date: chrono::NaiveDate,
    due_date: chrono::NaiveDate,
    total: Decimal,
    currency: Currency,
    status: InvoiceStatus,
    applied: Decimal,
}

/// What writing invoice `v` over `existing` (with what is applied to it) does: the balance
/// rule, decided the same way under lock (a write) and against a snapshot (a preview).
fn decide_invoice(existing: Option<&Existing>, v: &erp::Invoice) -> Outcome {
    let Some(e) = existing else {
        return Outcome::Created;
    };
    let same = e.po_number == v.po_number
        && e.issue_date == v.issue_date
        && e.due_date == v.due_date
        && e.total == v.total
        && e.status == v.status;
    let memo = InvoiceStatus::CreditMemo;
    if same {
        Outcome::Unchanged
    } else if e.status == memo && e.applied > Decimal::ZERO && v.status != memo {
        // A memo's credit that was used (applied or refunded) stays credit.
        Outcome::refused(
            "status",
            format!(
                "Credit memo {} has {} of its credit used; it cannot become {}.",
                v.number,
                Money::new(e.applied, e.currency).display(),
                v.status.as_str().replace('_', " ")
            ),
        )
    } else if e.status == memo && v.status == memo && v.total < e.applied {
        Outcome::refused(
            "total",
            format!(
                "Credit memo {} has {} of its credit used; its total cannot be lowered to {}.",
                v.number,
                Money::new(e.applied, e.currency).display(),
                Money::new(v.total, e.currency).display()
            ),
        )
    } else if e.status == memo && v.status == memo {
        Outcome::Updated
    } else if v.status == InvoiceStatus::Open && v.total < e.applied {
        Outcome::refused(
            "total",
            format!(
                "Invoice {} already has {} applied to it; its total cannot be lowered to {}.",
                v.number,
                Money::new(e.applied, e.currency).display(),
                Money::new(v.total, e.currency).display()
            ),
        )
    } else if v.status != InvoiceStatus::Open && e.applied > Decimal::ZERO {
        Outcome::refused(
            "status",
            format!(
                "Invoice {} has {} of payments applied; it cannot become {} (record a credit or refund the payments first).",
                v.number,
                Money::new(e.applied, e.currency).display(),
                v.status.as_str().replace('_', " ")
            ),
        )
    } else {
        Outcome::Updated
    }
}

/// What upserting these records would do, read from the database as it stands (the caller's
/// snapshot) without writing or locking anything: an import's preview. A commit decides again
/// under locks.
pub async fn preview(conn: &mut PgConnection, records: Records<'_>) -> Result<Vec<Outcome>> {
    match records {
        Records::Companies(records) => {
            let mut out = vec![Outcome::Unchanged; records.len()];
            let checked = checked_companies(records, &mut out);
            let codes: Vec<String> = checked
                .iter()
                .map(|(_, c)| c.code.as_str().to_string())
                .collect();
            let names: HashMap<String, String> = sqlx::query!(
                "SELECT code, name FROM companies WHERE code = ANY($1)",
                &codes
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
            for (i, c) in checked {
                out[i] = match names.get(c.code.as_str()) {
                    None => Outcome::Created,
                    Some(name) if *name == c.name => Outcome::Unchanged,
                    Some(_) => Outcome::Updated,
                };
            }
            Ok(out)
        }
        Records::Contacts(records) => {
            let mut out = vec![Outcome::Unchanged; records.len()];
            let (rows, _) = of_companies(
                conn,
                records,
                &mut out,
                erp::ContactRecord::check,
                |c| &c.company,
                |c| c.email.as_str().to_string(),
                "email",
            )
            .await?;
            let companies: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let emails: Vec<String> = rows
                .iter()
                .map(|r| r.2.email.as_str().to_string())
                .collect();
            /// A contact's name, title and phone.
            type Held = (String, Option<String>, Option<String>);
            let existing: HashMap<(i64, String), Held> = sqlx::query!(
                r#"SELECT c.company_id, lower(c.email) AS "email!", c.name, c.title, c.phone
                   FROM contacts c JOIN unnest($1::bigint[], $2::text[]) AS k(company_id, email)
                     ON c.company_id = k.company_id AND lower(c.email) = lower(k.email)"#,
                &companies,
                &emails
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| ((r.company_id, r.email), (r.name, r.title, r.phone)))
            .collect();
            for (i, company, v) in rows {
                let now = (v.name.clone(), v.title.clone(), v.phone.clone());
                out[i] = match existing.get(&(company, v.email.as_str().to_lowercase())) {
                    None => Outcome::Created,
                    Some(was) if *was == now => Outcome::Unchanged,
                    Some(_) => Outcome::Updated,
                };
            }
            Ok(out)
        }
        Records::Invoices(records) => {
            let mut out = vec![Outcome::Unchanged; records.len()];
            let (rows, _) = of_companies(
                conn,
                records,
                &mut out,
                erp::InvoiceRecord::check,
                |v| &v.company,
                |v| v.number.clone(),
                "number",
            )
            .await?;
            let existing = existing_invoices(conn, &rows, false).await?;
            let existing: HashMap<(i64, &str), &Existing> = existing
                .iter()
                .map(|e| ((e.company_id, e.number.as_str()), e))
                .collect();
            for (i, company, v) in &rows {
                out[*i] = decide_invoice(existing.get(&(*company, v.number.as_str())).copied(), v);
            }
            Ok(out)
        }
    }
}

/// Records of one kind, for [`preview`].
pub enum Records<'a> {
    Companies(&'a [erp::CompanyRecord]),
    Contacts(&'a [erp::ContactRecord]),
    Invoices(&'a [erp::InvoiceRecord]),
}

/// The invoices these rows name that exist, with what is applied to each: locked in id order
/// (`lock`, for a write: a payment waits for the writer, or the writer for it), or read as the
/// snapshot has them (a preview).
async fn existing_invoices(
    conn: &mut PgConnection,
    rows: &[(usize, i64, erp::Invoice)],
    lock: bool,
) -> Result<Vec<Existing>> {
    let companies: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let numbers: Vec<String> = rows.iter().map(|r| r.2.number.clone()).collect();
    Ok(if lock {
        sqlx::query_as!(
            Existing,
            r#"WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS k(company_id, number)),
                    locked AS (SELECT i.id, i.company_id, i.number, i.po_number, i.issue_date, i.due_date,
                                      i.total, i.currency, i.status FROM invoices i JOIN k USING (company_id, number)
                               ORDER BY i.id FOR UPDATE OF i)
               SELECT l.company_id AS "company_id!", l.number AS "number!", l.po_number,
                      l.issue_date AS "issue_date!", l.due_date AS "due_date!", l.total AS "total!",
                      l.currency::text AS "currency!: Currency",
                      l.status AS "status!: InvoiceStatus",
                      invoice_applied(l.id) + COALESCE((SELECT amount - remaining FROM credits WHERE memo_invoice_id = l.id), 0) AS "applied!"
               FROM locked l"#,
            &companies,
            &numbers
        )
        .fetch_all(conn)
        .await?
    } else {
        sqlx::query_as!(
            Existing,
            r#"WITH k AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS k(company_id, number))
               SELECT i.company_id, i.number, i.po_number, i.issue_date, i.due_date, i.total,
                      i.currency::text AS "currency!: Currency", i.status AS "status: InvoiceStatus",
                      invoice_applied(i.id) + COALESCE((SELECT amount - remaining FROM credits WHERE memo_invoice_id = i.id), 0) AS "applied!"
               FROM invoices i JOIN k USING (company_id, number)"#,
            &companies,
            &numbers
        )
        .fetch_all(conn)
        .await?
    })
}

/// Upserts invoices by (company, number), keeping the balance rule (see the module's note).
pub async fn upsert_invoices(
    conn: &mut PgConnection,
    by: Actor,
    records: &[erp::InvoiceRecord],
) -> Result<Vec<Outcome>> {
    let mut out = vec![Outcome::Unchanged; records.len()];
    let (rows, seen) = of_companies(
        conn,
        records,
        &mut out,
        erp::InvoiceRecord::check,
        |v| &v.company,
        |v| v.number.clone(),
        "number",
    )
    .await?;
    if rows.is_empty() {
        return Ok(out);
    }
    // Lock the invoices that exist, in a fixed order (no deadlock between two batches), with
    // what is applied to them: a payment waits for this transaction, or this for it.
    let existing = existing_invoices(conn, &rows, true).await?;
    let existing: HashMap<(i64, &str), &Existing> = existing
        .iter()
        .map(|e| ((e.company_id, e.number.as_str()), e))
        .collect();
    let mut write = Vec::new();
    for (i, company, v) in &rows {
        match decide_invoice(existing.get(&(*company, v.number.as_str())).copied(), v) {
            Outcome::Unchanged => {}
            refused @ Outcome::Refused(_) => out[*i] = refused,
            created => write.push((*i, *company, v, created == Outcome::Created)),
        }
    }
    if write.is_empty() {
        return Ok(out);
    }
    let w_company: Vec<i64> = write.iter().map(|w| w.1).collect();
    let w_number: Vec<String> = write.iter().map(|w| w.2.number.clone()).collect();
    let w_po: Vec<Option<String>> = write.iter().map(|w| w.2.po_number.clone()).collect();
    let w_issue: Vec<chrono::NaiveDate> = write.iter().map(|w| w.2.issue_date).collect();
    let w_due: Vec<chrono::NaiveDate> = write.iter().map(|w| w.2.due_date).collect();
    let w_total: Vec<Decimal> = write.iter().map(|w| w.2.total).collect();
    let w_status: Vec<&str> = write.iter().map(|w| w.2.status.as_str()).collect();
    // A new row's balance is its total (open) or 0; an existing row's is recomputed from what
    // is applied to it, under the lock taken above.
    let written = sqlx::query!(
        "INSERT INTO invoices AS i (company_id, number, po_number, issue_date, due_date, total, balance, status) \
         SELECT c, n, po, iss, due, t, CASE WHEN s = 'open' THEN t ELSE 0 END, s \
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::date[], $5::date[], $6::numeric[], $7::text[]) \
              AS w(c, n, po, iss, due, t, s) \
         ON CONFLICT (company_id, number) DO UPDATE SET \
           po_number = EXCLUDED.po_number, issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date, \
           total = EXCLUDED.total, status = EXCLUDED.status, updated_at = now(), \
           balance = CASE WHEN EXCLUDED.status = 'open' THEN EXCLUDED.total - invoice_applied(i.id) ELSE 0 END \
         RETURNING i.id, i.company_id, i.number",
        &w_company,
        &w_number,
        // A PO number may be empty: the macro cannot check an array's nullable items.
        &w_po as _,
        &w_issue,
        &w_due,
        &w_total,
        &w_status as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut audited = Vec::with_capacity(written.len());
    for r in written {
        let (id, company, number) = (r.id, r.company_id, r.number);
        if let Some(&i) = seen.get(&(company, number.clone())) {
            let created = write.iter().any(|w| w.0 == i && w.3);
            out[i] = if created {
                Outcome::Created
            } else {
                Outcome::Updated
            };
            let v = &records[i];
            audited.push((
                Some(company),
                id.to_string(),
                json!({ "number": number, "total": v.total.trim(), "status": v.status.as_str(), "result": out[i].as_str() }),
            ));
        }
    }
    audit_writes(conn, by, "invoice.upserted", "invoice", &audited).await?;
    Ok(out)
}

/// A payment booked in the ERP as Settle shows it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub outcome: Outcome,
    /// Settle's payment number, when recorded.
    pub payment: Option<String>,
}

/// Records payments booked in the ERP, each once by its id: it reduces its invoices'
/// balances (never below zero). Sent again with the same content it changes nothing; with
/// other content it is refused (an ERP payment is not edited: reverse it in the ERP).
pub async fn record_external_payments(
    conn: &mut PgConnection,
    by: Actor,
    records: &[erp::ExternalPaymentRecord],
) -> Result<Vec<Recorded>> {
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        out.push(record_external_payment(conn, by, r).await?);
    }
    Ok(out)
}

async fn record_external_payment(
    conn: &mut PgConnection,
    by: Actor,
    r: &erp::ExternalPaymentRecord,
) -> Result<Recorded> {
    let refused = |o: Outcome| Recorded {
        outcome: o,
        payment: None,
    };
    let p = match r.check() {
        Ok(p) => p,
        Err(errs) => return Ok(refused(Outcome::Refused(errs))),
    };
    let Some(co) = sqlx::query!(
        r#"SELECT id, currency::text AS "currency!" FROM companies WHERE code = $1"#,
        p.company.as_str()
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(refused(unknown_company(p.company.as_str())));
    };
    let (company, currency) = (co.id, crate::companies::currency(&co.currency)?);
    let numbers: Vec<String> = p.allocations.iter().map(|(n, _)| n.clone()).collect();
    // Lock the invoices first: two sends of one payment, or a payment in Settle, wait here.
    let invoices: Vec<(i64, String, Decimal, InvoiceStatus)> = sqlx::query!(
        r#"SELECT id, number, balance, status AS "status: InvoiceStatus" FROM invoices
           WHERE company_id = $1 AND number = ANY($2) ORDER BY id FOR UPDATE"#,
        company,
        &numbers
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.number, r.balance, r.status))
    .collect();
    let same_again = sqlx::query!(
        r#"SELECT p.number, p.company_id, p.amount,
                  ARRAY(SELECT i.number FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
                        WHERE a.payment_id = p.id ORDER BY i.number) AS "invoices!",
                  ARRAY(SELECT a.amount FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
                        WHERE a.payment_id = p.id ORDER BY i.number) AS "amounts!"
           FROM payments p WHERE p.external_id = $1"#,
        &p.external_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(was) = same_again {
        let number = was.number;
        let mut wanted: Vec<(&str, Decimal)> = p
            .allocations
            .iter()
            .map(|(n, a)| (n.as_str(), *a))
            .collect();
        wanted.sort();
        let had: Vec<(&str, Decimal)> = was
            .invoices
            .iter()
            .map(String::as_str)
            .zip(was.amounts.iter().copied())
            .collect();
        let same = was.company_id == company && was.amount == p.amount && had == wanted;
        return Ok(if same {
            Recorded {
                outcome: Outcome::Unchanged,
                payment: Some(number),
            }
        } else {
            refused(Outcome::refused(
                "id",
                format!(
                    "Payment {} was already recorded (as {number}) with other amounts; an ERP payment is not changed — reverse it in the ERP and send a new one.",
                    p.external_id
                ),
            ))
        });
    }
    let by_number: HashMap<&str, &(i64, String, Decimal, InvoiceStatus)> =
        invoices.iter().map(|i| (i.1.as_str(), i)).collect();
    let mut errs = Vec::new();
    let mut line_ids = Vec::new();
    let mut line_amounts = Vec::new();
    for (k, (n, a)) in p.allocations.iter().enumerate() {
        match by_number.get(n.as_str()) {
            None => errs.push(FieldError::new(
                format!("allocations/{k}/invoice"),
                format!("Company {} has no invoice {n}.", p.company),
            )),
            Some((_, _, _, status)) if *status != InvoiceStatus::Open => {
                errs.push(FieldError::new(
                    format!("allocations/{k}/invoice"),
                    format!(
                        "Invoice {n} is {}: nothing can be applied to it.",
                        status.as_str().replace('_', " ")
                    ),
                ))
            }
            Some((_, _, balance, _)) if a > balance => errs.push(FieldError::new(
                format!("allocations/{k}/amount"),
                format!(
                    "{} is more than invoice {n}'s balance of {}.",
                    Money::new(*a, currency).display(),
                    Money::new(*balance, currency).display()
                ),
            )),
            Some((id, ..)) => {
                line_ids.push(*id);
                line_amounts.push(*a);
            }
        }
    }
    if !errs.is_empty() {
        return Ok(refused(Outcome::Refused(errs)));
    }
    let label = match &p.reference {
        Some(r) => format!("{} {r}", p.kind.label()),
        None => p.kind.label().to_string(),
    };
    let inserted = sqlx::query!(
        "INSERT INTO payments (company_id, amount, currency, status, source, external_id, external_kind, \
                               received_on, method_label, memo) \
         VALUES ($1, $2, $3, 'settled', 'erp', $4, $5, $6, $7, $8) \
         ON CONFLICT (external_id) DO NOTHING RETURNING id, number",
        company,
        p.amount,
        currency.code(),
        &p.external_id,
        p.kind.as_str(),
        p.received_on,
        &label,
        p.reference.as_deref()
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| (r.id, r.number));
    let Some((payment_id, number)) = inserted else {
        // Sent twice at once: the other send recorded it while this one waited.
        return Box::pin(record_external_payment(conn, by, r)).await;
    };
    sqlx::query!(
        "WITH line AS (SELECT * FROM unnest($2::bigint[], $3::numeric[]) AS l(invoice_id, amount)), \
              taken AS (UPDATE invoices i SET balance = i.balance - line.amount, updated_at = now() \
                        FROM line WHERE i.id = line.invoice_id RETURNING i.id, i.balance) \
         INSERT INTO payment_allocations (payment_id, invoice_id, amount, balance_after) \
         SELECT $1, line.invoice_id, line.amount, taken.balance FROM line JOIN taken ON taken.id = line.invoice_id",
        payment_id,
        &line_ids,
        &line_amounts
    )
    .execute(&mut *conn)
    .await?;
    audit_writes(
        conn,
        by,
        "payment.recorded_in_erp",
        "payment",
        &[(
            Some(company),
            number.clone(),
            json!({ "external_id": p.external_id, "kind": p.kind.as_str(), "amount": format!("{:.2}", p.amount),
                    "allocations": p.allocations.iter().map(|(n, a)| json!({"invoice": n, "amount": format!("{a:.2}")})).collect::<Vec<_>>() }),
        )],
    )
    .await?;
    Ok(Recorded {
        outcome: Outcome::Created,
        payment: Some(number),
    })
}

/// A company as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRow {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub open_balance: Decimal,
    pub open_invoices: i64,
    pub unapplied_credit: Decimal,
}

/// A company by its Company ID.
pub async fn company(pool: &sqlx::PgPool, code: &str) -> Result<Option<CompanyRow>> {
    Ok(sqlx::query_as!(
        CompanyRow,
        r#"SELECT c.code, c.name, c.currency::text AS "currency!",
                  COALESCE(b.open_balance, 0) AS "open_balance!", COALESCE(b.open_invoices, 0) AS "open_invoices!",
                  COALESCE((SELECT sum(k.remaining) FROM credits k LEFT JOIN payments p ON p.id = k.payment_id
                            WHERE k.company_id = c.id AND (k.payment_id IS NULL OR p.status IN ('approved', 'settled'))), 0)
                      AS "unapplied_credit!"
           FROM companies c LEFT JOIN company_balances b ON b.company_id = c.id WHERE c.code = $1"#,
        code
    )
    .fetch_optional(pool)
    .await?)
}

/// An invoice as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceRow {
    pub company_id: String,
    pub number: String,
    pub po_number: Option<String>,
    pub issue_date: chrono::NaiveDate,
    pub due_date: chrono::NaiveDate,
    pub currency: String,
    pub total: Decimal,
    pub balance: Decimal,
    pub status: InvoiceStatus,
}

/// An invoice by Company ID and number.
pub async fn invoice(pool: &sqlx::PgPool, code: &str, number: &str) -> Result<Option<InvoiceRow>> {
    Ok(sqlx::query_as!(
        InvoiceRow,
        r#"SELECT c.code AS company_id, i.number, i.po_number, i.issue_date, i.due_date,
                  i.currency::text AS "currency!", i.total, i.balance, i.status AS "status: InvoiceStatus"
           FROM invoices i JOIN companies c ON c.id = i.company_id WHERE c.code = $1 AND i.number = $2"#,
        code,
        number
    )
    .fetch_optional(pool)
    .await?)
}

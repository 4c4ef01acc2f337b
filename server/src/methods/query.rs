//! Reading saved methods: the ones a payer may choose, the System → Payment Methods list and
//! its search, a company's methods, and one method's detail with its document and history.

use super::{not_found, MethodRow};
use crate::audit::Action;
use crate::authority::{CompanyScope, PayLink, Staff};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use shared::bank::AccountType;
use shared::card::{CardBrand, CardFunding};
use shared::company::CompanyCode;
use shared::method::{
    DocumentInfo, HistoryEntry, MethodDetail, MethodKind, MethodOption, MethodSearch, MethodSort,
    MethodStatus, MethodSummary,
};
use shared::page::{last_page, Page, PAGE_SIZE};
use shared::{CompanyId, DocumentId, MethodId, PayLinkId};
use sqlx::{PgConnection, PgPool};

/// The saved methods a payer may choose for `company`: active ones only, default first.
/// Expired cards are listed (shown as expired); the payment engine refuses them.
pub async fn active_methods(pool: &PgPool, scope: &CompanyScope) -> Result<Vec<MethodOption>> {
    let company = scope.id();
    sqlx::query_as!(
        MethodRow,
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default
           FROM payment_methods m WHERE m.company_id = $1 AND m.active
           ORDER BY m.is_default DESC, m.created_at DESC, m.id DESC"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(MethodRow::into_option)
    .collect()
}

/// The active methods a pay link offers its holder: the company's default by its label only
/// (unless it was saved through the link), then those saved through the link, in full.
pub async fn offered_through_link(pool: &PgPool, link: &PayLink) -> Result<Vec<MethodOption>> {
    let (company, link) = (link.company(), link.id());
    let rows = sqlx::query!(
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default, m.pay_link_id IS NOT DISTINCT FROM $2 AS "through_link!"
           FROM payment_methods m
           WHERE m.company_id = $1 AND m.active AND (m.is_default OR m.pay_link_id = $2)
           ORDER BY m.is_default DESC, m.created_at DESC, m.id DESC"#,
        company as CompanyId,
        link as PayLinkId
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let option = method_row!(r).into_option()?;
            Ok(if r.through_link {
                option
            } else {
                option.label_only()
            })
        })
        .collect()
}

/// A method as the payment engine charges it.
pub(crate) struct PayableMethod {
    pub option: MethodOption,
    pub active: bool,
    pub token: String,
}

/// `company`'s method `method`, locked (FOR SHARE) so a deactivation waits for the payment
/// that is checking it.
pub(crate) async fn lock_for_payment(
    tx: &mut PgConnection,
    method: MethodId,
    company: CompanyId,
) -> Result<Option<PayableMethod>> {
    let row = sqlx::query!(
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default, m.active, m.gateway_token
           FROM payment_methods m WHERE m.id = $1 AND m.company_id = $2 FOR SHARE"#,
        method as MethodId,
        company as CompanyId
    )
    .fetch_optional(tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let option = method_row!(r).into_option()?;
    Ok(Some(PayableMethod {
        option,
        active: r.active,
        token: r.gateway_token,
    }))
}

/// A method with its company and who added it, as the lists show it.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: MethodId,
    kind: MethodKind,
    holder_name: String,
    last4: String,
    card_brand: Option<CardBrand>,
    card_funding: Option<CardFunding>,
    exp_month: Option<i16>,
    exp_year: Option<i16>,
    bank_name: Option<String>,
    account_type: Option<AccountType>,
    is_default: bool,
    active: bool,
    company_code: String,
    company_name: String,
    added_by: Option<String>,
    added_at: DateTime<Utc>,
}

impl SummaryRow {
    fn into_summary(self, today: NaiveDate) -> Result<MethodSummary> {
        let active = self.active;
        let method = method_row!(self).into_option()?;
        Ok(MethodSummary {
            status: MethodStatus::of(&method, active, today),
            method,
            company_code: CompanyCode::parse(&self.company_code)
                .map_err(|e| Error::Other(e.message))?,
            company_name: self.company_name,
            active,
            added_by: self.added_by,
            added_at: self.added_at,
        })
    }
}

/// System → Payment Methods: one page of every company's saved methods, searched by
/// company name or ID or last 4, filtered to one Company ID, sorted. Staff only.
///
/// The one query here built at run time: its ORDER BY is the column the user sorts by.
pub async fn search(
    pool: &PgPool,
    _staff: &Staff,
    search: &MethodSearch,
    today: NaiveDate,
) -> Result<Page<MethodSummary>> {
    let pattern = search.q.as_deref().map(crate::companies::contains_pattern);
    let company = search.company.as_ref().map(CompanyCode::as_str);
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM payment_methods m JOIN companies c ON c.id = m.company_id
           WHERE ($1::text IS NULL OR c.code ILIKE $2 OR c.name ILIKE $2 OR m.last4 = $1)
             AND ($3::text IS NULL OR c.code = $3)"#,
        search.q,
        pattern,
        company
    )
    .fetch_one(pool)
    .await?;
    let page = search.page.clamp(1, last_page(total, PAGE_SIZE));
    let dir = if search.descending { "DESC" } else { "ASC" };
    let order = match search.sort {
        MethodSort::Company => format!("c.code {dir}, m.created_at DESC, m.id DESC"),
        MethodSort::Type => format!(
            "m.kind {dir}, coalesce(m.card_brand, m.bank_name) {dir}, m.last4 {dir}, m.id DESC"
        ),
        MethodSort::Status => format!(
            "m.active {}, c.code, m.id DESC",
            if search.descending { "ASC" } else { "DESC" }
        ),
        MethodSort::Added => format!("m.created_at {dir}, m.id {dir}"),
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT m.id, m.kind, m.holder_name, m.last4::text AS last4, m.card_brand, m.card_funding, m.exp_month, \
                m.exp_year, m.bank_name, m.account_type, m.is_default, m.active, \
                c.code AS company_code, c.name AS company_name, u.name AS added_by, \
                m.created_at AS added_at \
         FROM payment_methods m JOIN companies c ON c.id = m.company_id \
         LEFT JOIN users u ON u.id = m.created_by \
         WHERE ($1::text IS NULL OR c.code ILIKE $2 OR c.name ILIKE $2 OR m.last4 = $1) \
           AND ($3::text IS NULL OR c.code = $3) \
         ORDER BY {order} LIMIT $4 OFFSET $5"
    ))
    .bind(&search.q)
    .bind(&pattern)
    .bind(company)
    .bind(PAGE_SIZE)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(pool)
    .await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| r.into_summary(today))
            .collect::<Result<_>>()?,
        total,
        total_is: shared::page::Total::Exact,
        page,
        per_page: PAGE_SIZE,
    })
}

/// Every saved method of one company, active first, newest first.
pub async fn company_methods(
    pool: &PgPool,
    scope: &CompanyScope,
    today: NaiveDate,
) -> Result<Vec<MethodSummary>> {
    let company = scope.id();
    sqlx::query_as!(
        SummaryRow,
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default, m.active, c.code AS company_code, c.name AS company_name,
                  u.name AS "added_by?", m.created_at AS added_at
           FROM payment_methods m JOIN companies c ON c.id = m.company_id
           LEFT JOIN users u ON u.id = m.created_by
           WHERE m.company_id = $1
           ORDER BY m.active DESC, m.is_default DESC, m.created_at DESC, m.id DESC"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| r.into_summary(today))
    .collect()
}

/// A method with its authorization document and audit history (staff).
pub async fn detail(
    pool: &PgPool,
    _staff: &Staff,
    method: MethodId,
    today: NaiveDate,
) -> Result<MethodDetail> {
    let row = sqlx::query_as!(
        SummaryRow,
        r#"SELECT m.id AS "id: MethodId", m.kind AS "kind: MethodKind", m.holder_name,
                  m.last4::text AS "last4!", m.card_brand AS "card_brand: CardBrand", m.card_funding AS "card_funding: CardFunding", m.exp_month,
                  m.exp_year, m.bank_name, m.account_type AS "account_type: AccountType",
                  m.is_default, m.active, c.code AS company_code, c.name AS company_name,
                  u.name AS "added_by?", m.created_at AS added_at
           FROM payment_methods m JOIN companies c ON c.id = m.company_id
           LEFT JOIN users u ON u.id = m.created_by
           WHERE m.id = $1"#,
        method as MethodId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    let summary = row.into_summary(today)?;
    // The fields only ACH has, and its authorization document, in one read.
    let extra = sqlx::query!(
        r#"SELECT m.routing_number::text AS routing_number, m.holder_type,
                  d.id AS "document_id?: DocumentId", d.file_name AS "file_name?",
                  d.content_type AS "content_type?", d.size_bytes AS "size_bytes?",
                  d.sha256 AS "sha256?", d.signed_on, u.name AS "uploaded_by?",
                  d.created_at AS "uploaded_at?"
           FROM payment_methods m LEFT JOIN documents d ON d.id = m.authorization_document_id
           LEFT JOIN users u ON u.id = d.uploaded_by WHERE m.id = $1"#,
        method as MethodId
    )
    .fetch_one(pool)
    .await?;
    let document = match (
        extra.document_id,
        extra.file_name,
        extra.content_type,
        extra.size_bytes,
        extra.sha256,
        extra.uploaded_at,
    ) {
        (Some(id), Some(file_name), Some(content_type), Some(size), Some(sha256), Some(at)) => {
            Some(DocumentInfo {
                id,
                file_name,
                content_type,
                size_bytes: i64::from(size),
                sha256: crate::tokens::hex(&sha256),
                signed_on: extra.signed_on,
                uploaded_by: extra.uploaded_by,
                uploaded_at: at,
            })
        }
        _ => None,
    };
    let events = sqlx::query!(
        r#"SELECT e.at, u.name AS "name?", e.actor_role AS "actor_role: shared::auth::Role",
                  e.action AS "action: Action", e.details
           FROM audit_events e LEFT JOIN users u ON u.id = e.actor_user_id
           WHERE e.entity_type = 'payment_method' AND e.entity_id = $1 ORDER BY e.at DESC, e.id DESC"#,
        method.to_string()
    )
    .fetch_all(pool)
    .await?;
    let history = events
        .into_iter()
        .map(|e| HistoryEntry {
            at: e.at,
            who: match (e.name, e.actor_role) {
                (Some(n), Some(shared::auth::Role::Customer)) => format!("{n} (customer)"),
                (Some(n), _) => n,
                (None, _) => "Settle".to_string(),
            },
            what: describe(e.action, &e.details),
        })
        .collect();
    Ok(MethodDetail {
        summary,
        routing_number: extra.routing_number,
        holder_type: extra.holder_type,
        document,
        history,
    })
}

/// An audit action on a method as a person reads it.
fn describe(action: Action, details: &serde_json::Value) -> String {
    match action {
        Action::MethodAdded => match details.get("method").and_then(|m| m.as_str()) {
            Some(m) => format!("Added {m}"),
            None => "Added".to_string(),
        },
        Action::MethodActivated => "Activated".to_string(),
        Action::MethodDeactivated => "Deactivated".to_string(),
        Action::MethodDefaultSet => "Made the default method".to_string(),
        other => format!("{other:?}"),
    }
}

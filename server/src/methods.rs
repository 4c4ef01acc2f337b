//! Saved payment methods: adding one from a gateway token (cards, and ACH accounts with
//! their signed debit authorization), listing and searching them, their detail and history,
//! and activating and deactivating them — each change with an audit row in its transaction.
//!
//! A deactivation takes the method's row lock, so it waits for a payment that is already
//! checking the method, and every payment that starts after it sees the method inactive.

use crate::audit::{self, Actor, Event};
use crate::gateway::{PaymentGateway, TokenDetails};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::auth::SessionUser;
use shared::bank::{bank_name, AccountType, HolderType};
use shared::card::{check_holder_name, CardExpiry};
use shared::company::CompanyCode;
use shared::document::{check_upload, clean_file_name, parse_signed_on, UploadedDocument};
use shared::method::{
    ach_authorization_text, AuthorizedAccount, DocumentInfo, HistoryEntry, MethodDetail,
    MethodSearch, MethodSort, MethodStatus, MethodSummary, NewBankAccountInput,
    PortalBankAccountInput, ACH_AUTHORIZATION_VERSION,
};
use shared::page::{last_page, Page, PAGE_SIZE};
use shared::payment::{MethodKind, MethodOption};
use shared::AppError;
use sqlx::{PgConnection, PgPool};

/// An authorization document can belong to one method only.
const DOCUMENT_IN_USE: &str =
    "This authorization is already on file for another account. Upload the one for this account.";

/// The columns of a [`MethodRow`]; the table is always `m`.
macro_rules! method_columns {
    () => {
        "m.id, m.kind, m.holder_name, m.last4::text AS last4, m.card_brand, m.exp_month, m.exp_year, \
         m.bank_name, m.account_type, m.is_default, m.active, m.gateway_token"
    };
}

/// A method as a payer chooses it.
pub(crate) const METHOD_SELECT: &str =
    concat!("SELECT ", method_columns!(), " FROM payment_methods m");

#[derive(sqlx::FromRow)]
pub(crate) struct MethodRow {
    pub id: i64,
    pub kind: String,
    pub holder_name: String,
    pub last4: String,
    pub card_brand: Option<String>,
    pub exp_month: Option<i16>,
    pub exp_year: Option<i16>,
    pub bank_name: Option<String>,
    pub account_type: Option<String>,
    pub is_default: bool,
    pub active: bool,
    pub gateway_token: String,
}

impl MethodRow {
    pub fn into_option(self) -> MethodOption {
        MethodOption {
            id: self.id,
            kind: if self.kind == "ach" {
                MethodKind::Ach
            } else {
                MethodKind::Card
            },
            holder_name: self.holder_name,
            last4: self.last4,
            brand: self.card_brand,
            exp_month: self.exp_month,
            exp_year: self.exp_year,
            bank_name: self.bank_name,
            account_type: self.account_type,
            is_default: self.is_default,
        }
    }
}

/// The saved methods a payer may choose for `company_id`: active ones only, default first.
/// Expired cards are listed (shown as expired); the payment engine refuses them.
pub async fn active_methods(pool: &PgPool, company_id: i64) -> Result<Vec<MethodOption>> {
    let rows: Vec<MethodRow> = sqlx::query_as(&format!(
        "{METHOD_SELECT} WHERE m.company_id = $1 AND m.active \
         ORDER BY m.is_default DESC, m.created_at DESC, m.id DESC"
    ))
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(MethodRow::into_option).collect())
}

fn actor(user: &SessionUser) -> Actor {
    Actor::user(user.id, user.role)
}

fn field(name: &str, message: &str) -> Error {
    AppError::invalid(name, message).into()
}

/// The display fields of a token, from the gateway (never from the browser).
async fn token_details(gateway: &dyn PaymentGateway, token: &str) -> Result<TokenDetails> {
    let lookup = gateway.token_details(token);
    let details = crate::gateway::within(crate::gateway::LOOKUP_TIMEOUT, lookup)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "gateway token lookup failed");
            field(
                "token",
                "The payment gateway did not answer. Your details were not saved; try again.",
            )
        })?;
    details.ok_or_else(|| {
        field(
            "token",
            "The payment gateway does not know this card or account. Enter the details again.",
        )
    })
}

/// The routing number and last 4 of a bank account token.
async fn bank_account_of(gateway: &dyn PaymentGateway, token: &str) -> Result<(String, String)> {
    match token_details(gateway, token).await? {
        TokenDetails::BankAccount {
            routing_number,
            last4,
        } => Ok((routing_number, last4)),
        TokenDetails::Card { .. } => Err(field(
            "token",
            "This token is for a card, not a bank account.",
        )),
    }
}

/// Inserts a method and its audit row; the company's first active method becomes its
/// default. A token already saved is refused.
async fn insert_method(
    tx: &mut PgConnection,
    user: &SessionUser,
    company_id: i64,
    m: NewMethod<'_>,
) -> Result<MethodOption> {
    // One method added at a time per company, so "first active method is the default" holds
    // and the same card or account is not saved twice (a retry after a lost answer).
    sqlx::query("SELECT 1 FROM companies WHERE id = $1 FOR UPDATE")
        .bind(company_id)
        .execute(&mut *tx)
        .await?;
    let same: Option<(bool, String)> = sqlx::query_as(
        "SELECT active, kind FROM payment_methods WHERE company_id = $1 AND kind = $2 AND last4 = $3 \
           AND (kind <> 'card' OR (card_brand = $4 AND exp_month = $5 AND exp_year = $6)) \
           AND (kind <> 'ach' OR routing_number = $7) \
         ORDER BY active DESC LIMIT 1",
    )
    .bind(company_id)
    .bind(m.kind)
    .bind(m.last4)
    .bind(m.brand)
    .bind(m.exp_month)
    .bind(m.exp_year)
    .bind(m.routing_number)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((active, kind)) = same {
        let what = if kind == "card" {
            "card"
        } else {
            "bank account"
        };
        return Err(field(
            "token",
            &if active {
                format!("This {what} is already saved for this company.")
            } else {
                format!("This {what} is already saved for this company but inactive: activate it instead of adding it again.")
            },
        ));
    }
    let inserted: Option<MethodRow> = sqlx::query_as(concat!(
        "WITH ins AS (
            INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand,
                exp_month, exp_year, bank_name, routing_number, account_type, holder_type,
                authorization_document_id, is_default, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                NOT EXISTS (SELECT 1 FROM payment_methods WHERE company_id = $1 AND is_default), $14)
            ON CONFLICT (gateway_token) DO NOTHING
            RETURNING *)
         SELECT ", method_columns!(), " FROM ins m"),
    )
    .bind(company_id)
    .bind(m.kind)
    .bind(m.token)
    .bind(m.holder_name)
    .bind(m.last4)
    .bind(m.brand)
    .bind(m.exp_month)
    .bind(m.exp_year)
    .bind(m.bank_name)
    .bind(m.routing_number)
    .bind(m.account_type)
    .bind(m.holder_type)
    .bind(m.document_id)
    .bind(user.id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| {
        // Two requests attaching the same authorization at once: the index decides.
        let same_document = e
            .as_database_error()
            .and_then(|d| d.constraint())
            .is_some_and(|c| c == "payment_methods_document");
        if same_document {
            field(
                shared::document::FIELD,
                DOCUMENT_IN_USE,
            )
        } else {
            e.into()
        }
    })?;
    let Some(row) = inserted else {
        return Err(field("token", "This card or account is already saved."));
    };
    let option = row.into_option();
    audit::record(
        tx,
        Event {
            actor: actor(user),
            on_behalf_company_id: Some(company_id),
            action: "payment_method.added",
            entity_type: "payment_method",
            entity_id: Some(option.id.to_string()),
            details: json!({
                "kind": m.kind,
                "method": option.label(),
                "document_id": m.document_id,
                "default": option.is_default,
            }),
        },
    )
    .await?;
    Ok(option)
}

struct NewMethod<'a> {
    kind: &'static str,
    token: &'a str,
    holder_name: &'a str,
    last4: &'a str,
    brand: Option<&'a str>,
    exp_month: Option<i16>,
    exp_year: Option<i16>,
    bank_name: Option<&'a str>,
    routing_number: Option<&'a str>,
    account_type: Option<&'a str>,
    holder_type: Option<&'a str>,
    document_id: Option<i64>,
}

/// Saves a card the gateway tokenized, for `company_id`. The brand, last 4 and expiry come
/// from the gateway; a card already past its expiry is refused.
pub async fn add_card(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    user: &SessionUser,
    company_id: i64,
    token: &str,
    holder_name: &str,
    today: NaiveDate,
) -> Result<MethodOption> {
    let holder_name = check_holder_name(holder_name)?;
    let TokenDetails::Card {
        brand,
        last4,
        exp_month,
        exp_year,
    } = token_details(gateway, token).await?
    else {
        return Err(field(
            "token",
            "This token is for a bank account, not a card.",
        ));
    };
    CardExpiry::new(exp_month, exp_year, today)?;
    let mut tx = pool.begin().await?;
    let option = insert_method(
        &mut tx,
        user,
        company_id,
        NewMethod {
            kind: "card",
            token,
            holder_name: &holder_name,
            last4: &last4,
            brand: Some(&brand),
            exp_month: Some(exp_month as i16),
            exp_year: Some(exp_year as i16),
            bank_name: None,
            routing_number: None,
            account_type: None,
            holder_type: None,
            document_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(method_id = option.id, company_id, "card added");
    Ok(option)
}

/// Saves an ACH bank account the gateway tokenized, with the customer's signed debit
/// authorization: a document this user uploaded for this company and not yet used.
pub async fn add_bank_account(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    user: &SessionUser,
    company_id: i64,
    input: &NewBankAccountInput,
    today: NaiveDate,
) -> Result<MethodOption> {
    let holder_name = check_holder_name(&input.holder_name)?;
    let holder_type = HolderType::parse(&input.holder_type)?;
    let account_type = AccountType::parse(&input.account_type)?;
    let Some(document_id) = input.document_id else {
        return Err(field(
            shared::document::FIELD,
            "Upload the customer's signed debit authorization. ACH cannot be added without it.",
        ));
    };
    let signed_on = parse_signed_on(&input.signed_on, today)?;
    let (routing_number, last4) = bank_account_of(gateway, &input.token).await?;
    let mut tx = pool.begin().await?;
    let usable: Option<bool> = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.authorization_document_id = d.id) \
         FROM documents d WHERE d.id = $1 AND d.company_id = $2 AND d.uploaded_by = $3 \
           AND d.kind = 'ach_authorization' FOR UPDATE",
    )
    .bind(document_id)
    .bind(company_id)
    .bind(user.id)
    .fetch_optional(&mut *tx)
    .await?;
    match usable {
        Some(true) => {}
        Some(false) => return Err(field(shared::document::FIELD, DOCUMENT_IN_USE)),
        None => {
            return Err(field(
                shared::document::FIELD,
                "The uploaded authorization was not found. Upload it again.",
            ))
        }
    }
    sqlx::query("UPDATE documents SET signed_on = $2 WHERE id = $1")
        .bind(document_id)
        .bind(signed_on)
        .execute(&mut *tx)
        .await?;
    let option = insert_ach(
        &mut tx,
        user,
        company_id,
        &input.token,
        &holder_name,
        (&routing_number, &last4),
        (holder_type, account_type),
        document_id,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(method_id = option.id, company_id, "bank account added");
    Ok(option)
}

/// Inserts an ACH method with its authorization document.
#[allow(clippy::too_many_arguments)]
async fn insert_ach(
    tx: &mut PgConnection,
    user: &SessionUser,
    company_id: i64,
    token: &str,
    holder_name: &str,
    (routing_number, last4): (&str, &str),
    (holder_type, account_type): (HolderType, AccountType),
    document_id: i64,
) -> Result<MethodOption> {
    insert_method(
        tx,
        user,
        company_id,
        NewMethod {
            kind: "ach",
            token,
            holder_name,
            last4,
            brand: None,
            exp_month: None,
            exp_year: None,
            bank_name: bank_name(routing_number),
            routing_number: Some(routing_number),
            account_type: Some(account_type.as_db()),
            holder_type: Some(holder_type.as_db()),
            document_id: Some(document_id),
        },
    )
    .await
}

/// Saves an ACH bank account a customer adds in the portal. They authorize the debit
/// themselves: the authorization's version and wording, their typed name, when and from
/// which address are kept as the method's authorization document.
pub async fn add_bank_account_portal(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    user: &SessionUser,
    company_id: i64,
    input: &PortalBankAccountInput,
    ip: Option<&str>,
    today: NaiveDate,
) -> Result<MethodOption> {
    let holder_name = check_holder_name(&input.holder_name)?;
    let holder_type = HolderType::parse(&input.holder_type)?;
    let account_type = AccountType::parse(&input.account_type)?;
    let signed_name = input.check_authorization()?;
    let (routing_number, last4) = bank_account_of(gateway, &input.token).await?;
    let mut tx = pool.begin().await?;
    let company: String = sqlx::query_scalar("SELECT name FROM companies WHERE id = $1")
        .bind(company_id)
        .fetch_one(&mut *tx)
        .await?;
    let text = ach_authorization_text(AuthorizedAccount {
        company: &company,
        routing_number: &routing_number,
        account_type,
        last4: &last4,
    });
    let record = format!(
        "ACH debit authorization {version}\n\n{text}\n\nAgreed: yes\nSigned (typed name): {signed_name}\n\
         User: {email} (user id {uid})\nCompany: {company}\nAt: {at}\nFrom address: {ip}\n",
        version = ACH_AUTHORIZATION_VERSION,
        email = user.email,
        uid = user.id,
        at = Utc::now().to_rfc3339(),
        ip = ip.unwrap_or("unknown"),
    );
    let bytes = record.into_bytes();
    let document_id: i64 = sqlx::query_scalar(
        "INSERT INTO documents (company_id, kind, file_name, content_type, size_bytes, sha256, content, signed_on, uploaded_by) \
         VALUES ($1, 'ach_authorization', $2, 'text/plain', $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(company_id)
    .bind(format!("ach-authorization-{ACH_AUTHORIZATION_VERSION}.txt"))
    .bind(bytes.len() as i32)
    .bind(Sha256::digest(&bytes).to_vec())
    .bind(&bytes)
    .bind(today)
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    let option = insert_ach(
        &mut tx,
        user,
        company_id,
        &input.token,
        &holder_name,
        (&routing_number, &last4),
        (holder_type, account_type),
        document_id,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        method_id = option.id,
        company_id,
        "bank account added in the portal"
    );
    Ok(option)
}

#[derive(sqlx::FromRow)]
struct OwnedMethodRow {
    #[sqlx(flatten)]
    method: MethodRow,
    owner: i64,
}

/// Makes an active, unexpired method its company's default (pre-selected when paying).
/// `company_id` limits it to that company's methods (the portal); staff pass `None`.
pub async fn set_default(
    pool: &PgPool,
    user: &SessionUser,
    method_id: i64,
    company_id: Option<i64>,
    today: NaiveDate,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row: Option<OwnedMethodRow> = sqlx::query_as(&format!(
        "{} WHERE m.id = $1 AND ($2::bigint IS NULL OR m.company_id = $2) FOR UPDATE",
        concat!(
            "SELECT ",
            method_columns!(),
            ", m.company_id AS owner FROM payment_methods m"
        )
    ))
    .bind(method_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(OwnedMethodRow { method: row, owner }) = row else {
        return Err(AppError::NotFound("Payment method".into()).into());
    };
    if !row.active {
        return Err(field(
            "method",
            "Activate this method before making it the default.",
        ));
    }
    let option = row.into_option();
    if option.is_expired(today) {
        return Err(field("method", "An expired card cannot be the default."));
    }
    if option.is_default {
        return Ok(());
    }
    // One default change at a time per company (the one-default index would refuse a race).
    sqlx::query("SELECT 1 FROM companies WHERE id = $1 FOR UPDATE")
        .bind(owner)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE payment_methods SET is_default = false, updated_at = now() WHERE company_id = $1 AND is_default",
    )
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE payment_methods SET is_default = true, updated_at = now() WHERE id = $1")
        .bind(method_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            actor: actor(user),
            on_behalf_company_id: Some(owner),
            action: "payment_method.default_set",
            entity_type: "payment_method",
            entity_id: Some(method_id.to_string()),
            details: json!({ "method": option.label() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Keeps an uploaded ACH debit authorization for `company_id`, judged by its content. It
/// waits to be attached to a method; unattached uploads are cleared after a day.
pub async fn store_document(
    pool: &PgPool,
    user: &SessionUser,
    company_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> Result<UploadedDocument> {
    let kind = check_upload(file_name, bytes)?;
    let file_name = clean_file_name(file_name);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO documents (company_id, kind, file_name, content_type, size_bytes, sha256, content, uploaded_by) \
         VALUES ($1, 'ach_authorization', $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(company_id)
    .bind(&file_name)
    .bind(kind.content_type())
    .bind(bytes.len() as i32)
    .bind(Sha256::digest(bytes).to_vec())
    .bind(bytes)
    .bind(user.id)
    .fetch_one(pool)
    .await?;
    Ok(UploadedDocument {
        id,
        file_name,
        content_type: kind.content_type().to_string(),
        size_bytes: bytes.len() as i64,
    })
}

/// Deletes uploads never attached to a method, older than a day. Returns how many.
pub async fn clear_unattached_documents(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM documents d WHERE d.created_at < now() - interval '1 day' \
         AND NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.authorization_document_id = d.id)",
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// A stored document's file: name, content type and bytes. `company_id` limits it to that
/// company's documents (the customer portal); staff pass `None`.
pub async fn document_file(
    pool: &PgPool,
    id: i64,
    company_id: Option<i64>,
) -> Result<(String, String, Vec<u8>)> {
    let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT file_name, content_type, content FROM documents \
         WHERE id = $1 AND ($2::bigint IS NULL OR company_id = $2)",
    )
    .bind(id)
    .bind(company_id)
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| AppError::NotFound("Document".into()).into())
}

const SUMMARY_SELECT: &str = concat!(
    "SELECT ",
    method_columns!(),
    ", c.code AS company_code, c.name AS company_name, u.name AS added_by, m.created_at AS added_at \
     FROM payment_methods m JOIN companies c ON c.id = m.company_id LEFT JOIN users u ON u.id = m.created_by"
);

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    method: MethodRow,
    company_code: String,
    company_name: String,
    added_by: Option<String>,
    added_at: DateTime<Utc>,
}

impl SummaryRow {
    fn into_summary(self, today: NaiveDate) -> Result<MethodSummary> {
        let active = self.method.active;
        let method = self.method.into_option();
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
/// company name or ID or last 4, filtered to one Company ID, sorted.
pub async fn search(
    pool: &PgPool,
    search: &MethodSearch,
    today: NaiveDate,
) -> Result<Page<MethodSummary>> {
    let pattern = search.q.as_deref().map(crate::companies::contains_pattern);
    let filter = "WHERE ($1::text IS NULL OR c.code ILIKE $2 OR c.name ILIKE $2 OR m.last4 = $1) \
                  AND ($3::text IS NULL OR c.code = $3)";
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM payment_methods m JOIN companies c ON c.id = m.company_id {filter}"
    ))
    .bind(&search.q)
    .bind(&pattern)
    .bind(search.company.as_ref().map(CompanyCode::as_str))
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
        "{SUMMARY_SELECT} {filter} ORDER BY {order} LIMIT $4 OFFSET $5"
    ))
    .bind(&search.q)
    .bind(&pattern)
    .bind(search.company.as_ref().map(CompanyCode::as_str))
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
        page,
        per_page: PAGE_SIZE,
    })
}

/// Every saved method of one company, active first, newest first.
pub async fn company_methods(
    pool: &PgPool,
    company_id: i64,
    today: NaiveDate,
) -> Result<Vec<MethodSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE m.company_id = $1 ORDER BY m.active DESC, m.is_default DESC, m.created_at DESC, m.id DESC"
    ))
    .bind(company_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|r| r.into_summary(today)).collect()
}

/// A method with its authorization document and audit history. `company_id` limits it to
/// that company's methods (the customer portal); staff pass `None`.
pub async fn detail(
    pool: &PgPool,
    method_id: i64,
    company_id: Option<i64>,
    today: NaiveDate,
) -> Result<MethodDetail> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY_SELECT} WHERE m.id = $1 AND ($2::bigint IS NULL OR m.company_id = $2)"
    ))
    .bind(method_id)
    .bind(company_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Err(AppError::NotFound("Payment method".into()).into());
    };
    let summary = row.into_summary(today)?;
    // The fields only ACH has, and its authorization document, in one read.
    let extra: AchRow = sqlx::query_as(
        "SELECT m.routing_number::text AS routing_number, m.holder_type, d.id AS document_id, d.file_name, \
         d.content_type, d.size_bytes, d.sha256, d.signed_on, u.name AS uploaded_by, d.created_at AS uploaded_at \
         FROM payment_methods m LEFT JOIN documents d ON d.id = m.authorization_document_id \
         LEFT JOIN users u ON u.id = d.uploaded_by WHERE m.id = $1",
    )
    .bind(method_id)
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
                sha256: sha256.iter().map(|b| format!("{b:02x}")).collect(),
                signed_on: extra.signed_on,
                uploaded_by: extra.uploaded_by,
                uploaded_at: at,
            })
        }
        _ => None,
    };
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT e.at, u.name, e.actor_role, e.action, e.details FROM audit_events e \
         LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.entity_type = 'payment_method' AND e.entity_id = $1 ORDER BY e.at DESC, e.id DESC",
    )
    .bind(method_id.to_string())
    .fetch_all(pool)
    .await?;
    let history = events
        .into_iter()
        .map(|e| HistoryEntry {
            at: e.at,
            who: match (e.name, e.actor_role.as_deref()) {
                (Some(n), Some("customer")) => format!("{n} (customer)"),
                (Some(n), _) => n,
                (None, _) => "Settle".to_string(),
            },
            what: describe(&e.action, &e.details),
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

#[derive(sqlx::FromRow)]
struct AchRow {
    routing_number: Option<String>,
    holder_type: Option<String>,
    document_id: Option<i64>,
    file_name: Option<String>,
    content_type: Option<String>,
    size_bytes: Option<i32>,
    sha256: Option<Vec<u8>>,
    signed_on: Option<NaiveDate>,
    uploaded_by: Option<String>,
    uploaded_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: DateTime<Utc>,
    name: Option<String>,
    actor_role: Option<String>,
    action: String,
    details: serde_json::Value,
}

/// An audit action as a person reads it.
fn describe(action: &str, details: &serde_json::Value) -> String {
    match action {
        "payment_method.added" => match details.get("method").and_then(|m| m.as_str()) {
            Some(m) => format!("Added {m}"),
            None => "Added".to_string(),
        },
        "payment_method.activated" => "Activated".to_string(),
        "payment_method.deactivated" => "Deactivated".to_string(),
        "payment_method.default_set" => "Made the default method".to_string(),
        other => other.to_string(),
    }
}

/// Sets a method active or inactive on behalf of its company. `company_id` limits the change
/// to that company's methods (the customer portal); staff pass `None`.
pub async fn set_active(
    pool: &PgPool,
    user: &SessionUser,
    method_id: i64,
    company_id: Option<i64>,
    active: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, bool, String, String)> = sqlx::query_as(
        "SELECT company_id, active, kind, last4::text FROM payment_methods \
         WHERE id = $1 AND ($2::bigint IS NULL OR company_id = $2) FOR UPDATE",
    )
    .bind(method_id)
    .bind(company_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((owner, was_active, kind, last4)) = row else {
        return Err(AppError::NotFound("Payment method".into()).into());
    };
    if was_active == active {
        return Ok(());
    }
    sqlx::query("UPDATE payment_methods SET active = $2, is_default = is_default AND $2, updated_at = now() WHERE id = $1")
        .bind(method_id)
        .bind(active)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Event {
            actor: actor(user),
            on_behalf_company_id: Some(owner),
            action: if active { "payment_method.activated" } else { "payment_method.deactivated" },
            entity_type: "payment_method",
            entity_id: Some(method_id.to_string()),
            details: json!({ "kind": kind, "last4": last4, "active": { "from": was_active, "to": active } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

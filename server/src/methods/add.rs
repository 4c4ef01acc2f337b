//! Adding a method from a gateway token: a card, or an ACH bank account with the customer's
//! debit authorization (a signed document staff upload, or the wording the customer agrees
//! to in the portal, kept word for word as the document).

use super::{field, MethodRow};
use crate::audit::{self, Action, Entity, Event};
use crate::authority::CompanyScope;
use crate::gateway::{within, Mandate, PaymentGateway, TokenDetails, LOOKUP_TIMEOUT};
use crate::Result;
use chrono::{NaiveDate, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::bank::{bank_name, AccountType, HolderType};
use shared::card::{CardBrand, CardExpiry, CardFunding};
use shared::method::{
    ach_authorization_text, AgreedOn, Authorization, AuthorizedAccount, MethodKind, MethodOption,
    NewBankAccount, NewCard, ACH_AUTHORIZATION_VERSION,
};
use shared::{CompanyId, DocumentId, MethodId, PayLinkId, UserId};
use sqlx::{PgConnection, PgPool};

/// An authorization document can belong to one method only.
pub(super) const DOCUMENT_IN_USE: &str =
    "This authorization is already on file for another account. Upload the one for this account.";

/// The display fields of a token, from the gateway (never from the browser).
async fn token_details(gateway: &dyn PaymentGateway, token: &str) -> Result<TokenDetails> {
    let details = within(LOOKUP_TIMEOUT, gateway.token_details(token))
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

/// Which gateway issued a token, by its form: Stripe's PaymentMethods (`pm_…`), the NACHA
/// rail's vault (`nacha_ba_…`), else the sandbox. Kept on the saved method.
fn issuer(token: &str) -> &'static str {
    if token.starts_with("pm_") {
        "stripe"
    } else if token.starts_with(crate::ach_files::vault::TOKEN_PREFIX) {
        "nacha"
    } else {
        "sandbox"
    }
}

/// What a new method row holds besides its company.
struct NewMethod<'a> {
    kind: MethodKind,
    token: &'a str,
    holder_name: &'a str,
    last4: &'a str,
    brand: Option<CardBrand>,
    /// `credit`, `debit`, `prepaid` or `unknown`, when the gateway says.
    funding: Option<&'a str>,
    exp_month: Option<i16>,
    exp_year: Option<i16>,
    routing_number: Option<&'a str>,
    account_type: Option<AccountType>,
    holder_type: Option<HolderType>,
    document: Option<DocumentId>,
}

/// Inserts a method and its audit row; the company's first active method becomes its
/// default. A card or account already saved for the company is refused.
async fn insert_method(
    tx: &mut PgConnection,
    scope: &CompanyScope,
    m: NewMethod<'_>,
) -> Result<MethodOption> {
    let company = scope.id();
    // One method added at a time per company, so "first active method is the default" holds
    // and the same card or account is not saved twice (a retry after a lost answer).
    sqlx::query!(
        "SELECT 1 AS one FROM companies WHERE id = $1 FOR UPDATE",
        company as CompanyId
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(link) = scope.pay_link() {
        crate::pay_links::check_new_method(tx, link).await?;
    }
    let same = sqlx::query_scalar!(
        r#"SELECT active FROM payment_methods WHERE company_id = $1 AND kind = $2 AND last4 = $3
             AND (kind <> 'card' OR (card_brand = $4 AND exp_month = $5 AND exp_year = $6))
             AND (kind <> 'ach' OR routing_number = $7)
           ORDER BY active DESC LIMIT 1"#,
        company as CompanyId,
        m.kind as MethodKind,
        m.last4,
        m.brand as Option<CardBrand>,
        m.exp_month,
        m.exp_year,
        m.routing_number
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(active) = same {
        let what = match m.kind {
            MethodKind::Card => "card",
            MethodKind::Ach => "bank account",
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
    let inserted = sqlx::query_as!(
        MethodRow,
        r#"INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, card_brand,
               exp_month, exp_year, bank_name, routing_number, account_type, holder_type,
               authorization_document_id, is_default, created_by, pay_link_id, gateway, card_funding)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
               NOT EXISTS (SELECT 1 FROM payment_methods WHERE company_id = $1 AND is_default), $14, $15,
               $16, $17)
           ON CONFLICT (gateway_token) DO NOTHING
           RETURNING id AS "id: MethodId", kind AS "kind: MethodKind", holder_name,
               last4::text AS "last4!", card_brand AS "card_brand: CardBrand", card_funding AS "card_funding: CardFunding", exp_month, exp_year,
               bank_name, account_type AS "account_type: AccountType", is_default"#,
        company as CompanyId,
        m.kind as MethodKind,
        m.token,
        m.holder_name,
        m.last4,
        m.brand as Option<CardBrand>,
        m.exp_month,
        m.exp_year,
        m.routing_number.and_then(bank_name),
        m.routing_number,
        m.account_type as Option<AccountType>,
        m.holder_type as Option<HolderType>,
        m.document as Option<DocumentId>,
        scope.initiator() as Option<UserId>,
        scope.pay_link().map(|l| l.id()) as Option<PayLinkId>,
        issuer(m.token),
        m.funding
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| {
        // Two requests attaching the same authorization at once: the index decides.
        let same_document = e
            .as_database_error()
            .and_then(|d| d.constraint())
            .is_some_and(|c| c == "payment_methods_document");
        if same_document {
            field(shared::document::FIELD, DOCUMENT_IN_USE)
        } else {
            e.into()
        }
    })?;
    let Some(row) = inserted else {
        return Err(field("token", "This card or account is already saved."));
    };
    let option = row.into_option()?;
    audit::record(
        tx,
        Event {
            actor: scope.actor(),
            on_behalf_of: Some(company),
            action: Action::MethodAdded,
            entity: Entity::PaymentMethod,
            entity_id: Some(option.id.to_string()),
            details: json!({
                "kind": m.kind,
                "method": option.label(),
                "document_id": m.document,
                "default": option.is_default,
            }),
        },
    )
    .await?;
    Ok(option)
}

/// Saves a card the gateway tokenized, for `company`. The brand, last 4 and expiry come from
/// the gateway; a card already past its expiry is refused.
pub async fn add_card(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    scope: &CompanyScope,
    card: &NewCard,
    today: NaiveDate,
) -> Result<MethodOption> {
    let company = scope.id();
    let TokenDetails::Card {
        brand,
        last4,
        exp_month,
        exp_year,
        funding,
    } = token_details(gateway, &card.token).await?
    else {
        return Err(field(
            "token",
            "This token is for a bank account, not a card.",
        ));
    };
    let brand = CardBrand::parse(&brand).ok_or_else(|| {
        field(
            "token",
            "The payment gateway named a card brand Settle does not take.",
        )
    })?;
    CardExpiry::new(exp_month, exp_year, today)?;
    let mut tx = pool.begin().await?;
    let option = insert_method(
        &mut tx,
        scope,
        NewMethod {
            kind: MethodKind::Card,
            token: &card.token,
            holder_name: &card.holder_name,
            last4: &last4,
            brand: Some(brand),
            funding: funding.as_deref(),
            exp_month: i16::try_from(exp_month).ok(),
            exp_year: i16::try_from(exp_year).ok(),
            routing_number: None,
            account_type: None,
            holder_type: None,
            document: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(method_id = %option.id, company_id = %company, "card added");
    Ok(option)
}

/// Saves an ACH bank account the gateway tokenized, with the customer's debit authorization:
/// staff attach a signed document they uploaded for this company and not yet used; a
/// customer agrees in the portal, and the wording they read, their typed name, when and from
/// `address` are kept as the document. Neither may use the other's way. A gateway that keeps
/// a mandate (Stripe) gets the authorization before the account is saved here, with the
/// browser (`user_agent`) it was agreed in; if it refuses, nothing is saved.
pub async fn add_bank_account(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
    scope: &CompanyScope,
    account: &NewBankAccount,
    address: Option<&str>,
    user_agent: Option<&str>,
    today: NaiveDate,
) -> Result<MethodOption> {
    let company = scope.id();
    let (routing_number, last4) = match token_details(gateway, &account.token).await? {
        TokenDetails::BankAccount {
            routing_number,
            last4,
        } => (routing_number, last4),
        TokenDetails::Card { .. } => {
            return Err(field(
                "token",
                "This token is for a card, not a bank account.",
            ))
        }
    };
    let mut tx = pool.begin().await?;
    let (document, record) = match (&account.authorization, scope.is_staff()) {
        (
            Authorization::Uploaded {
                document,
                signed_on,
            },
            true,
        ) => {
            let sha256 = attach_upload(&mut tx, scope, *document, *signed_on).await?;
            (*document, sha256)
        }
        (Authorization::InPortal { signed_name }, false) => {
            let authorized = AuthorizedAccount {
                on: if scope.pay_link().is_some() {
                    AgreedOn::PayPage
                } else {
                    AgreedOn::Portal
                },
                company: "",
                routing_number: &routing_number,
                account_type: account.account_type,
                last4: &last4,
            };
            keep_agreement(&mut tx, scope, authorized, signed_name, address, today).await?
        }
        (Authorization::Uploaded { .. }, false) => return Err(field(
            "agreed",
            "Authorize the debits here: read the authorization, type your name and tick the box.",
        )),
        (Authorization::InPortal { .. }, true) => {
            return Err(field(
                shared::document::FIELD,
                "Upload the customer's signed debit authorization. ACH cannot be added without it.",
            ))
        }
    };
    let option = insert_method(
        &mut tx,
        scope,
        NewMethod {
            kind: MethodKind::Ach,
            token: &account.token,
            holder_name: &account.holder_name,
            last4: &last4,
            brand: None,
            funding: None,
            exp_month: None,
            exp_year: None,
            routing_number: Some(&routing_number),
            account_type: Some(account.account_type),
            holder_type: Some(account.holder_type),
            document: Some(document),
        },
    )
    .await?;
    let mandate = Mandate {
        holder_type: account.holder_type.as_str(),
        accepted_at: match &account.authorization {
            Authorization::Uploaded { signed_on, .. } => signed_on
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now),
            Authorization::InPortal { .. } => Utc::now(),
        },
        online: match (&account.authorization, address, user_agent) {
            (Authorization::InPortal { .. }, Some(ip), Some(agent)) => Some((ip, agent)),
            _ => None,
        },
        record_sha256: crate::tokens::hex(&record),
    };
    within(
        LOOKUP_TIMEOUT,
        gateway.authorize_debits(&account.token, company, &mandate),
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "the gateway did not take the bank account's authorization");
        field(
            "token",
            "The payment gateway did not accept this account's debit authorization. Nothing was saved; check the account and try again.",
        )
    })?;
    tx.commit().await?;
    tracing::info!(method_id = %option.id, company_id = %company, "bank account added");
    Ok(option)
}

/// Checks that `document` is an authorization this user uploaded for `company` and not yet
/// used, and records the day it was signed. Answers the document's SHA-256.
async fn attach_upload(
    tx: &mut PgConnection,
    scope: &CompanyScope,
    document: DocumentId,
    signed_on: NaiveDate,
) -> Result<Vec<u8>> {
    let company = scope.id();
    let usable = sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.authorization_document_id = d.id) AS "free!"
           FROM documents d WHERE d.id = $1 AND d.company_id = $2 AND d.uploaded_by = $3
             AND d.kind = 'ach_authorization' FOR UPDATE"#,
        document as DocumentId,
        company as CompanyId,
        scope.initiator() as Option<UserId>
    )
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
    Ok(sqlx::query_scalar!(
        "UPDATE documents SET signed_on = $2 WHERE id = $1 RETURNING sha256",
        document as DocumentId,
        signed_on
    )
    .fetch_one(&mut *tx)
    .await?)
}

/// Keeps what a customer agreed to in the portal as the method's authorization document:
/// the wording's version and text, their typed name, who, when and from where. Answers the
/// document and its SHA-256.
async fn keep_agreement(
    tx: &mut PgConnection,
    scope: &CompanyScope,
    account: AuthorizedAccount<'_>,
    signed_name: &str,
    address: Option<&str>,
    today: NaiveDate,
) -> Result<(DocumentId, Vec<u8>)> {
    let company = scope.id();
    let company_name = sqlx::query_scalar!(
        "SELECT name FROM companies WHERE id = $1",
        company as CompanyId
    )
    .fetch_one(&mut *tx)
    .await?;
    let text = ach_authorization_text(AuthorizedAccount {
        company: &company_name,
        ..account
    });
    let record = format!(
        "ACH debit authorization {version}\n\n{text}\n\nAgreed: yes\nSigned (typed name): {signed_name}\n\
         User: {email} (user id {uid})\nCompany: {company_name}\nAt: {at}\nFrom address: {ip}\n",
        version = ACH_AUTHORIZATION_VERSION,
        email = scope.by().email(),
        uid = match (scope.pay_link(), scope.initiator()) {
            (Some(link), _) => format!("none: through pay link {}", link.id()),
            (None, Some(user)) => user.to_string(),
            (None, None) => "none".to_string(),
        },
        at = Utc::now().to_rfc3339(),
        ip = address.unwrap_or("unknown"),
    );
    let bytes = record.into_bytes();
    let sha256 = Sha256::digest(&bytes).to_vec();
    let id = sqlx::query_scalar!(
        r#"INSERT INTO documents (company_id, kind, file_name, content_type, size_bytes, sha256, content, signed_on, uploaded_by)
           VALUES ($1, 'ach_authorization', $2, 'text/plain', $3, $4, $5, $6, $7)
           RETURNING id AS "id: DocumentId""#,
        company as CompanyId,
        format!("ach-authorization-{ACH_AUTHORIZATION_VERSION}.txt"),
        bytes.len() as i32,
        &sha256,
        bytes,
        today,
        scope.initiator() as Option<UserId>
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok((id, sha256))
}

//! Pay links: a clerk emails an AP contact a link to pay chosen invoices, so card or bank
//! details never pass over the phone. The link is signed (see [`crate::links`]), payable
//! without an account until it is paid, revoked or expired (`SETTLE_PAY_LINK_DAYS`), and only
//! for its own invoices at their balances when paying (the payment engine checks them under
//! lock as for any payment). The consent is the customer's own: "paid through a link sent by
//! <clerk>".

use crate::audit::{self, Action, Entity, Event};
use crate::authority::{CompanyScope, PayLink, Staff};
use crate::email::mail::{self, LinkInvoice, LinkRef, Mail};
use crate::email::{self, NewEmail};
use crate::links::{self, Purpose};
use crate::{Config, Result};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use shared::auth::CompanyRef;
use shared::company::CompanyCode;
use shared::email::{MailContact, PayLinkStatus, PayLinkSummary, PayLinkView};
use shared::invoice::{days_overdue, OpenInvoice};
use shared::money::Money;
use shared::payment::PaymentRequest;
use shared::{AppError, CompanyId, ContactId, InvoiceId, MethodId, PayLinkId, PaymentId, UserId};
use sqlx::{PgConnection, PgPool};

/// The company's AP contacts that have an email address (whom a link can go to).
pub async fn contacts(
    pool: &PgPool,
    _staff: &Staff,
    scope: &CompanyScope,
) -> Result<Vec<MailContact>> {
    let company = scope.id();
    Ok(sqlx::query_as!(
        MailContact,
        r#"SELECT id, name, lower(btrim(email)) AS "email!", title FROM contacts
           WHERE company_id = $1 AND email ~ '^[^\s@]+@[^\s@]+$' ORDER BY lower(name), id"#,
        company as CompanyId
    )
    .fetch_all(pool)
    .await?)
}

/// Sends a pay link for `invoices` of `company` to its contact `contact` (staff only).
pub async fn send(
    pool: &PgPool,
    config: &Config,
    staff: &Staff,
    scope: &CompanyScope,
    contact: ContactId,
    invoices: &[InvoiceId],
) -> Result<PayLinkSummary> {
    let company = scope.id();
    if invoices.is_empty() {
        return Err(AppError::invalid("invoices", "Select the invoices the link is for.").into());
    }
    if invoices.len() > PaymentRequest::MAX_LINES {
        return Err(AppError::invalid(
            "invoices",
            format!(
                "A pay link covers at most {} invoices.",
                PaymentRequest::MAX_LINES
            ),
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    let to = sqlx::query!(
        "SELECT name, lower(btrim(email)) AS email FROM contacts \
         WHERE id = $1 AND company_id = $2 AND email ~ '^[^\\s@]+@[^\\s@]+$'",
        contact as ContactId,
        company as CompanyId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::invalid("contact", "Choose one of this company's contacts."))?;
    let email_address = to.email.unwrap_or_default();
    let ids: Vec<i64> = invoices.iter().map(|i| i.0).collect();
    let rows = sqlx::query!(
        r#"SELECT id, number, balance FROM invoices
           WHERE id = ANY($1) AND company_id = $2 AND status = 'open' AND balance > 0
           ORDER BY due_date, number"#,
        &ids,
        company as CompanyId
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.len() != ids.len() {
        return Err(AppError::invalid(
            "invoices",
            "An invoice was paid or closed meanwhile. Reload and select again.",
        )
        .into());
    }
    let total: Decimal = rows.iter().map(|r| r.balance).sum();
    let (nonce, hash) = links::new_link(&mut tx, config, Purpose::PayLink).await?;
    let link = sqlx::query!(
        "INSERT INTO pay_links (company_id, contact_id, email, invoice_ids, nonce, token_hash, sent_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(days => $8)) \
         RETURNING id, expires_at",
        company as CompanyId,
        contact as ContactId,
        email_address,
        &rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        nonce,
        hash,
        staff.id() as UserId,
        config.pay_link_days as i32
    )
    .fetch_one(&mut *tx)
    .await?;
    let company_name = sqlx::query_scalar!(
        "SELECT name FROM companies WHERE id = $1",
        company as CompanyId
    )
    .fetch_one(&mut *tx)
    .await?;
    email::enqueue(
        &mut tx,
        NewEmail {
            mail: Mail::PayLink(mail::PayLink {
                link: LinkRef {
                    purpose: Purpose::PayLink,
                    id: link.id,
                },
                sent_by: staff.name().to_string(),
                company_name,
                invoices: rows
                    .iter()
                    .map(|r| LinkInvoice {
                        number: r.number.clone(),
                        balance: r.balance,
                    })
                    .collect(),
                total,
                currency: config.currency,
                expires_at: link.expires_at,
            }),
            recipient: &email_address,
            recipient_name: Some(&to.name),
            dedupe_key: format!("pay_link:{}", link.id),
            company: Some(company),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Event {
            actor: staff.actor(),
            on_behalf_of: Some(company),
            action: Action::PayLinkSent,
            entity: Entity::PayLink,
            entity_id: Some(link.id.to_string()),
            details: json!({ "to": email_address, "invoices": rows.iter().map(|r| &r.number).collect::<Vec<_>>(), "total": format!("{total:.2}") }),
        },
    )
    .await?;
    tx.commit().await?;
    list(pool, scope, Some(PayLinkId(link.id)))
        .await?
        .pop()
        .ok_or_else(|| AppError::NotFound("Pay link".into()).into())
}

/// A company's pay links, newest first (the latest 100), or the one `id`.
pub async fn list(
    pool: &PgPool,
    scope: &CompanyScope,
    id: Option<PayLinkId>,
) -> Result<Vec<PayLinkSummary>> {
    let company = scope.id();
    let now = Utc::now();
    let rows = sqlx::query!(
        r#"SELECT l.id, c.name AS contact_name, l.email, l.created_at, l.expires_at, l.opened_at,
                  l.paid_at, l.revoked_at, l.locked_at, u.name AS sent_by, p.number AS "payment_number?",
                  ARRAY(SELECT i.number FROM invoices i WHERE i.id = ANY(l.invoice_ids) ORDER BY i.number) AS "invoices!"
           FROM pay_links l JOIN contacts c ON c.id = l.contact_id JOIN users u ON u.id = l.sent_by
           LEFT JOIN payments p ON p.id = l.payment_id
           WHERE l.company_id = $1 AND ($2::bigint IS NULL OR l.id = $2)
           ORDER BY l.id DESC LIMIT 100"#,
        company as CompanyId,
        id as Option<PayLinkId>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PayLinkSummary {
            id: PayLinkId(r.id),
            contact_name: r.contact_name,
            email: r.email,
            invoices: r.invoices,
            status: PayLinkStatus::of(
                r.revoked_at.is_some(),
                r.paid_at.is_some(),
                r.locked_at.is_some(),
                r.expires_at,
                r.opened_at.is_some(),
                now,
            ),
            sent_by: r.sent_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            opened_at: r.opened_at,
            paid_at: r.paid_at,
            payment_number: r.payment_number,
        })
        .collect())
}

/// Revokes a link that is not paid yet (staff only).
pub async fn revoke(
    pool: &PgPool,
    staff: &Staff,
    scope: &CompanyScope,
    id: PayLinkId,
) -> Result<()> {
    let company = scope.id();
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "UPDATE pay_links SET revoked_at = now(), revoked_by = $3 \
         WHERE id = $1 AND company_id = $2 AND revoked_at IS NULL AND paid_at IS NULL",
        id as PayLinkId,
        company as CompanyId,
        staff.id() as UserId
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::invalid("link", "This link is already paid or revoked.").into());
    }
    audit::record(
        &mut tx,
        Event {
            actor: staff.actor(),
            on_behalf_of: Some(company),
            action: Action::PayLinkRevoked,
            entity: Entity::PayLink,
            entity_id: Some(id.to_string()),
            details: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The refusal for a token that opens nothing (unknown or malformed: the same words).
fn unknown() -> AppError {
    AppError::NotFound("Pay link".into())
}

/// A link as its token finds it.
struct Link {
    id: i64,
    company: CompanyId,
    company_code: String,
    company_name: String,
    contact_name: String,
    email: String,
    invoice_ids: Vec<i64>,
    sent_by_name: String,
    status: PayLinkStatus,
    expires_at: chrono::DateTime<Utc>,
    payment_number: Option<String>,
}

async fn find(pool: &PgPool, token: &str) -> Result<Link> {
    if !links::looks_like_token(token) {
        return Err(unknown().into());
    }
    let r = sqlx::query!(
        r#"SELECT l.id, l.company_id AS "company: CompanyId", co.code, co.name AS company_name,
                  c.name AS contact_name, l.email, l.invoice_ids,
                  u.name AS sent_by_name, l.expires_at, l.opened_at, l.paid_at, l.revoked_at,
                  l.locked_at, p.number AS "payment_number?"
           FROM pay_links l JOIN contacts c ON c.id = l.contact_id JOIN users u ON u.id = l.sent_by
           JOIN companies co ON co.id = l.company_id LEFT JOIN payments p ON p.id = l.payment_id
           WHERE l.token_hash = $1"#,
        links::hash(token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(unknown)?;
    Ok(Link {
        id: r.id,
        company: r.company,
        company_code: r.code,
        company_name: r.company_name,
        contact_name: r.contact_name,
        email: r.email,
        invoice_ids: r.invoice_ids,
        sent_by_name: r.sent_by_name,
        status: PayLinkStatus::of(
            r.revoked_at.is_some(),
            r.paid_at.is_some(),
            r.locked_at.is_some(),
            r.expires_at,
            r.opened_at.is_some(),
            Utc::now(),
        ),
        expires_at: r.expires_at,
        payment_number: r.payment_number,
    })
}

/// What the link's page shows; the first view marks the link opened.
pub async fn view(
    pool: &PgPool,
    config: &Config,
    token: &str,
    today: NaiveDate,
) -> Result<PayLinkView> {
    let link = find(pool, token).await?;
    let mut status = link.status;
    if status == PayLinkStatus::Sent {
        sqlx::query!(
            "UPDATE pay_links SET opened_at = now() WHERE id = $1 AND opened_at IS NULL",
            link.id
        )
        .execute(pool)
        .await?;
        status = PayLinkStatus::Opened;
    }
    let invoices = if status.is_live() {
        sqlx::query!(
            r#"SELECT id AS "id: InvoiceId", number, po_number, issue_date, due_date, total, balance,
                      currency::text AS "currency!"
               FROM invoices WHERE id = ANY($1) AND company_id = $2 AND status = 'open' AND balance > 0
               ORDER BY due_date, number"#,
            &link.invoice_ids,
            link.company as CompanyId
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| {
            let currency = crate::companies::currency(&r.currency)?;
            Ok(OpenInvoice {
                id: r.id,
                number: r.number,
                po_number: r.po_number,
                issue_date: r.issue_date,
                due_date: r.due_date,
                days_overdue: days_overdue(r.due_date, today),
                total: Money::new(r.total, currency),
                balance: Money::new(r.balance, currency),
            })
        })
        .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(PayLinkView {
        seller: config.seller_name.clone(),
        company_name: link.company_name,
        contact_name: link.contact_name,
        sent_by: link.sent_by_name,
        status,
        expires_at: link.expires_at,
        invoices,
        payment_number: link.payment_number,
    })
}

/// Who acts through a live link: the link itself, for its company and invoices only.
pub async fn resolve(pool: &PgPool, token: &str) -> Result<PayLink> {
    let link = find(pool, token).await?;
    if !link.status.is_live() {
        return Err(not_payable(link.status).into());
    }
    let code = CompanyCode::parse(&link.company_code).map_err(AppError::from)?;
    Ok(PayLink::new(
        PayLinkId(link.id),
        CompanyRef {
            id: link.company,
            code,
            name: link.company_name,
        },
        link.invoice_ids.into_iter().map(InvoiceId).collect(),
        link.email,
        link.sent_by_name,
    ))
}

/// Locks a link's row (so what goes through it takes turns) and checks it is still live.
/// `FOR NO KEY UPDATE`: two of these take turns, while the key-share locks
/// that rows naming the link take (the payment's idempotency key, written first) never
/// wait for it, so concurrent payments through one link queue here instead of deadlocking.
async fn lock_live(tx: &mut PgConnection, link: i64) -> Result<()> {
    let row = sqlx::query!(
        r#"SELECT expires_at, paid_at, revoked_at, opened_at, locked_at
           FROM pay_links WHERE id = $1 FOR NO KEY UPDATE"#,
        link
    )
    .fetch_one(&mut *tx)
    .await?;
    let status = PayLinkStatus::of(
        row.revoked_at.is_some(),
        row.paid_at.is_some(),
        row.locked_at.is_some(),
        row.expires_at,
        row.opened_at.is_some(),
        Utc::now(),
    );
    if !status.is_live() {
        return Err(not_payable(status).into());
    }
    Ok(())
}

/// In the transaction saving a method through a link: the link is still live and has saved
/// fewer than [`PayLinkStatus::MAX_NEW_METHODS`] (its row locked, so two saves take turns).
pub(crate) async fn check_new_method(tx: &mut PgConnection, link: &PayLink) -> Result<()> {
    let link = link.id().0;
    lock_live(tx, link).await?;
    let saved = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM payment_methods WHERE pay_link_id = $1"#,
        link
    )
    .fetch_one(&mut *tx)
    .await?;
    if saved >= PayLinkStatus::MAX_NEW_METHODS {
        return Err(AppError::invalid(
            "token",
            format!(
                "This link can save at most {} new payment methods. Pay with one of those on this page.",
                PayLinkStatus::MAX_NEW_METHODS
            ),
        )
        .into());
    }
    Ok(())
}

fn not_payable(status: PayLinkStatus) -> AppError {
    AppError::invalid(
        "link",
        match status {
            PayLinkStatus::Paid => "This link has been paid. Nothing more is due through it.",
            PayLinkStatus::Revoked => "This link was withdrawn. Ask for a new one.",
            PayLinkStatus::Locked => {
                "This link is locked after several declined payments. Ask the sender for a new one."
            }
            _ => "This link has expired. Ask for a new one.",
        },
    )
}

/// In a payment's transaction: the link is still payable, nothing else through it is under way
/// or went through, every line is one of its invoices, and the method is one saved through it
/// or the company's default.
///
/// The link's row is locked first, in a statement of its own: two payments through one link
/// take turns here. Only then are its payments read, by a second statement whose snapshot is
/// taken after the lock is held, so a payment the previous holder recorded is seen. (Reading
/// them in the locking statement would read them as they were before the wait.)
pub(crate) async fn check_in_payment(
    tx: &mut PgConnection,
    link: &PayLink,
    req: &PaymentRequest,
) -> Result<()> {
    let (invoices, link) = (link.invoices(), link.id().0);
    lock_live(tx, link).await?;
    let taken = sqlx::query!(
        r#"SELECT bool_or(status = 'processing') AS "busy!", bool_or(status <> 'processing') AS "paid!"
           FROM payments WHERE pay_link_id = $1
             AND status IN ('processing', 'pending', 'approved', 'settled')
           HAVING count(*) > 0"#,
        link
    )
    .fetch_optional(&mut *tx)
    .await?;
    match taken {
        Some(t) if t.paid => return Err(not_payable(PayLinkStatus::Paid).into()),
        Some(_) => return Err(AppError::invalid(
            "method",
            "A payment through this link is being processed. Wait a moment and reload the page.",
        )
        .into()),
        None => {}
    }
    if req.lines.iter().any(|l| !invoices.contains(&l.invoice_id)) {
        return Err(AppError::invalid("invoices", "This link does not cover that invoice.").into());
    }
    let offered = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM payment_methods m JOIN pay_links l ON l.company_id = m.company_id
                          WHERE l.id = $1 AND m.id = $2 AND (m.pay_link_id = l.id OR m.is_default)) AS "offered!""#,
        link,
        req.method_id as MethodId
    )
    .fetch_one(&mut *tx)
    .await?;
    if !offered {
        return Err(
            AppError::invalid("method", "Choose one of the payment methods on this page.").into(),
        );
    }
    Ok(())
}

/// In a declined payment's transaction: counts the decline against its link, and at the
/// [`PayLinkStatus::MAX_DECLINES`]th locks the link and tells the clerk who sent it.
pub(crate) async fn count_decline(tx: &mut PgConnection, payment: PaymentId) -> Result<()> {
    let locked = sqlx::query!(
        r#"UPDATE pay_links l SET declines = l.declines + 1,
               locked_at = CASE WHEN l.declines + 1 >= $2 AND l.locked_at IS NULL THEN now() ELSE l.locked_at END
           FROM payments p WHERE p.id = $1 AND l.id = p.pay_link_id
           RETURNING l.id, l.declines, (l.locked_at IS NOT NULL AND l.declines = $2) AS "just_locked!", l.sent_by AS "sent_by: UserId",
                     l.company_id AS "company: CompanyId""#,
        payment as PaymentId,
        PayLinkStatus::MAX_DECLINES
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(l) = locked.filter(|l| l.just_locked) else {
        return Ok(());
    };
    let r = sqlx::query!(
        r#"SELECT u.name, u.email, co.code, co.name AS company_name, k.email AS payer
           FROM users u, companies co, pay_links k WHERE u.id = $1 AND co.id = $2 AND k.id = $3"#,
        l.sent_by as UserId,
        l.company as CompanyId,
        l.id
    )
    .fetch_one(&mut *tx)
    .await?;
    email::enqueue(
        tx,
        NewEmail {
            mail: Mail::PayLinkLocked(mail::PayLinkLocked {
                company: shared::event::CompanyRef {
                    id: r.code,
                    name: r.company_name,
                },
                payer: r.payer,
                declines: l.declines,
            }),
            recipient: &r.email,
            recipient_name: Some(&r.name),
            dedupe_key: format!("pay_link_locked:{}", l.id),
            company: Some(l.company),
        },
    )
    .await?;
    audit::record(
        tx,
        Event {
            actor: crate::audit::Actor::SYSTEM,
            on_behalf_of: Some(l.company),
            action: Action::PayLinkLocked,
            entity: Entity::PayLink,
            entity_id: Some(l.id.to_string()),
            details: json!({ "declines": l.declines }),
        },
    )
    .await?;
    Ok(())
}

/// The pay link a statement carries: the company's open invoices (the 200 due first) for its
/// first AP contact with an email address, not emailed on its own (the statement carries it);
/// the same link again the same day while it covers the same invoices and is good. `None`
/// when nothing is open or no contact has an address. `sent_by`: who issued the statement (the
/// admin who set the schedule, for those it sends), `actor` as the audit trail names it. The
/// link's id and its address.
pub async fn for_statement(
    pool: &PgPool,
    config: &Config,
    sent_by: UserId,
    actor: audit::Actor,
    company: CompanyId,
) -> Result<Option<(i64, String)>> {
    let mut tx = pool.begin().await?;
    // One statement link is made at a time per company: two downloads at once share one.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('statement-link:' || $1::bigint, 0)) AS locked",
        company as CompanyId
    )
    .fetch_one(&mut *tx)
    .await?;
    let contact = sqlx::query!(
        "SELECT id, lower(btrim(email)) AS email FROM contacts \
         WHERE company_id = $1 AND email ~ '^[^\\s@]+@[^\\s@]+$' ORDER BY id LIMIT 1",
        company as CompanyId
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(contact) = contact else {
        return Ok(None);
    };
    let ids: Vec<i64> = sqlx::query_scalar!(
        "SELECT id FROM invoices WHERE company_id = $1 AND status = 'open' AND balance > 0 \
         ORDER BY due_date, number LIMIT 200",
        company as CompanyId
    )
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        return Ok(None);
    }
    let kept = sqlx::query!(
        "SELECT id, nonce FROM pay_links WHERE company_id = $1 AND invoice_ids = $2 AND contact_id = $3 \
           AND revoked_at IS NULL AND paid_at IS NULL AND expires_at > now() AND created_at > now() - interval '1 day' \
         ORDER BY id DESC LIMIT 1",
        company as CompanyId,
        &ids,
        contact.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (id, nonce) = match kept {
        Some(k) => (k.id, k.nonce),
        None => {
            let (nonce, hash) = links::new_link(&mut tx, config, Purpose::PayLink).await?;
            let id = sqlx::query_scalar!(
                "INSERT INTO pay_links (company_id, contact_id, email, invoice_ids, nonce, token_hash, sent_by, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(days => $8)) RETURNING id",
                company as CompanyId,
                contact.id,
                contact.email.clone().unwrap_or_default(),
                &ids,
                nonce,
                hash,
                sent_by as UserId,
                config.pay_link_days as i32
            )
            .fetch_one(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                Event {
                    actor,
                    on_behalf_of: Some(company),
                    action: Action::PayLinkForStatement,
                    entity: Entity::PayLink,
                    entity_id: Some(id.to_string()),
                    details: json!({ "to": contact.email, "invoices": ids.len() }),
                },
            )
            .await?;
            (id, nonce)
        }
    };
    let key = links::key(&mut tx, config).await?;
    tx.commit().await?;
    Ok(Some((
        id,
        links::url(
            config,
            Purpose::PayLink,
            &links::token(&key, Purpose::PayLink, &nonce),
        ),
    )))
}

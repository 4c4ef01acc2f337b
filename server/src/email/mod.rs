//! Outgoing email. Every message is a row of the `emails` outbox written in the transaction of
//! the change it reports — by the `events_mail` trigger for payments and methods, by
//! [`enqueue`] for invitations, resets and pay links, by [`queue_card_expiry`] daily — so a
//! message exists exactly when its change does, once per recipient (`dedupe_key`).
//!
//! Any instance's worker sends what is due ([`deliver_due`]): rows claimed with
//! `FOR UPDATE SKIP LOCKED` and a 60 s lease (a dead instance's claim is taken over), rendered
//! from the templates, handed to SMTP (lettre), marked sent, or retried after
//! base × 2^(n−1) until `SETTLE_EMAIL_MAX_ATTEMPTS`. Delivery is at least once: a crash
//! between the server's acceptance and the mark can send a message again, with the same
//! `Message-ID` for mail clients to fold.

pub mod mail;
pub mod render;

use crate::audit::{self, Action, Entity};
use crate::authority::Staff;
use crate::links;
use crate::outbox::backoff;
use crate::{Config, Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mail::Mail;
use serde_json::{json, Value as Json};
use shared::email::{EmailKind, EmailStatus, EmailSummary, Outbox};
use shared::{AppError, CompanyId, EmailId, EventId};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// The SMTP connection emails go out on.
pub type Mailer = AsyncSmtpTransport<Tokio1Executor>;

/// The mailer for `SETTLE_SMTP_URL` (10 s per attempt).
pub fn mailer(config: &Config) -> Result<Mailer> {
    Ok(Mailer::from_url(&config.smtp_url)
        .map_err(|e| Error::Other(format!("SETTLE_SMTP_URL is not usable: {e}")))?
        .timeout(Some(SMTP_TIMEOUT))
        .build())
}

/// How long one connection attempt, and separately one whole message, may take. lettre's own
/// timeout covers connecting only: a server that accepts and then stops answering would hold
/// the worker (and the claimed messages) for good without the second bound.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// A message to write to the outbox.
pub struct NewEmail<'a> {
    pub mail: Mail,
    pub recipient: &'a str,
    pub recipient_name: Option<&'a str>,
    /// One message per key, however often it is asked for.
    pub dedupe_key: String,
    pub company: Option<CompanyId>,
}

/// Writes a message to the outbox in the caller's transaction (nothing when its key is
/// already there).
pub async fn enqueue(conn: &mut PgConnection, e: NewEmail<'_>) -> Result<()> {
    sqlx::query!(
        "INSERT INTO emails (kind, recipient, recipient_name, subject, data, dedupe_key, company_id, statement_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING",
        e.mail.kind() as EmailKind,
        e.recipient.trim().to_lowercase(),
        e.recipient_name,
        fit_subject(&e.mail.subject()),
        e.mail.data(),
        e.dedupe_key,
        e.company as Option<CompanyId>,
        e.mail.statement().map(|st| st.statement_id)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The longest subject kept (the outbox's column holds 300 characters).
pub const MAX_SUBJECT: usize = 300;

/// A subject cut to [`MAX_SUBJECT`] characters, with an ellipsis when cut (names can be long).
pub fn fit_subject(subject: &str) -> String {
    let subject = shared::format::one_line(subject);
    if subject.chars().count() <= MAX_SUBJECT {
        return subject;
    }
    let mut cut: String = subject.chars().take(MAX_SUBJECT - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The outbox, newest first (at most 200), filtered by status and by a recipient or subject
/// fragment, with the counts per status.
pub async fn outbox(
    pool: &PgPool,
    _staff: &Staff,
    status: Option<EmailStatus>,
    q: &str,
) -> Result<Outbox> {
    let q = q.trim().to_lowercase();
    let like = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query!(
        r#"SELECT e.id, e.kind AS "kind: EmailKind", e.recipient, e.subject, e.data, c.code AS "company?",
                  e.event_id, e.status AS "status: EmailStatus", e.attempts, e.last_error,
                  e.created_at, e.sent_at, e.next_attempt_at
           FROM emails e LEFT JOIN companies c ON c.id = e.company_id
           WHERE ($1::text IS NULL OR e.status = $1)
             -- A message a trigger queued has its subject from its first attempt; until then
             -- it is composed here and matched below.
             AND (e.recipient LIKE $2 OR lower(e.subject) LIKE $2 OR e.subject IS NULL)
           ORDER BY e.id DESC LIMIT 200"#,
        status.map(EmailStatus::as_str),
        like
    )
    .fetch_all(pool)
    .await?;
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'pending') AS "pending!",
                  count(*) FILTER (WHERE status = 'sent') AS "sent!",
                  count(*) FILTER (WHERE status = 'failed') AS "failed!"
           FROM emails"#
    )
    .fetch_one(pool)
    .await?;
    Ok(Outbox {
        emails: rows
            .into_iter()
            .filter_map(|r| {
                let subject = match r.subject {
                    Some(s) => s,
                    None => {
                        let s = Mail::read(r.kind, &r.data)
                            .map(|m| fit_subject(&m.subject()))
                            .unwrap_or_else(|e| e.to_string());
                        let found = r.recipient.contains(&q) || s.to_lowercase().contains(&q);
                        if !found {
                            return None;
                        }
                        s
                    }
                };
                Some(EmailSummary {
                    subject,
                    id: EmailId(r.id),
                    kind: r.kind,
                    recipient: r.recipient,
                    company: r.company,
                    event: r.event_id.map(|e| crate::outbox::event_id(EventId(e))),
                    next_attempt_at: (r.status == EmailStatus::Pending)
                        .then_some(r.next_attempt_at),
                    status: r.status,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    created_at: r.created_at,
                    sent_at: r.sent_at,
                })
            })
            .collect(),
        pending: counts.pending,
        sent: counts.sent,
        failed: counts.failed,
    })
}

/// Sends a message again now (a failed one, or a sent one the recipient lost), with a fresh
/// set of attempts.
pub async fn resend(pool: &PgPool, staff: &Staff, id: EmailId) -> Result<()> {
    let by = staff.actor();
    let mut tx = pool.begin().await?;
    let changed = sqlx::query!(
        "UPDATE emails SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL \
         WHERE id = $1",
        id as EmailId
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound("Email".into()).into());
    }
    audit::system_change(
        &mut tx,
        by,
        Action::EmailResent,
        Entity::Email,
        id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Writes the card-expiry notices due today: every active card that expires within 30 days,
/// to its company's AP contacts, once per card per month. How many were written.
pub async fn queue_card_expiry(pool: &PgPool, today: NaiveDate) -> Result<u64> {
    Ok(sqlx::query!(
        r#"INSERT INTO emails (kind, recipient, recipient_name, subject, data, dedupe_key, company_id)
           SELECT 'card_expiring', m.email, m.name, NULL, method_json(pm.id),
                  'card-expiring:' || pm.id || ':' || to_char($1::date, 'YYYY-MM') || ':' || m.email,
                  pm.company_id
           FROM payment_methods pm
           JOIN companies c ON c.id = pm.company_id
           CROSS JOIN LATERAL company_mail_contacts(pm.company_id) m
           WHERE pm.kind = 'card' AND pm.active
             AND (make_date(pm.exp_year, pm.exp_month, 1) + interval '1 month' - interval '1 day')::date
                 BETWEEN $1::date AND $1::date + 30
           ON CONFLICT (dedupe_key) DO NOTHING"#,
        today
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// One due message.
struct Due {
    id: i64,
    kind: EmailKind,
    recipient: String,
    recipient_name: Option<String>,
    /// Written by the first attempt when a trigger queued the message.
    subject: Option<String>,
    data: Json,
    written: DateTime<Utc>,
    attempts: i32,
    /// The nonce of the invitation, reset or pay link it carries.
    nonce: Option<Vec<u8>>,
    /// The statement it carries, as sent (its name and bytes).
    attachment: Option<(String, Vec<u8>)>,
}

/// Sends the messages that are due (up to 20 at a time); how many were tried.
pub async fn deliver_due(pool: &PgPool, mailer: &Mailer, config: &Config) -> Result<usize> {
    let claimed = sqlx::query!(
        r#"WITH due AS (SELECT id FROM emails
                        WHERE status = 'pending' AND next_attempt_at <= now()
                          AND (lease_until IS NULL OR lease_until < now())
                        ORDER BY next_attempt_at, id LIMIT 20 FOR UPDATE SKIP LOCKED),
                leased AS (UPDATE emails e SET lease_until = now() + interval '60 seconds'
                           FROM due WHERE e.id = due.id
                           RETURNING e.id, e.kind, e.recipient, e.recipient_name, e.subject, e.data, e.attempts, e.created_at,
                                     e.statement_id)
           SELECT l.id AS "id!", l.kind AS "kind!: EmailKind", l.recipient AS "recipient!",
                  l.recipient_name, l.subject, l.data AS "data!", l.attempts AS "attempts!",
                  l.created_at AS "written!",
                  -- The nonce of the link the message carries (its token is made from it).
                  COALESCE(p.nonce, t.nonce) AS "nonce?",
                  s.file_name AS "statement_name?", s.pdf AS "statement_pdf?"
           FROM leased l
           LEFT JOIN pay_links p ON l.kind IN ('pay_link', 'statement') AND p.id = (l.data->'link'->>'id')::bigint
           LEFT JOIN statements s ON s.id = l.statement_id
           LEFT JOIN user_tokens t ON l.kind IN ('invitation', 'password_reset')
                                  AND t.id = (l.data->'link'->>'id')::bigint"#
    )
    .fetch_all(pool)
    .await?;
    let n = claimed.len();
    if n == 0 {
        return Ok(0);
    }
    let key = links::key(&mut *pool.acquire().await?, config).await?;
    let due = claimed.into_iter().map(|r| Due {
        id: r.id,
        kind: r.kind,
        recipient: r.recipient,
        recipient_name: r.recipient_name,
        subject: r.subject,
        data: r.data,
        written: r.written,
        attempts: r.attempts,
        nonce: r.nonce,
        attachment: r.statement_name.zip(r.statement_pdf),
    });
    let sends = due.map(|d| {
        let key = &key;
        async move {
            let written = message(config, key, &d);
            let subject = written.as_ref().ok().map(|(_, s)| s.clone());
            let outcome = match written {
                Ok((m, _)) => match tokio::time::timeout(SEND_TIMEOUT, mailer.send(m)).await {
                    Ok(sent) => sent.map(|_| ()).map_err(|e| smtp_error(&e)),
                    Err(_) => Err(format!(
                        "the mail server did not answer within {} s",
                        SEND_TIMEOUT.as_secs()
                    )),
                },
                Err(e) => Err(format!("could not write the message: {e}")),
            };
            record(pool, config, &d, subject, outcome).await
        }
    });
    for r in futures_util::future::join_all(sends).await {
        r?;
    }
    Ok(n)
}

/// An SMTP failure in a line staff can act on.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    if e.is_permanent() {
        format!("the mail server refused the message: {e}")
    } else if e.is_transient() {
        format!("the mail server asked to try later: {e}")
    } else {
        format!("could not reach the mail server: {e}")
    }
}

/// The link a message carries.
fn link(config: &Config, key: &[u8], mail: &Mail, nonce: Option<&[u8]>) -> Result<String> {
    let base = &config.public_url;
    if let Some(p) = mail.payment() {
        return Ok(format!(
            "{base}/receipts/{}",
            links::receipt_token(key, &p.id, crate::companies::today())
        ));
    }
    match (mail, mail.link(), nonce) {
        (Mail::PayLinkLocked(l), _, _) => Ok(format!(
            "{base}/ops/crm/companies/{}/pay-links",
            l.company.id
        )),
        (_, Some(l), Some(nonce)) => Ok(links::url(
            config,
            l.purpose,
            &links::token(key, l.purpose, nonce),
        )),
        (_, Some(_), None) => Err(Error::Other("the message's link is gone".into())),
        (Mail::Statement(_), None, _) => Ok(format!("{base}/portal")),
        _ => Ok(format!("{base}/portal/payment-methods")),
    }
}

/// The whole message (both bodies, the seller as sender, a stable Message-ID) and its subject.
fn message(config: &Config, key: &[u8], d: &Due) -> Result<(Message, String)> {
    let mail = Mail::read(d.kind, &d.data)?;
    let subject = d
        .subject
        .clone()
        .unwrap_or_else(|| fit_subject(&mail.subject()));
    let url = link(config, key, &mail, d.nonce.as_deref())?;
    let body = render::render(
        &mail,
        d.written,
        &subject,
        d.recipient_name.as_deref(),
        &config.seller_name,
        &url,
    )?;
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::Other(format!("{what}: {e}"));
    let from = Mailbox::new(
        Some(config.seller_name.clone()),
        config
            .email_from
            .parse()
            .map_err(|e| bad("SETTLE_EMAIL_FROM", &e))?,
    );
    let to = Mailbox::new(
        d.recipient_name.clone(),
        d.recipient.parse().map_err(|e| bad("recipient", &e))?,
    );
    let domain = config.email_from.rsplit('@').next().unwrap_or("settle");
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject.clone())
        .message_id(Some(format!("<settle-email-{}@{domain}>", d.id)))
        .multipart({
            let bodies = MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(body.html),
                );
            match &d.attachment {
                None => bodies,
                Some((name, pdf)) => MultiPart::mixed().multipart(bodies).singlepart(
                    lettre::message::Attachment::new(name.clone()).body(
                        pdf.clone(),
                        ContentType::parse("application/pdf").map_err(|e| bad("attachment", &e))?,
                    ),
                ),
            }
        })
        .map_err(|e| bad("message", &e))?;
    Ok((message, subject))
}

async fn record(
    pool: &PgPool,
    config: &Config,
    d: &Due,
    subject: Option<String>,
    outcome: std::result::Result<(), String>,
) -> Result<()> {
    let attempts = d.attempts + 1;
    let sent = outcome.is_ok();
    let gave_up = !sent && attempts as u32 >= config.email_max_attempts;
    let wait = backoff(config.email_retry_base, attempts as u32);
    if let Err(e) = &outcome {
        tracing::warn!(email = d.id, attempts, error = %e, "email not sent");
    }
    sqlx::query!(
        "UPDATE emails SET attempts = $2, lease_until = NULL, last_error = $3, \
           status = CASE WHEN $4 THEN 'sent' WHEN $5 THEN 'failed' ELSE 'pending' END, \
           sent_at = CASE WHEN $4 THEN now() ELSE sent_at END, \
           next_attempt_at = now() + make_interval(secs => $6), subject = COALESCE(subject, $7) \
         WHERE id = $1",
        d.id,
        attempts,
        outcome.err(),
        sent,
        gave_up,
        wait.as_secs_f64(),
        subject,
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_cut_to_fit_the_outbox() {
        assert_eq!(fit_subject("  Pay   link "), "Pay link");
        let long = format!(
            "{} sent you a link to pay $1.00 of {}",
            "C".repeat(100),
            "é".repeat(250)
        );
        let cut = fit_subject(&long);
        assert_eq!(cut.chars().count(), MAX_SUBJECT);
        assert!(cut.ends_with('…'));
        assert_eq!(fit_subject(&"x".repeat(300)), "x".repeat(300));
    }
}

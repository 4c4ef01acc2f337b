//! The reason codes admins keep (short-pay and refund reasons): listed for the forms, added,
//! relabelled, made inactive or active again, never deleted; each change audited. The payment
//! engine and the refunds check a code against the active list in their own transaction.

use crate::audit::{self, Action, Entity};
use crate::authority::Admin;
use crate::Result;
use serde_json::json;
use shared::reason::{parse_label, ReasonCode, ReasonCodeInput, ReasonKind, OTHER};
use shared::AppError;
use sqlx::{PgConnection, PgPool};

/// The list of `kind` in the order admins keep it ("Other" last); the active ones only when
/// `active_only`.
pub async fn list(pool: &PgPool, kind: ReasonKind, active_only: bool) -> Result<Vec<ReasonCode>> {
    Ok(sqlx::query_as!(
        ReasonCode,
        r#"SELECT kind AS "kind: ReasonKind", code, label, active FROM reason_codes
           WHERE kind = $1 AND (active OR NOT $2) ORDER BY position, code"#,
        kind as ReasonKind,
        active_only
    )
    .fetch_all(pool)
    .await?)
}

/// The active codes among `codes`, for a check inside the caller's transaction.
pub async fn active_among(
    conn: &mut PgConnection,
    kind: ReasonKind,
    codes: &[String],
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "SELECT code FROM reason_codes WHERE kind = $1 AND active AND code = ANY($2)",
        kind as ReasonKind,
        codes
    )
    .fetch_all(conn)
    .await?)
}

/// The label of an active `code`, or a field error on `field` naming it as not offered.
pub async fn active_label(
    conn: &mut PgConnection,
    kind: ReasonKind,
    code: &str,
    field: &str,
) -> Result<String> {
    sqlx::query_scalar!(
        "SELECT label FROM reason_codes WHERE kind = $1 AND code = $2 AND active",
        kind as ReasonKind,
        code
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| not_offered(field).into())
}

/// The error for a code that is not (or no longer) in the list offered.
pub fn not_offered(field: &str) -> AppError {
    AppError::invalid(
        field,
        "Choose one of the listed reasons (this one is not offered any more: reload the page).",
    )
}

/// A statement's result, with a label already in the list (the database's unique index on
/// each list's labels) as the error at the label.
fn label_free<T>(done: sqlx::Result<T>) -> Result<T> {
    match done {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("reason_codes_label") => Err(
            AppError::invalid("label", "A reason with this label is already in the list.").into(),
        ),
        other => Ok(other?),
    }
}

/// Adds a reason at the end of its list (before "Other"), active.
pub async fn add(
    pool: &PgPool,
    admin: &Admin,
    kind: ReasonKind,
    input: &ReasonCodeInput,
) -> Result<ReasonCode> {
    let (code, label) = input.parse()?;
    let mut tx = pool.begin().await?;
    let added = sqlx::query_as!(
        ReasonCode,
        r#"INSERT INTO reason_codes (kind, code, label, position)
           SELECT $1, $2, $3, COALESCE(max(position) FILTER (WHERE code <> 'other'), 0) + 1
           FROM reason_codes WHERE kind = $1
           ON CONFLICT (kind, code) DO NOTHING
           RETURNING kind AS "kind: ReasonKind", code, label, active"#,
        kind as ReasonKind,
        code,
        label
    )
    .fetch_optional(&mut *tx)
    .await;
    let Some(added) = label_free(added)? else {
        return Err(AppError::invalid(
            "code",
            format!("The code {code} is already in this list. Choose another code."),
        )
        .into());
    };
    audit::system_change(
        &mut tx,
        admin.actor(),
        Action::ReasonCodeAdded,
        Entity::ReasonCode,
        format!("{}:{}", kind.key(), added.code),
        json!({ "label": added.label }),
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Changes a reason's label and whether it is offered. "Other" is always offered.
pub async fn change(
    pool: &PgPool,
    admin: &Admin,
    kind: ReasonKind,
    code: &str,
    label: &str,
    active: bool,
) -> Result<ReasonCode> {
    let label = parse_label(label)?;
    if code == OTHER && !active {
        return Err(AppError::invalid(
            "active",
            "\"Other\" is always offered: it is how a reason not in the list is given.",
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        "SELECT label, active FROM reason_codes WHERE kind = $1 AND code = $2 FOR UPDATE",
        kind as ReasonKind,
        code
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("Reason code".into()))?;
    let changed = sqlx::query_as!(
        ReasonCode,
        r#"UPDATE reason_codes SET label = $3, active = $4, updated_at = now()
           WHERE kind = $1 AND code = $2
           RETURNING kind AS "kind: ReasonKind", code, label, active"#,
        kind as ReasonKind,
        code,
        label,
        active
    )
    .fetch_one(&mut *tx)
    .await;
    let changed = label_free(changed)?;
    if before.label != changed.label || before.active != changed.active {
        audit::system_change(
            &mut tx,
            admin.actor(),
            Action::ReasonCodeChanged,
            Entity::ReasonCode,
            format!("{}:{}", kind.key(), code),
            json!({
                "label": { "from": before.label, "to": changed.label },
                "active": { "from": before.active, "to": changed.active },
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

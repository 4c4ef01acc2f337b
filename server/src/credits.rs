//! Credit on account: what a company has with the seller that no invoice holds (a payment's
//! excess, an ERP credit memo), and applying it to open invoices — by staff, by the customer in
//! the portal, or by the ERP through the API — never beyond what is left. Two applications at
//! once take the company's credits in id order under lock: the second sees what the first
//! left (see `migrations/0023_credit.sql` for the ledger it keeps).

use crate::audit::{self, Action, Actor, Entity, Event};
use crate::authority::CompanyScope;
use crate::companies::currency;
use crate::Result;
use rust_decimal::Decimal;
use serde_json::json;
use shared::auth::Role;
use shared::credit::{credit_field, ApplyCredit, CreditSummary, CreditView};
use shared::money::{Currency, Money};
use shared::{AppError, CompanyId, InvoiceId};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A company's credits with something left, oldest first, with what can be applied now and
/// what waits for its payment to clear: one query.
pub async fn summary(conn: &mut PgConnection, company: CompanyId) -> Result<CreditSummary> {
    let rows = sqlx::query!(
        r#"SELECT c.number, c.amount, c.remaining, c.currency::text AS "currency!", c.created_at,
                  COALESCE('Payment ' || p.number || ' (on account)', 'Credit memo ' || m.number) AS "source!",
                  COALESCE(p.status NOT IN ('approved', 'settled'), false) AS "waiting!"
           FROM credits c LEFT JOIN payments p ON p.id = c.payment_id
           LEFT JOIN invoices m ON m.id = c.memo_invoice_id
           WHERE c.company_id = $1 AND c.remaining > 0 AND credit_counts(c.payment_id)
           ORDER BY c.id"#,
        company as CompanyId
    )
    .fetch_all(conn)
    .await?;
    let mut out = CreditSummary::none(Currency::USD);
    for r in rows {
        let cur = currency(&r.currency)?;
        let left = Money::new(r.remaining, cur);
        let total = if r.waiting {
            &mut out.waiting
        } else {
            &mut out.available
        };
        *total = Money::new(total.amount() + left.amount(), cur);
        out.credits.push(CreditView {
            number: r.number,
            source: r.source,
            amount: Money::new(r.amount, cur),
            remaining: left,
            waiting: r.waiting,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

/// [`summary`] for a caller who may see the company.
pub async fn summary_for(pool: &PgPool, scope: &CompanyScope) -> Result<CreditSummary> {
    summary(&mut *pool.acquire().await?, scope.id()).await
}

/// Applies credit for the caller (staff, or the customer in the portal; not through a pay
/// link), exactly once per key: a retry of the same key changes nothing and answers with the
/// credit as it now stands.
pub async fn apply(
    pool: &PgPool,
    scope: &CompanyScope,
    req: &ApplyCredit,
) -> Result<CreditSummary> {
    if scope.pay_link().is_some() {
        return Err(AppError::Forbidden.into());
    }
    let key = Uuid::parse_str(req.key.as_str()).map_err(|_| {
        AppError::invalid(
            "idempotency_key",
            "This form is out of date. Close it and open it again.",
        )
    })?;
    let mut tx = pool.begin().await?;
    apply_in(&mut tx, scope.id(), scope.actor(), key, req).await?;
    let after = summary(&mut tx, scope.id()).await?;
    tx.commit().await?;
    Ok(after)
}

async fn already_applied(conn: &mut PgConnection, key: Uuid, company: CompanyId) -> Result<bool> {
    let owner = sqlx::query_scalar!(
        r#"SELECT c.company_id AS "company: CompanyId" FROM credit_applications a
           JOIN credits c ON c.id = a.credit_id WHERE a.key = $1 LIMIT 1"#,
        key
    )
    .fetch_optional(conn)
    .await?;
    match owner {
        None => Ok(false),
        Some(c) if c == company => Ok(true),
        Some(_) => Err(AppError::invalid(
            "idempotency_key",
            "This form is out of date. Close it and open it again.",
        )
        .into()),
    }
}

/// Applies `req` for `company` inside the caller's transaction (the API's idempotent write,
/// or [`apply`]): the company's usable credits locked in id order, the invoices locked in id
/// order and checked, then the oldest credit used first. Returns what was applied, or `None`
/// when `key` was applied before (committed whole, in one transaction): a retry changes
/// nothing. Two requests with one key at once: the second waits on the credits' locks, then
/// finds the first's rows.
pub async fn apply_in(
    conn: &mut PgConnection,
    company: CompanyId,
    by: Actor,
    key: Uuid,
    req: &ApplyCredit,
) -> Result<Option<Money>> {
    let credits = sqlx::query!(
        r#"SELECT c.id, c.remaining FROM credits c LEFT JOIN payments p ON p.id = c.payment_id
           WHERE c.company_id = $1 AND c.remaining > 0
             AND (c.payment_id IS NULL OR p.status IN ('approved', 'settled'))
           ORDER BY c.id FOR UPDATE OF c"#,
        company as CompanyId
    )
    .fetch_all(&mut *conn)
    .await?;
    if already_applied(conn, key, company).await? {
        return Ok(None);
    }
    let ids: Vec<i64> = req.lines.iter().map(|l| l.invoice_id.0).collect();
    let invoices = sqlx::query!(
        r#"SELECT id AS "id: InvoiceId", number, balance, status, company_id AS "company: CompanyId",
                  currency::text AS "currency!"
           FROM invoices WHERE id = ANY($1) ORDER BY id FOR UPDATE"#,
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = req.total();
    let cur = total.currency();
    for line in &req.lines {
        let Some(invoice) = invoices
            .iter()
            .find(|i| i.id == line.invoice_id && i.company == company)
        else {
            return Err(AppError::invalid(
                "invoices",
                "An invoice in this application does not exist. Reload the page.",
            )
            .into());
        };
        let field = credit_field(line.invoice_id);
        if currency(&invoice.currency)? != cur {
            return Err(AppError::invalid(
                field,
                format!("{} is billed in {}.", invoice.number, invoice.currency),
            )
            .into());
        }
        if invoice.status != "open" || invoice.balance <= Decimal::ZERO {
            return Err(AppError::invalid(
                field,
                format!(
                    "{} has nothing left to pay. Reload to see it.",
                    invoice.number
                ),
            )
            .into());
        }
        if line.amount.amount() > invoice.balance {
            return Err(AppError::invalid(
                field,
                format!(
                    "{} has {} left to pay: apply at most that.",
                    invoice.number,
                    Money::new(invoice.balance, cur).display()
                ),
            )
            .into());
        }
    }
    let available: Decimal = credits.iter().map(|c| c.remaining).sum();
    if total.amount() > available {
        return Err(AppError::invalid(
            "credit",
            if available.is_zero() {
                "There is no credit left to apply.".to_string()
            } else {
                format!(
                    "Only {} of credit is left to apply: apply at most that.",
                    Money::new(available, cur).display()
                )
            },
        )
        .into());
    }
    // The oldest credit first, each line from as many credits as it takes.
    let (mut a_credit, mut a_invoice, mut a_amount) = (Vec::new(), Vec::new(), Vec::new());
    let mut left: Vec<Decimal> = credits.iter().map(|c| c.remaining).collect();
    for line in &req.lines {
        let mut need = line.amount.amount();
        for (c, l) in credits.iter().zip(left.iter_mut()) {
            if need.is_zero() {
                break;
            }
            let take = need.min(*l);
            if take > Decimal::ZERO {
                a_credit.push(c.id);
                a_invoice.push(line.invoice_id.0);
                a_amount.push(take);
                *l -= take;
                need -= take;
            }
        }
    }
    let (user, api_key) = (by.user_id, by.api_key_id);
    let door = match (by.api_key_id, by.role) {
        (Some(_), _) => "api",
        (None, Some(Role::Customer)) => "portal",
        _ => "staff",
    };
    // The applications, the credits' remainders and the invoices' balances in one statement.
    sqlx::query!(
        "WITH a AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::numeric[]) AS a(credit_id, invoice_id, amount)), \
              ins AS (INSERT INTO credit_applications (key, credit_id, invoice_id, amount, door, applied_by, api_key_id) \
                      SELECT $4, credit_id, invoice_id, amount, $5, $6, $7 FROM a), \
              used AS (UPDATE credits c SET remaining = c.remaining - u.amount, updated_at = now() \
                       FROM (SELECT credit_id, sum(amount) AS amount FROM a GROUP BY credit_id) u WHERE c.id = u.credit_id) \
         UPDATE invoices i SET balance = i.balance - p.amount, updated_at = now() \
         FROM (SELECT invoice_id, sum(amount) AS amount FROM a GROUP BY invoice_id) p WHERE i.id = p.invoice_id",
        &a_credit,
        &a_invoice,
        &a_amount,
        key,
        door,
        user.map(|u| u.0),
        api_key.map(|k| k.0)
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        Event {
            actor: by,
            on_behalf_of: Some(company),
            action: Action::CreditApplied,
            entity: Entity::Credit,
            entity_id: None,
            details: json!({
                "amount": total.amount().to_string(),
                "door": door,
                "invoices": req.lines.iter().map(|l| json!({"invoice_id": l.invoice_id, "amount": l.amount.amount().to_string()})).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    Ok(Some(total))
}

/// What an application through the API did: what it applied and the credit left to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub applied: Money,
    pub available: Money,
}

/// Applies credit of company `code` to its invoices named by number (the ERP's way), inside
/// the API's idempotent write. Each refusal names its line: `allocations/<i>/invoice` or
/// `allocations/<i>/amount`.
pub async fn apply_by_number(
    conn: &mut PgConnection,
    code: &str,
    by: Actor,
    lines: &[(String, String)],
) -> Result<Applied> {
    let company = sqlx::query!(
        r#"SELECT id AS "id: CompanyId", currency::text AS "currency!" FROM companies WHERE code = $1"#,
        code
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Company {code}")))?;
    let cur = currency(&company.currency)?;
    let numbers: Vec<String> = lines.iter().map(|l| l.0.clone()).collect();
    let found = sqlx::query!(
        r#"SELECT id AS "id: InvoiceId", number FROM invoices WHERE company_id = $1 AND number = ANY($2)"#,
        company.id as CompanyId,
        &numbers
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut input = shared::credit::ApplyCreditInput {
        company: code.to_string(),
        lines: Vec::with_capacity(lines.len()),
        idempotency_key: Uuid::new_v4().to_string(),
    };
    for (i, (number, amount)) in lines.iter().enumerate() {
        let Some(invoice) = found.iter().find(|f| &f.number == number) else {
            return Err(AppError::invalid(
                format!("allocations/{i}/invoice"),
                format!("{code} has no invoice {number}."),
            )
            .into());
        };
        let amount = shared::money::parse_amount(&format!("allocations/{i}/amount"), amount, cur)?;
        if amount.is_zero() {
            return Err(AppError::invalid(
                format!("allocations/{i}/amount"),
                "Enter an amount above zero.",
            )
            .into());
        }
        input.lines.push(shared::credit::CreditLineInput {
            invoice_id: invoice.id,
            amount,
        });
    }
    // A line's field is its invoice's in the forms; here, its place in the request.
    let at_line = |e: shared::FieldError| -> crate::Error {
        let field = input
            .lines
            .iter()
            .position(|l| e.field == credit_field(l.invoice_id))
            .map_or(e.field.clone(), |i| format!("allocations/{i}/amount"));
        AppError::invalid(field, e.message).into()
    };
    let req = ApplyCredit::parse(&input, cur).map_err(at_line)?;
    let key = Uuid::parse_str(req.key.as_str()).map_err(|e| crate::Error::Other(e.to_string()))?;
    let applied = match apply_in(conn, company.id, by, key, &req).await {
        Ok(applied) => applied.unwrap_or(Money::zero(cur)),
        Err(e) => {
            return Err(match e.into_app() {
                AppError::Invalid(fe) => at_line(fe),
                other => other.into(),
            })
        }
    };
    let available = summary(conn, company.id).await?.available;
    Ok(Applied { applied, available })
}

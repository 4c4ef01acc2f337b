//! The ledger identity as checks: each invoice's balance is its total less what payments that
//! count allocated to it, and each company's kept figures add up its open invoices. Nothing
//! here changes anything; the tests, the load benchmark and the large book's loader ask these
//! after whatever they did (races, crashes, imports, 500,000 rows loaded with `COPY`).

use crate::Result;
use sqlx::PgPool;

/// The companies whose kept figures (`company_balances`) differ from adding up their open
/// invoices: none, whatever changed the invoices.
pub async fn company_balances_off(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT company_id, sum(balance) AS b, count(*) AS n FROM invoices
           WHERE balance > 0 GROUP BY company_id) x FULL JOIN company_balances c USING (company_id)
           WHERE COALESCE(x.b, 0) <> COALESCE(c.open_balance, 0)
              OR COALESCE(x.n, 0) <> COALESCE(c.open_invoices, 0)"#
    )
    .fetch_one(pool)
    .await?)
}

/// The invoices whose balance is not their total less what was allocated to them by payments
/// that count (not declined, returned or failed), or, cancelled and credit memos, not 0.
pub async fn balances_off(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM invoices i LEFT JOIN (SELECT a.invoice_id, sum(a.amount) AS paid
           FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
           WHERE p.status NOT IN ('declined', 'returned', 'failed') GROUP BY a.invoice_id) a
           ON a.invoice_id = i.id
           WHERE i.balance <> CASE WHEN i.status = 'open' THEN i.total - COALESCE(a.paid, 0) ELSE 0 END"#
    )
    .fetch_one(pool)
    .await?)
}

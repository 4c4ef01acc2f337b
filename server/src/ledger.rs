//! The ledger identity as checks: each invoice's balance is its total less what payments that
//! count allocated to it plus what their refunds reopened, no line refunded past itself, and each company's kept figures add up its open invoices. Nothing
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
/// that count (not declined, returned or failed) plus what those payments' refunds and
/// reversals hold reopened on them, less what counting credits applied to them, or, cancelled
/// and credit memos, not 0.
pub async fn balances_off(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM invoices i LEFT JOIN (SELECT a.invoice_id, sum(a.amount) AS paid
           FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
           WHERE p.status NOT IN ('declined', 'returned', 'failed', 'voided') GROUP BY a.invoice_id) a
           ON a.invoice_id = i.id
           LEFT JOIN (SELECT rl.invoice_id, sum(rl.reopened) AS back
           FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id JOIN payments p ON p.id = r.payment_id
           WHERE p.status NOT IN ('declined', 'returned', 'failed', 'voided') GROUP BY rl.invoice_id) b
           ON b.invoice_id = i.id
           LEFT JOIN (SELECT ca.invoice_id, sum(ca.amount) AS used FROM credit_applications ca
           JOIN credits c ON c.id = ca.credit_id WHERE credit_counts(c.payment_id) GROUP BY ca.invoice_id) k
           ON k.invoice_id = i.id
           WHERE i.balance <> CASE WHEN i.status = 'open'
                                   THEN i.total - COALESCE(a.paid, 0) + COALESCE(b.back, 0) - COALESCE(k.used, 0)
                                   ELSE 0 END"#
    )
    .fetch_one(pool)
    .await?)
}

/// The payment lines given back past what they paid: the refunds and reversals that hold
/// (awaiting approval, pending, succeeded) adding up to more than the line. None, whatever
/// raced.
pub async fn refunds_over(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM payment_allocations a JOIN (
               SELECT r.payment_id, rl.invoice_id, sum(rl.amount) AS back FROM refund_lines rl
               JOIN refunds r ON r.id = rl.refund_id
               WHERE r.status IN ('awaiting_approval', 'pending', 'succeeded')
               GROUP BY r.payment_id, rl.invoice_id) b
           ON b.payment_id = a.payment_id AND b.invoice_id = a.invoice_id
           WHERE b.back > a.amount"#
    )
    .fetch_one(pool)
    .await?)
}

/// The credits whose remainder is not their amount less what was applied from them and what
/// their refunds hold (awaiting approval, pending, succeeded), and those applied or given back
/// past themselves: none, whatever raced. A credit whose payment no longer counts is left out
/// (what it paid for was reopened with the payment).
pub async fn credits_off(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM credits c
           LEFT JOIN (SELECT credit_id, sum(amount) AS used FROM credit_applications GROUP BY credit_id) a
           ON a.credit_id = c.id
           LEFT JOIN (SELECT payment_id, sum(on_account) AS back FROM refunds
                      WHERE status IN ('awaiting_approval', 'pending', 'succeeded') GROUP BY payment_id) r
           ON r.payment_id = c.payment_id
           WHERE credit_counts(c.payment_id)
             AND c.remaining <> c.amount - COALESCE(a.used, 0) - COALESCE(r.back, 0)"#
    )
    .fetch_one(pool)
    .await?)
}

/// Settle's payments whose amount is not their lines plus what they put on account plus their
/// card surcharge, or whose lines' fees do not add up to the surcharge, or whose refunds gave
/// back more of a line's fee than it carried: none.
pub async fn payments_off(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM payments p
           LEFT JOIN (SELECT payment_id, sum(amount) AS s, sum(fee) AS f FROM payment_allocations GROUP BY payment_id) a
           ON a.payment_id = p.id
           WHERE p.source = 'settle'
             AND (p.amount <> COALESCE(a.s, 0) + p.on_account + p.surcharge OR p.surcharge <> COALESCE(a.f, 0)
                  OR EXISTS (SELECT 1 FROM payment_allocations x JOIN (
                                 SELECT r.payment_id, rl.invoice_id, sum(rl.fee) AS back FROM refund_lines rl
                                 JOIN refunds r ON r.id = rl.refund_id
                                 WHERE r.status IN ('awaiting_approval', 'pending', 'succeeded')
                                 GROUP BY r.payment_id, rl.invoice_id) b
                             ON b.payment_id = x.payment_id AND b.invoice_id = x.invoice_id
                             WHERE x.payment_id = p.id AND b.back > x.fee))"#
    )
    .fetch_one(pool)
    .await?)
}

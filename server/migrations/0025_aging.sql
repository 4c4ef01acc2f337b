-- Reports: the seller's time zone (its days), and the aging of receivables as of any date.

-- The seller's days (a report's "as of", "today") are days in this zone, an IANA name that
-- PostgreSQL knows; UTC until the seller sets theirs (the demo data's days are UTC days).
ALTER TABLE seller_settings ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- Today in the seller's time zone.
CREATE FUNCTION seller_today() RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (now() AT TIME ZONE time_zone)::date FROM seller_settings
$$;

-- The end of day `d` in the seller's time zone: what happened before it is as of `d`.
CREATE FUNCTION seller_day_end(d date) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (d + 1)::timestamp AT TIME ZONE time_zone FROM seller_settings
$$;

-- Whether a payment counted at `t`: it counts now, or it stopped counting (returned, failed,
-- voided: final states, the row's last change) at or after `t`. A declined one never did.
CREATE FUNCTION payment_counted_at(status text, updated_at timestamptz, t timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status NOT IN ('declined', 'returned', 'failed', 'voided')
        OR (status IN ('returned', 'failed', 'voided') AND updated_at >= t)
$$;

-- Whether a payment was taken after day `d` (ending at `t`): an ERP record on the day it was
-- received when the ERP says so, any other when it was made.
CREATE FUNCTION payment_after(created_at timestamptz, received_on date, d date, t timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN received_on IS NOT NULL THEN received_on > d ELSE created_at >= t END
$$;

-- Payments that stopped counting, by when: what the aging undoes after a date.
CREATE INDEX payments_stopped ON payments (updated_at) WHERE status IN ('returned', 'failed', 'voided');
CREATE INDEX payments_received ON payments (received_on) WHERE received_on IS NOT NULL;
CREATE INDEX refunds_created ON refunds (created_at);
CREATE INDEX credit_applications_created ON credit_applications (created_at);

-- What happened after day `d` to each invoice's balance (of `company`, or every company when
-- NULL), to be undone from today's balance to get the day's:
--   + what payments taken after it applied (those counting now),
--   − what payments taken by then applied when they stopped counting after it,
--   − what refunds and disputes made after it hold reopened (of payments counting now),
--   + what refunds made by then held reopened on payments that stopped counting after it,
--   + credit applied after it; − credit applied by then from payments that stopped after it.
-- Each part reads only what happened after the day (indexes on the times), so a recent day is
-- cheap however large the book.
CREATE FUNCTION aging_undo(d date, company bigint)
RETURNS TABLE (invoice_id bigint, back numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH cut AS (SELECT seller_day_end(d) AS t)
    SELECT a.invoice_id, a.amount
    FROM cut, payments p JOIN payment_allocations a ON a.payment_id = p.id
    WHERE p.created_at >= cut.t AND p.received_on IS NULL
      AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')
      AND (company IS NULL OR p.company_id = company)
    UNION ALL
    SELECT a.invoice_id, a.amount
    FROM payments p JOIN payment_allocations a ON a.payment_id = p.id
    WHERE p.received_on > d AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')
      AND (company IS NULL OR p.company_id = company)
    UNION ALL
    SELECT a.invoice_id, -a.amount
    FROM cut, payments p JOIN payment_allocations a ON a.payment_id = p.id
    WHERE p.status IN ('returned', 'failed', 'voided') AND p.updated_at >= cut.t
      AND NOT payment_after(p.created_at, p.received_on, d, cut.t)
      AND (company IS NULL OR p.company_id = company)
    UNION ALL
    SELECT rl.invoice_id, CASE WHEN r.created_at >= cut.t THEN -rl.reopened ELSE rl.reopened END
    FROM cut, refunds r JOIN refund_lines rl ON rl.refund_id = r.id JOIN payments p ON p.id = r.payment_id
    WHERE (company IS NULL OR p.company_id = company) AND rl.reopened > 0
      AND ((r.created_at >= cut.t AND p.status NOT IN ('declined', 'returned', 'failed', 'voided'))
        OR (r.created_at < cut.t AND p.status IN ('returned', 'failed', 'voided') AND p.updated_at >= cut.t))
    UNION ALL
    SELECT ca.invoice_id, CASE WHEN ca.created_at >= cut.t THEN ca.amount ELSE -ca.amount END
    FROM cut, credit_applications ca JOIN credits c ON c.id = ca.credit_id
    LEFT JOIN payments p ON p.id = c.payment_id
    WHERE (company IS NULL OR c.company_id = company)
      AND ((ca.created_at >= cut.t AND (p.id IS NULL OR p.status NOT IN ('declined', 'returned', 'failed', 'voided')))
        OR (ca.created_at < cut.t AND p.status IN ('returned', 'failed', 'voided') AND p.updated_at >= cut.t))
$$;

-- Each open invoice's balance as of day `d`: today's with what happened after the day undone.
-- Invoices issued after the day are left out; only balances above zero are listed.
CREATE FUNCTION aging_lines(d date, company bigint)
RETURNS TABLE (invoice_id bigint, company_id bigint, due_date date, balance numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH per_invoice AS (SELECT u.invoice_id, sum(u.back) AS back FROM aging_undo(d, company) u GROUP BY u.invoice_id)
    SELECT i.id, i.company_id, i.due_date, i.balance + COALESCE(u.back, 0)
    FROM invoices i LEFT JOIN per_invoice u ON u.invoice_id = i.id
    WHERE i.balance > 0 AND i.status = 'open' AND i.issue_date <= d
      AND (company IS NULL OR i.company_id = company)
      AND i.balance + COALESCE(u.back, 0) > 0
    UNION ALL
    SELECT i.id, i.company_id, i.due_date, u.back
    FROM per_invoice u JOIN invoices i ON i.id = u.invoice_id
    WHERE i.balance = 0 AND i.status = 'open' AND i.issue_date <= d AND u.back > 0
$$;

-- Each company's open balance as of day `d` by days past due: the same sums as
-- [`aging_lines`] (an invoice's balance on a day is never below zero, so adding today's
-- balances and what to undo invoice by invoice gives the same totals), without joining the
-- two row by row: one pass over today's open invoices, which PostgreSQL can split between
-- workers, and the few invoices anything happened to after the day.
CREATE FUNCTION aging_figures(d date, company bigint)
RETURNS TABLE (company_id bigint, b0 numeric, b1 numeric, b2 numeric, b3 numeric, b4 numeric,
               b5 numeric, open numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH amounts AS (
        SELECT i.company_id, i.due_date, i.balance AS amount FROM invoices i
        WHERE i.balance > 0 AND i.status = 'open' AND i.issue_date <= d
          AND (company IS NULL OR i.company_id = company)
        UNION ALL
        SELECT i.company_id, i.due_date, u.back
        FROM aging_undo(d, company) u JOIN invoices i ON i.id = u.invoice_id
        WHERE i.status = 'open' AND i.issue_date <= d)
    SELECT a.company_id,
           sum(a.amount) FILTER (WHERE a.due_date >= d),
           sum(a.amount) FILTER (WHERE d - a.due_date BETWEEN 1 AND 30),
           sum(a.amount) FILTER (WHERE d - a.due_date BETWEEN 31 AND 60),
           sum(a.amount) FILTER (WHERE d - a.due_date BETWEEN 61 AND 90),
           sum(a.amount) FILTER (WHERE d - a.due_date BETWEEN 91 AND 120),
           sum(a.amount) FILTER (WHERE d - a.due_date > 120),
           sum(a.amount)
    FROM amounts a GROUP BY a.company_id
    HAVING sum(a.amount) <> 0
$$;

-- A company's unapplied credit as of day `d`: credits made by then (from payments counting
-- then), less what was applied from them and what their refunds held by then.
CREATE FUNCTION aging_credit(d date, company bigint)
RETURNS TABLE (company_id bigint, unapplied numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH cut AS (SELECT seller_day_end(d) AS t)
    SELECT c.company_id,
           sum(c.amount
               - COALESCE((SELECT sum(ca.amount) FROM credit_applications ca
                           WHERE ca.credit_id = c.id AND ca.created_at < cut.t), 0)
               - COALESCE((SELECT sum(r.on_account) FROM refunds r
                           WHERE r.payment_id = c.payment_id AND r.on_account > 0 AND r.created_at < cut.t
                             AND r.status IN ('awaiting_approval', 'pending', 'succeeded')), 0))
    FROM cut, credits c LEFT JOIN payments p ON p.id = c.payment_id
    LEFT JOIN invoices m ON m.id = c.memo_invoice_id
    WHERE (company IS NULL OR c.company_id = company)
      AND (p.id IS NULL OR (payment_counted_at(p.status, p.updated_at, cut.t)
                            AND NOT payment_after(p.created_at, p.received_on, d, cut.t)))
      AND (m.id IS NULL OR m.issue_date <= d)
    GROUP BY c.company_id
$$;

-- What was in dispute on day `d`: disputes opened by then and not closed by then.
CREATE FUNCTION aging_disputed(d date, company bigint)
RETURNS TABLE (company_id bigint, disputed numeric)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH cut AS (SELECT seller_day_end(d) AS t)
    SELECT p.company_id, sum(pd.amount)
    FROM cut, payment_disputes pd JOIN payments p ON p.id = pd.payment_id
    WHERE (company IS NULL OR p.company_id = company)
      AND pd.opened_at < cut.t AND (pd.closed_at IS NULL OR pd.closed_at >= cut.t)
    GROUP BY p.company_id
$$;

-- Large books: a company's figures without adding up its invoices, and the indexes the Open
-- Invoices pages (sorted, filtered, paged on the server) use.

-- A company's open balance and number of open invoices, kept by the statements that change
-- invoices, in their own transaction (a payment's, an import's), so no page view adds up a
-- company's invoices. Overdue is the open balance less what is not yet due (a short range of
-- the open-invoice index).
CREATE TABLE company_balances (
    company_id     BIGINT PRIMARY KEY REFERENCES companies(id),
    open_balance   NUMERIC(16,2) NOT NULL DEFAULT 0 CHECK (open_balance >= 0),
    open_invoices  BIGINT NOT NULL DEFAULT 0 CHECK (open_invoices >= 0)
);
INSERT INTO company_balances (company_id, open_balance, open_invoices)
    SELECT company_id, sum(balance), count(*) FROM invoices WHERE balance > 0 GROUP BY company_id;

-- One statement-level trigger per kind of change: the statement's rows arrive as transition
-- tables, so a COPY of a million invoices is one aggregate, a payment one row per company.
-- The deltas are applied in one set-based statement (an update of the companies that have a
-- row, an insert of the others), never one call per company: a plan cached while the table
-- was small would otherwise scan it once per company.
CREATE FUNCTION company_balances_apply(companies BIGINT[], balances NUMERIC[], counts BIGINT[])
RETURNS void LANGUAGE sql AS $$
    WITH d AS (SELECT * FROM unnest(companies, balances, counts) AS d(company_id, balance, n)),
         updated AS (
             UPDATE company_balances b
             SET open_balance = b.open_balance + d.balance, open_invoices = b.open_invoices + d.n
             FROM d WHERE b.company_id = d.company_id
             RETURNING b.company_id)
    -- A company's first open invoice. Two at once: the second adds to the first.
    INSERT INTO company_balances AS b (company_id, open_balance, open_invoices)
    SELECT d.company_id, d.balance, d.n FROM d
    WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.company_id = d.company_id)
    ON CONFLICT (company_id) DO UPDATE
        SET open_balance = b.open_balance + EXCLUDED.open_balance,
            open_invoices = b.open_invoices + EXCLUDED.open_invoices
$$;

CREATE FUNCTION invoices_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_apply(array_agg(company_id), array_agg(balance), array_agg(n))
    FROM (SELECT company_id, sum(balance) AS balance, count(*) AS n
          FROM new_rows WHERE balance > 0 GROUP BY company_id) d;
    RETURN NULL;
END $$;

CREATE FUNCTION invoices_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_apply(array_agg(company_id), array_agg(balance), array_agg(n))
    FROM (SELECT d.company_id, sum(d.balance) AS balance, sum(d.n)::bigint AS n
          FROM (SELECT company_id, balance, 1 AS n FROM new_rows WHERE balance > 0
                UNION ALL
                SELECT company_id, -balance, -1 FROM old_rows WHERE balance > 0) d
          GROUP BY d.company_id HAVING sum(d.balance) <> 0 OR sum(d.n) <> 0) d;
    RETURN NULL;
END $$;

CREATE FUNCTION invoices_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_apply(array_agg(company_id), array_agg(-balance), array_agg(-n))
    FROM (SELECT company_id, sum(balance) AS balance, count(*) AS n
          FROM old_rows WHERE balance > 0 GROUP BY company_id) d;
    RETURN NULL;
END $$;

CREATE TRIGGER invoices_inserted AFTER INSERT ON invoices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_inserted();
CREATE TRIGGER invoices_updated AFTER UPDATE ON invoices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_updated();
CREATE TRIGGER invoices_deleted AFTER DELETE ON invoices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invoices_deleted();

CREATE OR REPLACE FUNCTION company_figures(company BIGINT, today DATE)
RETURNS TABLE (open_balance NUMERIC, open_invoices BIGINT, overdue NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(b.open_balance, 0), COALESCE(b.open_invoices, 0),
           COALESCE(b.open_balance, 0) - COALESCE((
               SELECT sum(i.balance) FROM invoices i
               WHERE i.company_id = company AND i.balance > 0 AND i.due_date >= today), 0)
    FROM (SELECT company) c LEFT JOIN company_balances b ON b.company_id = c.company
$$;

-- Open invoices of a company, by due date (the default order, the aging filters and the
-- figures above, read from the index alone), by balance, and by number.
DROP INDEX invoices_open;
CREATE INDEX invoices_open ON invoices (company_id, due_date, number) INCLUDE (balance) WHERE balance > 0;
CREATE INDEX invoices_open_balance ON invoices (company_id, balance, number) WHERE balance > 0;
CREATE INDEX invoices_open_number ON invoices (company_id, number) WHERE balance > 0;

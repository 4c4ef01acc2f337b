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
CREATE FUNCTION company_balances_add(delta_balance NUMERIC, delta_count BIGINT, company BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE company_balances
        SET open_balance = open_balance + delta_balance, open_invoices = open_invoices + delta_count
        WHERE company_id = company;
    IF NOT FOUND THEN
        -- A company's first open invoice (two at once: the second adds to the first).
        INSERT INTO company_balances AS b (company_id, open_balance, open_invoices)
        VALUES (company, delta_balance, delta_count)
        ON CONFLICT (company_id) DO UPDATE
            SET open_balance = b.open_balance + EXCLUDED.open_balance,
                open_invoices = b.open_invoices + EXCLUDED.open_invoices;
    END IF;
END $$;

CREATE FUNCTION invoices_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_add(sum(balance), count(*), company_id)
    FROM new_rows WHERE balance > 0 GROUP BY company_id ORDER BY company_id;
    RETURN NULL;
END $$;

CREATE FUNCTION invoices_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_add(sum(d.balance), sum(d.n)::bigint, d.company_id)
    FROM (SELECT company_id, balance, 1 AS n FROM new_rows WHERE balance > 0
          UNION ALL
          SELECT company_id, -balance, -1 FROM old_rows WHERE balance > 0) d
    GROUP BY d.company_id HAVING sum(d.balance) <> 0 OR sum(d.n) <> 0
    ORDER BY d.company_id;
    RETURN NULL;
END $$;

CREATE FUNCTION invoices_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM company_balances_add(-sum(balance), -count(*), company_id)
    FROM old_rows WHERE balance > 0 GROUP BY company_id ORDER BY company_id;
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

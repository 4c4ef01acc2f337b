-- A company's key figures on a given day, in one place for every query that shows them:
-- open balance, how many invoices are open, and how much of it is overdue.
CREATE FUNCTION company_figures(company BIGINT, today DATE)
RETURNS TABLE (open_balance NUMERIC, open_invoices BIGINT, overdue NUMERIC)
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(sum(i.balance), 0), count(*),
           COALESCE(sum(i.balance) FILTER (WHERE i.due_date < today), 0)
    FROM invoices i WHERE i.company_id = company AND i.balance > 0
$$;

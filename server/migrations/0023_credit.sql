-- Credit on account: money a company has with the seller that no invoice holds. A payment may
-- carry more than its invoices' lines (or no line at all) where the company's policy allows
-- it; the excess is its credit. An ERP credit memo is credit too. Credit is applied to open
-- invoices later, never beyond what is left; it is the company's, never an invoice's.
--
-- The ledger: a credit's `remaining` is its amount less what was applied from it and what its
-- refunds hold; an invoice's balance is its total less what counting payments allocated, plus
-- what their refunds reopened, less what counting credits applied to it. A credit counts while
-- its payment does (not declined, returned, failed or voided) or when it is a memo; it can be
-- applied once its money is in (the payment approved or settled).

ALTER TABLE payment_policies ADD COLUMN overpayment_allowed BOOLEAN NOT NULL DEFAULT false;

-- What a payment puts on account beyond its lines: amount = its lines + on_account.
ALTER TABLE payments ADD COLUMN on_account NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (on_account >= 0);

CREATE SEQUENCE credit_number_seq START 1001;

CREATE TABLE credits (
    id               BIGSERIAL PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE DEFAULT ('CR-' || nextval('credit_number_seq')),
    company_id       BIGINT NOT NULL REFERENCES companies(id),
    currency         CHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency IN ('USD')),
    -- Where it came from: a payment's excess, or an ERP credit memo.
    payment_id       BIGINT UNIQUE REFERENCES payments(id),
    memo_invoice_id  BIGINT UNIQUE REFERENCES invoices(id),
    amount           NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    remaining        NUMERIC(14,2) NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((payment_id IS NULL) <> (memo_invoice_id IS NULL))
);
CREATE INDEX credits_company ON credits (company_id, id);

-- Credit applied to an invoice. `key` is the request's: the same key is the same application.
CREATE TABLE credit_applications (
    id          BIGSERIAL PRIMARY KEY,
    key         UUID NOT NULL,
    credit_id   BIGINT NOT NULL REFERENCES credits(id),
    invoice_id  BIGINT NOT NULL REFERENCES invoices(id),
    amount      NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    -- Who applied it: staff, the customer in the portal, or the ERP through the API.
    door        TEXT NOT NULL CHECK (door IN ('staff', 'portal', 'api')),
    applied_by  BIGINT REFERENCES users(id),
    api_key_id  BIGINT REFERENCES api_keys(id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (key, credit_id, invoice_id),
    CHECK ((door = 'api') = (api_key_id IS NOT NULL AND applied_by IS NULL))
);
CREATE INDEX credit_applications_credit ON credit_applications (credit_id);
CREATE INDEX credit_applications_invoice ON credit_applications (invoice_id);

-- A refund may give back a payment's unapplied credit (to the method it came from).
ALTER TABLE refunds ADD COLUMN on_account NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (on_account >= 0);

-- Whether a credit counts: its payment still stands, or it is a memo's.
CREATE FUNCTION credit_counts(pid BIGINT) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pid IS NULL OR EXISTS (SELECT 1 FROM payments p WHERE p.id = pid
                                  AND p.status NOT IN ('declined', 'returned', 'failed', 'voided'))
$$;

-- What counting payments applied to an invoice, less what their refunds hold reopened on it,
-- plus what counting credits applied to it (the ERP's invoice upserts recompute balances with it).
CREATE OR REPLACE FUNCTION invoice_applied(iid BIGINT) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT sum(a.amount) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
                     WHERE a.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')), 0)
         - COALESCE((SELECT sum(rl.reopened) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
                     JOIN payments p ON p.id = r.payment_id
                     WHERE rl.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')), 0)
         + COALESCE((SELECT sum(ca.amount) FROM credit_applications ca JOIN credits c ON c.id = ca.credit_id
                     WHERE ca.invoice_id = iid AND credit_counts(c.payment_id)), 0)
$$;

-- An ERP credit memo is credit on account for its total: made when the memo arrives, its
-- amount following the memo's total (the import refuses a total below what was used, and a
-- memo whose credit was used cannot stop being one). A memo that stops being one, unused,
-- takes its credit with it.
CREATE FUNCTION credit_memo_credit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'credit_memo' THEN
        INSERT INTO credits (company_id, currency, memo_invoice_id, amount, remaining)
        VALUES (NEW.company_id, NEW.currency, NEW.id, NEW.total, NEW.total)
        ON CONFLICT (memo_invoice_id) DO UPDATE
            SET remaining = EXCLUDED.amount - (credits.amount - credits.remaining),
                amount = EXCLUDED.amount, updated_at = now()
            WHERE credits.amount <> EXCLUDED.amount;
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'credit_memo' THEN
        DELETE FROM credits WHERE memo_invoice_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER credit_memo_credit_new AFTER INSERT ON invoices
    FOR EACH ROW WHEN (NEW.status = 'credit_memo') EXECUTE FUNCTION credit_memo_credit();
CREATE TRIGGER credit_memo_credit_changed AFTER UPDATE OF status, total ON invoices
    FOR EACH ROW WHEN (NEW.status = 'credit_memo' OR OLD.status = 'credit_memo')
    EXECUTE FUNCTION credit_memo_credit();

-- The memos already imported.
INSERT INTO credits (company_id, currency, memo_invoice_id, amount, remaining, created_at)
SELECT company_id, currency, id, total, total, created_at FROM invoices WHERE status = 'credit_memo' AND total > 0;

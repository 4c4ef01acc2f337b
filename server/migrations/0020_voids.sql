-- An ACH debit cancelled before it settled: `voided`, a status that applies nothing (its
-- invoices reopen in the same transaction), `payment.voided` in the feed and the webhooks.
-- The sandbox voids a pending charge; on the NACHA rail an entry not yet in a file is taken
-- out (`voided_at`), and one already sent is reversed by a credit of the same amount in the
-- next file (`reverses`: the entry it reverses; the file's credit total beside its debits).

ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('processing', 'pending', 'approved', 'declined', 'settled', 'returned', 'failed', 'voided'));

ALTER TABLE sandbox_charges DROP CONSTRAINT sandbox_charges_status_check;
ALTER TABLE sandbox_charges ADD CONSTRAINT sandbox_charges_status_check
    CHECK (status IN ('approved', 'declined', 'pending', 'settled', 'returned', 'refunded', 'voided'));

CREATE OR REPLACE FUNCTION invoice_applied(iid BIGINT) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT sum(a.amount) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
                     WHERE a.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')), 0)
         - COALESCE((SELECT sum(rl.reopened) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
                     JOIN payments p ON p.id = r.payment_id
                     WHERE rl.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed', 'voided')), 0)
$$;

CREATE OR REPLACE FUNCTION payments_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source = 'settle' AND NEW.status IN ('approved', 'pending', 'declined', 'settled', 'returned', 'voided')
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        INSERT INTO events (type, company_id, payment_id, data)
        VALUES ('payment.' || NEW.status, NEW.company_id, NEW.id,
                payment_json(NEW.id) || jsonb_build_object('status', NEW.status));
    END IF;
    RETURN NULL;
END $$;

ALTER TABLE ach_entries
    ADD COLUMN voided_at TIMESTAMPTZ,
    ADD COLUMN credit BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN reverses BIGINT UNIQUE REFERENCES ach_entries(id),
    ADD CHECK (voided_at IS NULL OR file_id IS NULL),
    ADD CHECK (credit = (reverses IS NOT NULL));
DROP INDEX ach_entries_unfiled;
CREATE INDEX ach_entries_unfiled ON ach_entries (created_at, id) WHERE file_id IS NULL AND voided_at IS NULL;

ALTER TABLE ach_files ADD COLUMN credit_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ach_files DROP CONSTRAINT ach_files_total_cents_check;
ALTER TABLE ach_files ADD CHECK (total_cents >= 0 AND total_cents + credit_cents > 0);

-- Money given back: refunds of a payment, per invoice line, each with its own gateway key and
-- its status as the gateway reports it; reversals of records that moved no money through
-- Settle. Who may refund, and above which amount a second person approves.

CREATE SEQUENCE refund_number_seq START 1001;

CREATE TABLE refunds (
    id                 BIGSERIAL PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE DEFAULT ('R-' || nextval('refund_number_seq')),
    payment_id         BIGINT NOT NULL REFERENCES payments(id),
    -- 'refund': money back through the gateway; 'reversal': a record taken back (no money moved
    -- through Settle).
    kind               TEXT NOT NULL CHECK (kind IN ('refund', 'reversal')),
    amount             NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    -- awaiting_approval → pending → succeeded | failed; awaiting_approval → refused;
    -- pending → cancelled (the gateway cancelled it). A reversal is 'succeeded' at once.
    status             TEXT NOT NULL CHECK (status IN ('awaiting_approval', 'refused', 'pending', 'succeeded', 'failed', 'cancelled')),
    reason             TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 40),
    note               TEXT CHECK (length(note) <= 500),
    -- The form's key: the same key is the same request.
    idempotency_key    UUID NOT NULL UNIQUE,
    request_hash       BYTEA NOT NULL,
    -- What the gateway gets as its idempotency key.
    gateway_key        TEXT NOT NULL UNIQUE,
    gateway_refund_id  TEXT,
    requested_by       BIGINT NOT NULL REFERENCES users(id),
    decided_by         BIGINT REFERENCES users(id),
    decided_at         TIMESTAMPTZ,
    refusal_reason     TEXT,
    failure_message    TEXT,
    -- While the gateway's answer is not known: when to ask again, and how often it was asked.
    next_check_at      TIMESTAMPTZ,
    checks             INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'refused') = (refusal_reason IS NOT NULL)),
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE INDEX refunds_awaiting ON refunds (created_at) WHERE status = 'awaiting_approval';
CREATE INDEX refunds_to_check ON refunds (next_check_at) WHERE status = 'pending';

-- Each refund's share of each invoice line. `reopened` is what it holds open on the invoice's
-- balance: its amount once carried out (0 for an invoice no longer open), less what was closed
-- again when the refund failed.
CREATE TABLE refund_lines (
    refund_id   BIGINT NOT NULL REFERENCES refunds(id),
    invoice_id  BIGINT NOT NULL REFERENCES invoices(id),
    amount      NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    reopened    NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (reopened >= 0 AND reopened <= amount),
    PRIMARY KEY (refund_id, invoice_id)
);
CREATE INDEX refund_lines_invoice ON refund_lines (invoice_id);

-- Clerks refund only with this permission (admins always may).
ALTER TABLE users ADD COLUMN may_refund BOOLEAN NOT NULL DEFAULT false;

-- The seller's settings: one row.
CREATE TABLE seller_settings (
    id                     BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    -- A refund above this waits for a second person (an admin) to approve it.
    refund_approval_above  NUMERIC(14,2) NOT NULL DEFAULT 1000.00 CHECK (refund_approval_above >= 0),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO seller_settings DEFAULT VALUES;

-- The sandbox's own books of refunds, as a hosted gateway keeps them.
CREATE TABLE sandbox_refunds (
    id               TEXT PRIMARY KEY,
    charge_id        TEXT NOT NULL REFERENCES sandbox_charges(id),
    idempotency_key  TEXT NOT NULL UNIQUE,
    amount           NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_refunds_charge ON sandbox_refunds (charge_id);

-- What counting payments applied to an invoice, less what their refunds and reversals hold
-- reopened on it (the ERP's invoice upserts recompute balances with it).
CREATE OR REPLACE FUNCTION invoice_applied(iid BIGINT) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT sum(a.amount) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
                     WHERE a.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed')), 0)
         - COALESCE((SELECT sum(rl.reopened) FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id
                     JOIN payments p ON p.id = r.payment_id
                     WHERE rl.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed')), 0)
$$;

-- The payment engine: a payment is recorded as 'processing' before the gateway is called,
-- and finished after. Short payments carry a reason per invoice.

ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('processing', 'pending', 'approved', 'declined', 'settled', 'returned', 'failed'));
ALTER TABLE payments ADD COLUMN method_label TEXT;
ALTER TABLE payments ADD COLUMN request_hash BYTEA;
CREATE INDEX payments_processing ON payments (created_at) WHERE status = 'processing';

ALTER TABLE payment_allocations ADD COLUMN short_pay_reason TEXT;
ALTER TABLE payment_allocations ADD COLUMN balance_after NUMERIC(14,2) CHECK (balance_after >= 0);

-- The sandbox gateway keeps its own books, as a hosted gateway would on its side. It never
-- sees a stored card number: a token records only how the test card behaves.
CREATE TABLE sandbox_tokens (
    token        TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('card', 'ach')),
    behaviour    TEXT NOT NULL,
    brand        TEXT,
    last4        CHAR(4) NOT NULL,
    exp_month    SMALLINT,
    exp_year     SMALLINT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_charges (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    token            TEXT NOT NULL REFERENCES sandbox_tokens(token),
    amount           NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    currency         CHAR(3) NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('approved', 'declined', 'pending', 'settled', 'returned', 'refunded')),
    code             TEXT,
    message          TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

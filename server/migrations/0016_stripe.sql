-- Stripe as the gateway: the company's Stripe Customer, a card's funding, each webhook event applied once by its
-- id, and the disputes Stripe reports on a payment.
ALTER TABLE companies ADD COLUMN stripe_customer TEXT UNIQUE;
-- A card's funding as the gateway reports it (surcharges apply to credit cards only).
ALTER TABLE payment_methods ADD COLUMN card_funding TEXT
    CHECK (card_funding IN ('credit', 'debit', 'prepaid', 'unknown'));

CREATE TABLE stripe_events (
    id           TEXT PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]+$'),
    type         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    payment_id   BIGINT REFERENCES payments(id),
    -- What Settle did with it: 'applied' (the payment moved on), 'recorded' (kept on the
    -- payment: a refund or a dispute), 'already' (the payment was there), 'unknown'
    -- (no payment of Settle's), 'ignored' (a type Settle does not act on).
    outcome      TEXT NOT NULL CHECK (outcome IN ('applied', 'recorded', 'already', 'unknown', 'ignored'))
);
CREATE INDEX stripe_events_payment ON stripe_events (payment_id) WHERE payment_id IS NOT NULL;

CREATE TABLE payment_disputes (
    id               TEXT PRIMARY KEY CHECK (id ~ '^(dp|du)_[A-Za-z0-9_]+$'),
    payment_id       BIGINT NOT NULL REFERENCES payments(id),
    amount           NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL,
    evidence_due_by  TIMESTAMPTZ,
    opened_at        TIMESTAMPTZ NOT NULL,
    closed_at        TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payment_disputes_payment ON payment_disputes (payment_id);

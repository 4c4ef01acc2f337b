-- Deposits: what each day's money should bring to the bank, per rail, on both sides of the
-- books, each written by triggers in the same transaction as the change that moved the money
-- (so a crash, a retry or a race can neither lose a line nor write it twice: each has a key).
--
-- Settle's side, `money_movements`:
--   a card payment approved, an ACH debit settled: + what was charged (surcharge included);
--   a settled ACH debit returned: −; a refund that succeeded: −;
--   a dispute opened: − its amount, at the time the gateway opened it; a dispute won: +.
-- A debit returned before it settled, a decline, a void and a reversal (no money moved through
-- Settle) move nothing.
--
-- The sandbox gateway's side, `sandbox_balance_transactions`, as a hosted gateway keeps them:
-- the same movements with the fees it takes, at Stripe's published US standard prices (cards
-- 2.9 % + 0.30, ACH debits 0.8 % capped at 5.00, 15.00 per dispute; a refund gives no fee
-- back, nor does a dispute won).

CREATE TABLE money_movements (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    payment_id  BIGINT NOT NULL REFERENCES payments(id),
    rail        TEXT NOT NULL CHECK (rail IN ('card', 'ach')),
    kind        TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'return', 'dispute', 'dispute_won')),
    amount      NUMERIC(14,2) NOT NULL CHECK ((amount > 0) = (kind IN ('payment', 'dispute_won')) AND amount <> 0),
    refund_id   BIGINT REFERENCES refunds(id),
    dispute_id  TEXT REFERENCES payment_disputes(id),
    CHECK ((kind = 'refund') = (refund_id IS NOT NULL)),
    CHECK ((kind IN ('dispute', 'dispute_won')) = (dispute_id IS NOT NULL))
);
CREATE INDEX money_movements_at ON money_movements (at);
CREATE UNIQUE INDEX money_movements_once ON money_movements (payment_id, kind) WHERE kind IN ('payment', 'return');
CREATE UNIQUE INDEX money_movements_refund ON money_movements (refund_id) WHERE refund_id IS NOT NULL;
CREATE UNIQUE INDEX money_movements_dispute ON money_movements (dispute_id, kind) WHERE dispute_id IS NOT NULL;

CREATE FUNCTION payments_money() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rail TEXT;
    was TEXT := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
    at TIMESTAMPTZ := CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE now() END;
BEGIN
    IF NEW.source <> 'settle' OR NEW.method_id IS NULL OR was IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    SELECT kind INTO rail FROM payment_methods WHERE id = NEW.method_id;
    IF (rail = 'card' AND NEW.status = 'approved') OR (rail = 'ach' AND NEW.status = 'settled') THEN
        INSERT INTO money_movements (at, payment_id, rail, kind, amount)
        VALUES (at, NEW.id, rail, 'payment', NEW.amount + NEW.surcharge) ON CONFLICT DO NOTHING;
    ELSIF rail = 'ach' AND NEW.status = 'returned' AND was = 'settled' THEN
        INSERT INTO money_movements (at, payment_id, rail, kind, amount)
        VALUES (at, NEW.id, rail, 'return', -(NEW.amount + NEW.surcharge)) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER payments_money AFTER INSERT OR UPDATE OF status ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_money();

CREATE FUNCTION refunds_money() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'refund' AND NEW.status = 'succeeded'
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'succeeded') THEN
        INSERT INTO money_movements (at, payment_id, rail, kind, amount, refund_id)
        SELECT now(), p.id, m.kind, 'refund', -NEW.amount, NEW.id
        FROM payments p JOIN payment_methods m ON m.id = p.method_id WHERE p.id = NEW.payment_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER refunds_money AFTER INSERT OR UPDATE OF status ON refunds
    FOR EACH ROW EXECUTE FUNCTION refunds_money();

CREATE FUNCTION disputes_money() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO money_movements (at, payment_id, rail, kind, amount, dispute_id)
        SELECT NEW.opened_at, p.id, m.kind, 'dispute', -NEW.amount, NEW.id
        FROM payments p JOIN payment_methods m ON m.id = p.method_id WHERE p.id = NEW.payment_id
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.status = 'won' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'won') THEN
        INSERT INTO money_movements (at, payment_id, rail, kind, amount, dispute_id)
        SELECT COALESCE(NEW.closed_at, now()), p.id, m.kind, 'dispute_won', NEW.amount, NEW.id
        FROM payments p JOIN payment_methods m ON m.id = p.method_id WHERE p.id = NEW.payment_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER disputes_money AFTER INSERT OR UPDATE OF status ON payment_disputes
    FOR EACH ROW EXECUTE FUNCTION disputes_money();

-- What Settle had already moved: payments at the time they were taken (the settlement day is
-- not known for debits settled before), refunds and disputes at the times recorded.
INSERT INTO money_movements (at, payment_id, rail, kind, amount)
SELECT p.created_at, p.id, m.kind, 'payment', p.amount + p.surcharge
FROM payments p JOIN payment_methods m ON m.id = p.method_id
WHERE p.source = 'settle'
  AND ((m.kind = 'card' AND p.status = 'approved') OR (m.kind = 'ach' AND p.status = 'settled'));
INSERT INTO money_movements (at, payment_id, rail, kind, amount, refund_id)
SELECT r.updated_at, p.id, m.kind, 'refund', -r.amount, r.id
FROM refunds r JOIN payments p ON p.id = r.payment_id JOIN payment_methods m ON m.id = p.method_id
WHERE r.kind = 'refund' AND r.status = 'succeeded';
INSERT INTO money_movements (at, payment_id, rail, kind, amount, dispute_id)
SELECT d.opened_at, p.id, m.kind, 'dispute', -d.amount, d.id
FROM payment_disputes d JOIN payments p ON p.id = d.payment_id JOIN payment_methods m ON m.id = p.method_id;
INSERT INTO money_movements (at, payment_id, rail, kind, amount, dispute_id)
SELECT COALESCE(d.closed_at, d.updated_at), p.id, m.kind, 'dispute_won', d.amount, d.id
FROM payment_disputes d JOIN payments p ON p.id = d.payment_id JOIN payment_methods m ON m.id = p.method_id
WHERE d.status = 'won';

CREATE TABLE sandbox_balance_transactions (
    id          TEXT PRIMARY KEY DEFAULT ('txn_' || left(replace(gen_random_uuid()::text, '-', ''), 20)),
    charge_id   TEXT NOT NULL REFERENCES sandbox_charges(id),
    -- The charge, refund or dispute that moved the money.
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'return', 'dispute', 'dispute_won')),
    amount      NUMERIC(14,2) NOT NULL CHECK (amount <> 0),
    fee         NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (fee >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, kind)
);
CREATE INDEX sandbox_balance_transactions_at ON sandbox_balance_transactions (created_at);

CREATE FUNCTION sandbox_charges_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was TEXT := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
BEGIN
    IF NEW.status = 'approved' AND was IS NULL THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, fee, created_at)
        VALUES (NEW.id, NEW.id, 'payment', NEW.amount, round(NEW.amount * 0.029 + 0.30, 2), NEW.created_at)
        ON CONFLICT DO NOTHING;
    ELSIF NEW.status = 'settled' AND was = 'pending' THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, fee)
        VALUES (NEW.id, NEW.id, 'payment', NEW.amount, least(round(NEW.amount * 0.008, 2), 5.00))
        ON CONFLICT DO NOTHING;
    ELSIF NEW.status = 'returned' AND was = 'settled' THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount)
        VALUES (NEW.id, NEW.id, 'return', -NEW.amount)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sandbox_charges_balance AFTER INSERT OR UPDATE OF status ON sandbox_charges
    FOR EACH ROW EXECUTE FUNCTION sandbox_charges_balance();

CREATE FUNCTION sandbox_refunds_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'succeeded' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'succeeded') THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount)
        VALUES (NEW.charge_id, NEW.id, 'refund', -NEW.amount)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sandbox_refunds_balance AFTER INSERT OR UPDATE OF status ON sandbox_refunds
    FOR EACH ROW EXECUTE FUNCTION sandbox_refunds_balance();

CREATE FUNCTION sandbox_disputes_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, fee, created_at)
        VALUES (NEW.charge_id, NEW.id, 'dispute', -NEW.amount, 15.00, NEW.created_at)
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.status = 'won' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'won') THEN
        INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, created_at)
        VALUES (NEW.charge_id, NEW.id, 'dispute_won', NEW.amount, COALESCE(NEW.closed_at, now()))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sandbox_disputes_balance AFTER INSERT OR UPDATE OF status ON sandbox_disputes
    FOR EACH ROW EXECUTE FUNCTION sandbox_disputes_balance();

-- The sandbox's books so far, at the times it recorded (a settlement's own time was not kept:
-- the charge's).
INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, fee, created_at)
SELECT c.id, c.id, 'payment', c.amount,
       CASE t.kind WHEN 'card' THEN round(c.amount * 0.029 + 0.30, 2) ELSE least(round(c.amount * 0.008, 2), 5.00) END,
       c.created_at
FROM sandbox_charges c JOIN sandbox_tokens t ON t.token = c.token
WHERE c.status IN ('approved', 'settled', 'refunded') OR (c.status = 'returned' AND c.code = 'R10');
INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, created_at)
SELECT c.id, c.id, 'return', -c.amount, c.created_at
FROM sandbox_charges c WHERE c.status = 'returned' AND c.code = 'R10';
INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, created_at)
SELECT r.charge_id, r.id, 'refund', -r.amount, r.created_at FROM sandbox_refunds r WHERE r.status = 'succeeded';
INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, fee, created_at)
SELECT d.charge_id, d.id, 'dispute', -d.amount, 15.00, d.created_at FROM sandbox_disputes d;
INSERT INTO sandbox_balance_transactions (charge_id, source, kind, amount, created_at)
SELECT d.charge_id, d.id, 'dispute_won', d.amount, COALESCE(d.closed_at, d.created_at)
FROM sandbox_disputes d WHERE d.status = 'won';

-- Disputes move money. When the card network takes a disputed amount, the payment's invoices
-- reopen by it: a row of `refunds` of kind 'dispute' (no one asked for it: the gateway
-- reported it), its lines held reopened as a refund's are, so the ledger identity counts it the
-- same way; a dispute won gives the money back and closes the invoices again (the row
-- 'cancelled'), one lost keeps them open ('succeeded'). Payment events carry the disputes;
-- `dispute.opened` and `dispute.closed` name theirs. The sandbox keeps its own disputes.

ALTER TABLE refunds DROP CONSTRAINT refunds_kind_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_kind_check CHECK (kind IN ('refund', 'reversal', 'dispute'));
ALTER TABLE refunds ALTER COLUMN requested_by DROP NOT NULL;
ALTER TABLE refunds ADD COLUMN dispute_id TEXT UNIQUE REFERENCES payment_disputes(id);
ALTER TABLE refunds ADD CONSTRAINT refunds_dispute
    CHECK ((kind = 'dispute') = (dispute_id IS NOT NULL) AND (kind = 'dispute') = (requested_by IS NULL));
CREATE INDEX payment_disputes_open ON payment_disputes (evidence_due_by) WHERE closed_at IS NULL;

CREATE TABLE sandbox_disputes (
    id               TEXT PRIMARY KEY CHECK (id ~ '^dp_[A-Za-z0-9_-]+$'),
    charge_id        TEXT NOT NULL UNIQUE REFERENCES sandbox_charges(id),
    amount           NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('needs_response', 'won', 'lost')),
    evidence_due_by  TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at        TIMESTAMPTZ
);

CREATE OR REPLACE FUNCTION payment_json(pid BIGINT) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'object', 'payment',
        'id', p.number,
        'status', p.status,
        'amount', p.amount::text,
        'currency', p.currency,
        'company', jsonb_build_object('id', c.code, 'name', c.name),
        'method', CASE WHEN m.id IS NULL THEN NULL ELSE jsonb_build_object(
            'kind', m.kind, 'brand', m.card_brand, 'bank_name', m.bank_name,
            'account_type', m.account_type, 'last4', m.last4) END,
        'taken_by', CASE WHEN u.id IS NULL THEN NULL ELSE jsonb_build_object(
            'name', u.name, 'email', u.email, 'role', u.role) END,
        'on_behalf_of', c.code,
        'consent', jsonb_build_object('channel', p.consent_channel, 'reference', p.consent_reference),
        'failure', CASE WHEN p.failure_code IS NULL THEN NULL ELSE jsonb_build_object(
            'code', p.failure_code, 'message', p.failure_message) END,
        'allocations', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                'invoice', i.number,
                'amount', a.amount::text,
                'balance_after', a.balance_after::text)
                ORDER BY i.number)
            FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
            WHERE a.payment_id = p.id), '[]'::jsonb),
        'refunded', (SELECT COALESCE(sum(r.amount), 0)::numeric(14,2)::text FROM refunds r
                     WHERE r.payment_id = p.id AND r.kind <> 'dispute' AND r.status IN ('pending', 'succeeded')),
        'refunds', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                'id', r.number, 'kind', r.kind, 'status', r.status, 'amount', r.amount::text,
                'reason', r.reason, 'created_at', r.created_at,
                'lines', (SELECT jsonb_agg(jsonb_build_object('invoice', i.number, 'amount', rl.amount::text)
                                           ORDER BY i.number)
                          FROM refund_lines rl JOIN invoices i ON i.id = rl.invoice_id WHERE rl.refund_id = r.id))
                ORDER BY r.id)
            FROM refunds r WHERE r.payment_id = p.id AND r.kind <> 'dispute'
              AND r.status IN ('pending', 'succeeded', 'failed', 'cancelled')), '[]'::jsonb),
        'refund', NULL,
        'disputes', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                'id', d.id, 'amount', d.amount::text, 'reason', d.reason, 'status', d.status,
                'evidence_due_by', d.evidence_due_by, 'opened_at', d.opened_at, 'closed_at', d.closed_at)
                ORDER BY d.opened_at, d.id)
            FROM payment_disputes d WHERE d.payment_id = p.id), '[]'::jsonb),
        'dispute', NULL,
        'created_at', p.created_at,
        'updated_at', p.updated_at)
    FROM payments p
    JOIN companies c ON c.id = p.company_id
    LEFT JOIN payment_methods m ON m.id = p.method_id
    LEFT JOIN users u ON u.id = p.initiated_by
    WHERE p.id = pid
$$;


UPDATE events SET data = data || '{"disputes": [], "dispute": null}'::jsonb
WHERE payment_id IS NOT NULL AND NOT data ? 'disputes';
UPDATE emails SET data = data || '{"disputes": [], "dispute": null}'::jsonb
WHERE kind IN ('payment_receipt', 'ach_returned', 'refund_receipt') AND NOT data ? 'disputes';

CREATE OR REPLACE FUNCTION refunds_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t TEXT;
BEGIN
    IF NEW.kind = 'dispute' OR (TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status) THEN
        RETURN NULL;
    END IF;
    t := CASE WHEN NEW.status = 'succeeded' AND NEW.kind = 'refund' THEN 'payment.refunded'
              WHEN NEW.status = 'succeeded' THEN 'payment.reversed'
              WHEN NEW.status IN ('failed', 'cancelled') THEN 'refund.failed' END;
    IF t IS NOT NULL THEN
        INSERT INTO events (type, company_id, payment_id, data)
        SELECT t, p.company_id, p.id, payment_json(p.id) || jsonb_build_object('refund', NEW.number)
        FROM payments p WHERE p.id = NEW.payment_id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION disputes_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t TEXT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        t := 'dispute.opened';
    ELSIF NEW.closed_at IS NOT NULL AND OLD.closed_at IS NULL THEN
        t := 'dispute.closed';
    END IF;
    IF t IS NOT NULL THEN
        INSERT INTO events (type, company_id, payment_id, data)
        SELECT t, p.company_id, p.id, payment_json(p.id) || jsonb_build_object('dispute', NEW.id)
        FROM payments p WHERE p.id = NEW.payment_id;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER disputes_event AFTER INSERT OR UPDATE OF closed_at ON payment_disputes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION disputes_event();

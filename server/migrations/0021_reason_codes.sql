-- Reason codes: the short-pay and refund reasons the seller's admins keep, each a code (what
-- the API, the export and the receipts carry), a label, and whether it is offered. A code is
-- never deleted, only made inactive, so every payment and refund that names one can still say
-- it. "other" is always there and always offered: it needs a comment.
CREATE TABLE reason_codes (
    kind TEXT NOT NULL CHECK (kind IN ('short_pay', 'refund')),
    code TEXT NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    label TEXT NOT NULL CHECK (label = btrim(label) AND length(label) BETWEEN 1 AND 80),
    active BOOLEAN NOT NULL DEFAULT true,
    position INT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, code),
    CHECK (code <> 'other' OR active)
);
CREATE UNIQUE INDEX reason_codes_label ON reason_codes (kind, lower(label));

CREATE FUNCTION reason_codes_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a reason code is never deleted (make it inactive): %', OLD.code;
END $$;
CREATE TRIGGER reason_codes_kept BEFORE DELETE ON reason_codes
    FOR EACH ROW EXECUTE FUNCTION reason_codes_kept();

-- The refund reasons Settle has used since refunds began, and a first list of short-pay reasons.
INSERT INTO reason_codes (kind, code, label, position) VALUES
    ('refund', 'duplicate', 'Duplicate payment', 1),
    ('refund', 'wrong_invoices', 'Paid the wrong invoices', 2),
    ('refund', 'wrong_method', 'Charged the wrong payment method', 3),
    ('refund', 'invoice_cancelled', 'Invoice cancelled or credited', 4),
    ('refund', 'customer_request', 'Customer''s request', 5),
    ('refund', 'other', 'Other', 1000),
    ('short_pay', 'pricing', 'Pricing difference', 1),
    ('short_pay', 'short_shipped', 'Goods short-shipped or damaged', 2),
    ('short_pay', 'credit_expected', 'Credit memo expected', 3),
    ('short_pay', 'installment', 'Paying in installments', 4),
    ('short_pay', 'disputed', 'Amount disputed', 5),
    ('short_pay', 'other', 'Other', 1000);

-- A short payment's reason: its code, and short_pay_reason its comment. Reasons written before
-- codes keep their free text in short_pay_reason with no code.
ALTER TABLE payment_allocations ADD COLUMN short_pay_code TEXT;

-- Events say each allocation's short-pay code and reason (null where there is none).
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
                'balance_after', a.balance_after::text,
                'short_pay_code', a.short_pay_code,
                'short_pay_reason', a.short_pay_reason)
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

UPDATE events e SET data = jsonb_set(e.data, '{allocations}', (
    SELECT COALESCE(jsonb_agg(a.v || '{"short_pay_code": null, "short_pay_reason": null}'::jsonb ORDER BY a.n), '[]'::jsonb)
    FROM jsonb_array_elements(e.data->'allocations') WITH ORDINALITY a(v, n)))
WHERE jsonb_typeof(e.data->'allocations') = 'array';
UPDATE emails m SET data = jsonb_set(m.data, '{allocations}', (
    SELECT COALESCE(jsonb_agg(a.v || '{"short_pay_code": null, "short_pay_reason": null}'::jsonb ORDER BY a.n), '[]'::jsonb)
    FROM jsonb_array_elements(m.data->'allocations') WITH ORDINALITY a(v, n)))
WHERE jsonb_typeof(m.data->'allocations') = 'array';

-- Card surcharges: a percentage the seller may add to a payment of invoices by a credit card
-- (never debit, prepaid, unknown funding or ACH), capped at the lower of the setting and 3 %
-- (the card networks' rule), never where the company's billing state forbids it. The fee is
-- its own money: spread over the paid invoices' lines to the cent (`payment_allocations.fee`),
-- never part of an invoice's balance, and given back in proportion by refunds.

-- Off (null) until an admin sets it.
ALTER TABLE seller_settings ADD COLUMN surcharge_percent NUMERIC(4,2)
    CHECK (surcharge_percent > 0 AND surcharge_percent <= 3);

-- Where a company is billed (a US state's two letters), as the ERP sends it.
ALTER TABLE companies ADD COLUMN billing_state CHAR(2) CHECK (billing_state ~ '^[A-Z]{2}$');

-- The states whose law refuses or caps card surcharges, with their source and the day the
-- entry was last checked. Data an admin can read (System → Payment policy).
CREATE TABLE surcharge_rules (
    state        CHAR(2) PRIMARY KEY CHECK (state ~ '^[A-Z]{2}$'),
    name         TEXT NOT NULL,
    rule         TEXT NOT NULL CHECK (rule IN ('refused', 'capped')),
    cap_percent  NUMERIC(4,2) CHECK (cap_percent > 0 AND cap_percent <= 3),
    source       TEXT NOT NULL,
    checked_on   DATE NOT NULL,
    CHECK ((rule = 'capped') = (cap_percent IS NOT NULL))
);
INSERT INTO surcharge_rules (state, name, rule, cap_percent, source, checked_on) VALUES
    ('CT', 'Connecticut', 'refused', NULL, 'Conn. Gen. Stat. § 42-133ff', '2026-12-01'),
    ('ME', 'Maine', 'refused', NULL, 'Me. Rev. Stat. tit. 9-A, § 8-509', '2026-12-01'),
    ('MA', 'Massachusetts', 'refused', NULL, 'Mass. Gen. Laws ch. 140D, § 28A', '2026-12-01'),
    ('CO', 'Colorado', 'capped', 2.00, 'Colo. Rev. Stat. § 5-2-212', '2026-12-01');

-- The sandbox's books say each test card's funding, as a hosted gateway reports it.
ALTER TABLE sandbox_tokens ADD COLUMN funding TEXT CHECK (funding IN ('credit', 'debit', 'prepaid', 'unknown'));

-- A payment's surcharge and its rate; each line's share of it.
ALTER TABLE payments ADD COLUMN surcharge NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (surcharge >= 0);
ALTER TABLE payments ADD COLUMN surcharge_percent NUMERIC(4,2)
    CHECK (surcharge_percent > 0 AND surcharge_percent <= 3);
ALTER TABLE payments ADD CONSTRAINT payments_surcharge_rate CHECK ((surcharge > 0) = (surcharge_percent IS NOT NULL));
ALTER TABLE payment_allocations ADD COLUMN fee NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (fee >= 0);
-- What a refund gives back of each line's fee.
ALTER TABLE refund_lines ADD COLUMN fee NUMERIC(14,2) NOT NULL DEFAULT 0 CHECK (fee >= 0);

-- The sandbox's cards saved before it reported funding were its credit cards.
UPDATE sandbox_tokens SET funding = 'credit' WHERE kind = 'card' AND funding IS NULL;
UPDATE payment_methods m SET card_funding = t.funding FROM sandbox_tokens t
WHERE t.token = m.gateway_token AND m.kind = 'card' AND m.card_funding IS NULL;

-- Events and the API carry each allocation's fee, the surcharge and its rate, and what went on
-- account.
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
                'short_pay_reason', a.short_pay_reason,
                'fee', a.fee::text)
                ORDER BY i.number)
            FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
            WHERE a.payment_id = p.id), '[]'::jsonb),
        'on_account', p.on_account::text,
        'surcharge', p.surcharge::text,
        'surcharge_percent', p.surcharge_percent::text,
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

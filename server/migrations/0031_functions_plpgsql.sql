-- The two SQL functions every payment runs, as PL/pgSQL. A LANGUAGE sql function that cannot
-- be inlined (payment_json reads tables; company_balances_apply writes them) is parsed and
-- planned again on every call: payment_json took about 4 ms a call, most of a payment's
-- database time, under its webhook event; company_balances_apply 0.7 ms under every change of
-- invoices. PL/pgSQL keeps each statement's plan for the session. Same bodies, same results.

CREATE OR REPLACE FUNCTION payment_json(pid BIGINT) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
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
    );
END $$;

CREATE OR REPLACE FUNCTION company_balances_apply(companies BIGINT[], balances NUMERIC[], counts BIGINT[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH d AS (SELECT * FROM unnest(companies, balances, counts) AS d(company_id, balance, n)),
         updated AS (
             UPDATE company_balances b
             SET open_balance = b.open_balance + d.balance, open_invoices = b.open_invoices + d.n
             FROM d WHERE b.company_id = d.company_id
             RETURNING b.company_id)
    -- A company's first open invoice. Two at once: the second adds to the first.
    INSERT INTO company_balances AS b (company_id, open_balance, open_invoices)
    SELECT d.company_id, d.balance, d.n FROM d
    WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.company_id = d.company_id)
    ON CONFLICT (company_id) DO UPDATE
        SET open_balance = b.open_balance + EXCLUDED.open_balance,
            open_invoices = b.open_invoices + EXCLUDED.open_invoices;
END $$;

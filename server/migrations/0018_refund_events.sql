-- Money given back in the events and emails: every payment event carries the payment's
-- refunds and what they gave back; a refund that succeeds is `payment.refunded` (a refund
-- receipt to the AP contacts), a reversal `payment.reversed`, a refund that fails or is
-- cancelled `refund.failed`, each naming its refund. Events and emails written before carry
-- the same fields (none given back).

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
                     WHERE r.payment_id = p.id AND r.status IN ('pending', 'succeeded')),
        'refunds', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                'id', r.number, 'kind', r.kind, 'status', r.status, 'amount', r.amount::text,
                'reason', r.reason, 'created_at', r.created_at,
                'lines', (SELECT jsonb_agg(jsonb_build_object('invoice', i.number, 'amount', rl.amount::text)
                                           ORDER BY i.number)
                          FROM refund_lines rl JOIN invoices i ON i.id = rl.invoice_id WHERE rl.refund_id = r.id))
                ORDER BY r.id)
            FROM refunds r WHERE r.payment_id = p.id
              AND r.status IN ('pending', 'succeeded', 'failed', 'cancelled')), '[]'::jsonb),
        'refund', NULL,
        'created_at', p.created_at,
        'updated_at', p.updated_at)
    FROM payments p
    JOIN companies c ON c.id = p.company_id
    LEFT JOIN payment_methods m ON m.id = p.method_id
    LEFT JOIN users u ON u.id = p.initiated_by
    WHERE p.id = pid
$$;


UPDATE events SET data = data || '{"refunded": "0.00", "refunds": [], "refund": null}'::jsonb
WHERE payment_id IS NOT NULL AND NOT data ? 'refunds';
UPDATE emails SET data = data || '{"refunded": "0.00", "refunds": [], "refund": null}'::jsonb
WHERE kind IN ('payment_receipt', 'ach_returned') AND NOT data ? 'refunds';

CREATE FUNCTION refunds_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t TEXT;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
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
CREATE CONSTRAINT TRIGGER refunds_event AFTER INSERT OR UPDATE OF status ON refunds
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refunds_event();

ALTER TABLE emails DROP CONSTRAINT emails_kind_check;
ALTER TABLE emails ADD CONSTRAINT emails_kind_check
    CHECK (kind IN ('payment_receipt', 'ach_returned', 'card_expiring', 'method_added',
                    'method_deactivated', 'invitation', 'password_reset', 'pay_link',
                    'pay_link_locked', 'refund_receipt'));

CREATE OR REPLACE FUNCTION events_mail() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind TEXT;
    key TEXT;
BEGIN
    IF current_setting('settle.no_mail', true) = 'on' OR NEW.company_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.type IN ('payment.approved', 'payment.pending') THEN
        kind := 'payment_receipt';
        key := 'receipt:' || NEW.payment_id;
        INSERT INTO emails (kind, recipient, recipient_name, data, dedupe_key, company_id, event_id)
        SELECT kind, r.email, r.name, NEW.data, key || ':' || r.email, NEW.company_id, NEW.id
        FROM (
            SELECT DISTINCT ON (email) email, name FROM (
                SELECT m.email, m.name FROM company_mail_contacts(NEW.company_id) m
                UNION ALL
                SELECT u.email, u.name FROM payments p JOIN users u ON u.id = p.initiated_by
                WHERE p.id = NEW.payment_id AND u.role = 'customer'
                UNION ALL
                SELECT lower(l.email), c.name FROM payments p JOIN pay_links l ON l.id = p.pay_link_id
                JOIN contacts c ON c.id = l.contact_id WHERE p.id = NEW.payment_id
            ) everyone ORDER BY email
        ) r
        ON CONFLICT (dedupe_key) DO NOTHING;
    ELSIF NEW.type = 'payment.returned' THEN
        kind := 'ach_returned';
        key := 'ach-returned:' || NEW.payment_id;
        INSERT INTO emails (kind, recipient, recipient_name, data, dedupe_key, company_id, event_id)
        SELECT kind, r.email, r.name,
               NEW.data || jsonb_build_object('reopened', (
                   SELECT COALESCE(jsonb_agg(jsonb_build_object('invoice', i.number,
                              'amount', a.amount::text, 'balance', i.balance::text) ORDER BY i.number), '[]'::jsonb)
                   FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
                   WHERE a.payment_id = NEW.payment_id)),
               key || ':' || r.email, NEW.company_id, NEW.id
        FROM (
            SELECT DISTINCT ON (email) email, name FROM (
                SELECT m.email, m.name FROM company_mail_contacts(NEW.company_id) m
                UNION ALL
                SELECT u.email, u.name FROM payments p JOIN users u ON u.id = p.initiated_by
                WHERE p.id = NEW.payment_id AND u.role IN ('admin', 'clerk')
            ) everyone ORDER BY email
        ) r
        ON CONFLICT (dedupe_key) DO NOTHING;
    ELSIF NEW.type = 'payment.refunded' THEN
        kind := 'refund_receipt';
        key := 'refund:' || (NEW.data ->> 'refund');
        INSERT INTO emails (kind, recipient, recipient_name, data, dedupe_key, company_id, event_id)
        SELECT kind, r.email, r.name, NEW.data, key || ':' || r.email, NEW.company_id, NEW.id
        FROM (
            SELECT DISTINCT ON (email) email, name FROM (
                SELECT m.email, m.name FROM company_mail_contacts(NEW.company_id) m
                UNION ALL
                SELECT u.email, u.name FROM payments p JOIN users u ON u.id = p.initiated_by
                WHERE p.id = NEW.payment_id AND u.role = 'customer'
            ) everyone ORDER BY email
        ) r
        ON CONFLICT (dedupe_key) DO NOTHING;
    ELSIF NEW.type IN ('method.added', 'method.deactivated') THEN
        kind := CASE NEW.type WHEN 'method.added' THEN 'method_added' ELSE 'method_deactivated' END;
        INSERT INTO emails (kind, recipient, recipient_name, data, dedupe_key, company_id, event_id)
        SELECT kind, m.email, m.name, NEW.data, kind || ':' || NEW.id || ':' || m.email,
               NEW.company_id, NEW.id
        FROM company_mail_contacts(NEW.company_id) m
        ON CONFLICT (dedupe_key) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;


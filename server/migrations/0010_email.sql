-- Settle reaches people: an email outbox, invitation and password-reset links, pay links.

-- Links in emails are signed: the token is an HMAC of (purpose, row id, nonce) under the
-- server's secret key, so the database holds only the nonce and the token's SHA-256 — neither
-- opens anything without the key. When `SETTLE_SECRET_KEY` is not set, a key made once and
-- kept here is used (one per database, so every instance signs alike).
CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    secret      BYTEA NOT NULL CHECK (length(secret) >= 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Invitation and password-reset links: single use, expiring, only the token's hash kept.
CREATE TABLE user_tokens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    nonce       BYTEA NOT NULL CHECK (length(nonce) = 16),
    token_hash  BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Requests per key (e.g. a password reset per email address, per client address) per
-- window, shared by every instance.
CREATE TABLE rate_windows (
    key           TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    used          INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- A pay link: the invoices a clerk asked an AP contact to pay, payable without an account
-- until it is paid, revoked or expired. Never more than the balances at the time of paying.
CREATE TABLE pay_links (
    id           BIGSERIAL PRIMARY KEY,
    company_id   BIGINT NOT NULL REFERENCES companies(id),
    contact_id   BIGINT NOT NULL REFERENCES contacts(id),
    email        TEXT NOT NULL,
    invoice_ids  BIGINT[] NOT NULL CHECK (cardinality(invoice_ids) BETWEEN 1 AND 200),
    nonce        BYTEA NOT NULL CHECK (length(nonce) = 16),
    token_hash   BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    sent_by      BIGINT NOT NULL REFERENCES users(id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    opened_at    TIMESTAMPTZ,
    paid_at      TIMESTAMPTZ,
    payment_id   BIGINT REFERENCES payments(id),
    revoked_at   TIMESTAMPTZ,
    revoked_by   BIGINT REFERENCES users(id)
);
CREATE INDEX pay_links_company ON pay_links (company_id, id DESC);

-- A payment made through a pay link: the customer's own consent, recorded with the link.
ALTER TABLE payments ADD COLUMN pay_link_id BIGINT REFERENCES pay_links(id);
ALTER TABLE payments DROP CONSTRAINT payments_consent_channel_check;
ALTER TABLE payments ADD CONSTRAINT payments_consent_channel_check
    CHECK (consent_channel IN ('phone', 'email', 'other', 'portal', 'pay_link'));
CREATE INDEX payments_pay_link ON payments (pay_link_id) WHERE pay_link_id IS NOT NULL;

-- The outbox. A message is written in the transaction of the change it reports (one per
-- recipient; `dedupe_key` keeps it to one however often the change is seen) and sent by any
-- instance's worker: claimed with SKIP LOCKED and a lease, retried with backoff. `data` is
-- what the templates render; it never holds a link's token (the worker signs the link).
CREATE TABLE emails (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('payment_receipt', 'ach_returned', 'card_expiring',
                         'method_added', 'method_deactivated', 'invitation', 'password_reset', 'pay_link')),
    recipient        TEXT NOT NULL CHECK (recipient ~ '^[^\s@]+@[^\s@]+$' AND length(recipient) <= 254),
    recipient_name   TEXT,
    subject          TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    data             JSONB NOT NULL,
    dedupe_key       TEXT NOT NULL UNIQUE,
    company_id       BIGINT REFERENCES companies(id),
    event_id         BIGINT REFERENCES events(id),
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until      TIMESTAMPTZ,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'pending';
CREATE INDEX emails_company ON emails (company_id, id DESC);

-- The company's AP contacts that have an email address, one row per address.
CREATE FUNCTION company_mail_contacts(cid BIGINT) RETURNS TABLE (email TEXT, name TEXT)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (lower(c.email)) lower(btrim(c.email)), c.name
    FROM contacts c
    WHERE c.company_id = cid AND c.email ~ '^[^\s@]+@[^\s@]+$'
    ORDER BY lower(c.email), c.id
$$;

-- Money as the emails' subjects show it.
CREATE FUNCTION usd(amount TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT '$' || to_char(amount::numeric, 'FM999,999,999,990.00')
$$;

-- Events that people are told of, as emails in the same transaction: a receipt when a payment
-- is accepted (card approved, ACH submitted) to the AP contacts, the customer user who paid
-- and the pay link's addressee; an ACH return to the AP contacts and the staff member who took
-- it; a method added or deactivated to the AP contacts. Demo seeding sets `settle.no_mail`.
CREATE FUNCTION events_mail() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind TEXT;
    subject TEXT;
    key TEXT;
BEGIN
    IF current_setting('settle.no_mail', true) = 'on' OR NEW.company_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.type IN ('payment.approved', 'payment.pending') THEN
        kind := 'payment_receipt';
        subject := 'Payment receipt ' || (NEW.data->>'id') || ': ' || usd(NEW.data->>'amount')
                   || ' from ' || (NEW.data->'company'->>'name');
        key := 'receipt:' || NEW.payment_id;
        INSERT INTO emails (kind, recipient, recipient_name, subject, data, dedupe_key, company_id, event_id)
        SELECT kind, r.email, r.name, subject, NEW.data, key || ':' || r.email, NEW.company_id, NEW.id
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
        subject := 'ACH payment returned: ' || (NEW.data->>'id') || ' (' || usd(NEW.data->>'amount')
                   || ') from ' || (NEW.data->'company'->>'name');
        key := 'ach-returned:' || NEW.payment_id;
        INSERT INTO emails (kind, recipient, recipient_name, subject, data, dedupe_key, company_id, event_id)
        SELECT kind, r.email, r.name, subject,
               NEW.data || jsonb_build_object('reopened', (
                   SELECT COALESCE(jsonb_agg(jsonb_build_object('invoice', i.number,
                              'amount', to_char(a.amount, 'FM999999999990.00'),
                              'balance', to_char(i.balance, 'FM999999999990.00')) ORDER BY i.number), '[]'::jsonb)
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
    ELSIF NEW.type IN ('method.added', 'method.deactivated') THEN
        kind := CASE NEW.type WHEN 'method.added' THEN 'method_added' ELSE 'method_deactivated' END;
        subject := CASE NEW.type WHEN 'method.added' THEN 'Security notice: a payment method was added for '
                                 ELSE 'Security notice: a payment method was deactivated for ' END
                   || (NEW.data->'company'->>'name');
        INSERT INTO emails (kind, recipient, recipient_name, subject, data, dedupe_key, company_id, event_id)
        SELECT kind, m.email, m.name, subject, NEW.data, kind || ':' || NEW.id || ':' || m.email,
               NEW.company_id, NEW.id
        FROM company_mail_contacts(NEW.company_id) m
        ON CONFLICT (dedupe_key) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER events_mail AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_mail();

-- The seller's ERP connects: API keys, idempotent upserts by the ERP's identifiers, payments
-- recorded in the ERP, a gap-free event feed, webhooks delivered from an outbox, CSV imports.

-- API keys. Only the SHA-256 of the secret is kept (the secret is 32 random bytes, so a fast
-- hash is enough); `prefix` is the start of the secret, shown to tell keys apart.
CREATE TABLE api_keys (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    scope         TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    prefix        TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by    BIGINT NOT NULL REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    revoked_by    BIGINT REFERENCES users(id)
);

-- Requests per key per minute, shared by every instance.
CREATE TABLE api_rate_windows (
    key_id        BIGINT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    window_start  TIMESTAMPTZ NOT NULL,
    used          INTEGER NOT NULL,
    PRIMARY KEY (key_id, window_start)
);

-- A POST's `Idempotency-Key`: the first answer, replayed for the same key and body. Written in
-- the transaction of the change, so an answer is stored exactly when the change is.
CREATE TABLE api_idempotency (
    key_id           BIGINT NOT NULL REFERENCES api_keys(id),
    idempotency_key  TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    path             TEXT NOT NULL,
    request_hash     BYTEA NOT NULL CHECK (length(request_hash) = 32),
    status           SMALLINT NOT NULL,
    response         JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- A write through the API is audited with its key as the actor.
ALTER TABLE audit_events ADD COLUMN actor_api_key_id BIGINT REFERENCES api_keys(id);

-- Contacts are upserted by (company, email).
CREATE UNIQUE INDEX contacts_company_email ON contacts (company_id, lower(email)) WHERE email IS NOT NULL;

-- An invoice is open, cancelled or a credit memo; only an open one has a balance. An open
-- invoice's balance is its total less what payments (Settle's and the ERP's) applied to it.
ALTER TABLE invoices ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'cancelled', 'credit_memo'));
ALTER TABLE invoices ADD CONSTRAINT invoices_closed_no_balance CHECK (status = 'open' OR balance = 0);

-- What payments that count (not declined, returned or failed) applied to an invoice.
CREATE FUNCTION invoice_applied(iid BIGINT) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE(sum(a.amount), 0) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
    WHERE a.invoice_id = iid AND p.status NOT IN ('declined', 'returned', 'failed')
$$;

-- Payments booked in the ERP (a check received, a credit applied): their own record, applied
-- once by their external id.
ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'settle' CHECK (source IN ('settle', 'erp'));
ALTER TABLE payments ADD COLUMN external_id TEXT UNIQUE CHECK (length(external_id) BETWEEN 1 AND 100);
ALTER TABLE payments ADD COLUMN external_kind TEXT
    CHECK (external_kind IN ('check', 'wire', 'ach', 'card', 'cash', 'credit', 'other'));
ALTER TABLE payments ADD COLUMN received_on DATE;
ALTER TABLE payments ADD CONSTRAINT payments_erp_fields
    CHECK ((source = 'erp') = (external_id IS NOT NULL AND external_kind IS NOT NULL));
CREATE INDEX payments_created ON payments (created_at DESC, id DESC);

-- What happened, for the payments feed and the webhooks. `xid` is the writing transaction: a
-- reader takes only rows of transactions older than every one still running
-- (`pg_snapshot_xmin`), in (xid, id) order, so a row committed later never lands behind a
-- cursor already handed out (no gaps, no repeats).
CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    type        TEXT NOT NULL,
    company_id  BIGINT REFERENCES companies(id),
    payment_id  BIGINT REFERENCES payments(id),
    method_id   BIGINT REFERENCES payment_methods(id),
    data        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_order ON events (xid, id);
CREATE INDEX events_payments_order ON events (xid, id) WHERE payment_id IS NOT NULL;

-- A payment as the API and the webhooks show it.
CREATE FUNCTION payment_json(pid BIGINT) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'object', 'payment',
        'id', p.number,
        'status', p.status,
        'amount', to_char(p.amount, 'FM999999999990.00'),
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
                'amount', to_char(a.amount, 'FM999999999990.00'),
                'balance_after', to_char(a.balance_after, 'FM999999999990.00'))
                ORDER BY i.number)
            FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
            WHERE a.payment_id = p.id), '[]'::jsonb),
        'created_at', p.created_at,
        'updated_at', p.updated_at)
    FROM payments p
    JOIN companies c ON c.id = p.company_id
    LEFT JOIN payment_methods m ON m.id = p.method_id
    LEFT JOIN users u ON u.id = p.initiated_by
    WHERE p.id = pid
$$;

-- A saved method as the webhooks show it (never its token).
CREATE FUNCTION method_json(mid BIGINT) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'object', 'payment_method',
        'id', m.id,
        'company', jsonb_build_object('id', c.code, 'name', c.name),
        'kind', m.kind, 'brand', m.card_brand, 'last4', m.last4,
        'exp_month', m.exp_month, 'exp_year', m.exp_year,
        'bank_name', m.bank_name, 'account_type', m.account_type,
        'holder_name', m.holder_name, 'active', m.active,
        'created_at', m.created_at)
    FROM payment_methods m JOIN companies c ON c.id = m.company_id
    WHERE m.id = mid
$$;

-- A Settle payment reaching approved, pending, declined, settled or returned is an event,
-- written by the transaction that changes it (whichever code path that is). The trigger runs
-- at commit, so the payment's allocations are in the event even when the payment was inserted
-- with its final status before them; the status is the one the change set.
CREATE FUNCTION payments_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source = 'settle' AND NEW.status IN ('approved', 'pending', 'declined', 'settled', 'returned')
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
        INSERT INTO events (type, company_id, payment_id, data)
        VALUES ('payment.' || NEW.status, NEW.company_id, NEW.id,
                payment_json(NEW.id) || jsonb_build_object('status', NEW.status));
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER payments_event AFTER INSERT OR UPDATE OF status ON payments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_event();

CREATE FUNCTION methods_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO events (type, company_id, method_id, data)
        VALUES ('method.added', NEW.company_id, NEW.id, method_json(NEW.id));
    ELSIF OLD.active IS DISTINCT FROM NEW.active THEN
        INSERT INTO events (type, company_id, method_id, data)
        VALUES (CASE WHEN NEW.active THEN 'method.activated' ELSE 'method.deactivated' END,
                NEW.company_id, NEW.id, method_json(NEW.id));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER methods_event AFTER INSERT OR UPDATE OF active ON payment_methods
    FOR EACH ROW EXECUTE FUNCTION methods_event();

-- Webhooks: endpoints, and one delivery per (event, endpoint) written with the event.
CREATE TABLE webhook_endpoints (
    id           BIGSERIAL PRIMARY KEY,
    url          TEXT NOT NULL CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2000),
    description  TEXT,
    secret       TEXT NOT NULL,
    event_types  TEXT[] NOT NULL CHECK (cardinality(event_types) > 0),
    active       BOOLEAN NOT NULL DEFAULT true,
    created_by   BIGINT REFERENCES users(id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    event_id         BIGINT NOT NULL REFERENCES events(id),
    endpoint_id      BIGINT NOT NULL REFERENCES webhook_endpoints(id),
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- While an instance is sending it; past this, another instance may take it over.
    lease_until      TIMESTAMPTZ,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);

-- Every attempt, for the endpoint's delivery log.
CREATE TABLE webhook_attempts (
    id           BIGSERIAL PRIMARY KEY,
    delivery_id  BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at);

CREATE FUNCTION events_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (event_id, endpoint_id)
    SELECT NEW.id, e.id FROM webhook_endpoints e WHERE e.active AND NEW.type = ANY (e.event_types);
    RETURN NULL;
END $$;
CREATE TRIGGER events_fan_out AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_fan_out();

-- CSV imports: the uploaded file, kept until it is committed (or forgotten).
CREATE TABLE imports (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('companies', 'contacts', 'invoices')),
    file_name     TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_by   BIGINT NOT NULL REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    committed_at  TIMESTAMPTZ,
    result        JSONB
);

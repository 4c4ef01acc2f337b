-- Settle core schema. Money is NUMERIC with the currency beside it, never a float.
-- Constraints make the bad states impossible rather than merely unlikely.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE companies (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE
                CHECK (code ~ '^[A-Z0-9-]{1,20}$'),
    name        TEXT NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    currency    CHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency IN ('USD')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Substring search on Company ID and name stays fast at 100k+ companies.
CREATE INDEX companies_code_trgm ON companies USING gin (code gin_trgm_ops);
CREATE INDEX companies_name_trgm ON companies USING gin (name gin_trgm_ops);
CREATE INDEX companies_name ON companies (lower(name), code);

CREATE TABLE contacts (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    title       TEXT,
    email       TEXT,
    phone       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX contacts_company ON contacts (company_id);

CREATE TABLE invoices (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT NOT NULL REFERENCES companies(id),
    number      TEXT NOT NULL CHECK (length(btrim(number)) > 0),
    po_number   TEXT,
    issue_date  DATE NOT NULL,
    due_date    DATE NOT NULL CHECK (due_date >= issue_date),
    currency    CHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency IN ('USD')),
    total       NUMERIC(14,2) NOT NULL CHECK (total > 0),
    balance     NUMERIC(14,2) NOT NULL CHECK (balance >= 0 AND balance <= total),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (company_id, number)
);
-- Open invoices of a company, by due date: the Open Invoices tab and the company figures.
CREATE INDEX invoices_open ON invoices (company_id, due_date) WHERE balance > 0;

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    email             TEXT NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    name              TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    role              TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'customer')),
    -- Customer users belong to exactly one company; staff to none.
    company_id        BIGINT REFERENCES companies(id),
    password_hash     TEXT,
    must_set_password BOOLEAN NOT NULL DEFAULT false,
    active            BOOLEAN NOT NULL DEFAULT true,
    failed_logins     INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until      TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((role = 'customer') = (company_id IS NOT NULL)),
    CHECK (password_hash IS NOT NULL OR must_set_password)
);
CREATE UNIQUE INDEX users_email ON users (email);

-- Server-side sessions. Only a SHA-256 of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash    BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Uploaded files, e.g. a customer's signed ACH debit authorization.
CREATE TABLE documents (
    id            BIGSERIAL PRIMARY KEY,
    company_id    BIGINT NOT NULL REFERENCES companies(id),
    kind          TEXT NOT NULL CHECK (kind IN ('ach_authorization')),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'text/plain')),
    size_bytes    INTEGER NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 10485760),
    sha256        BYTEA NOT NULL CHECK (length(sha256) = 32),
    content       BYTEA NOT NULL CHECK (length(content) = size_bytes),
    signed_on     DATE,
    uploaded_by   BIGINT REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX documents_company ON documents (company_id);

-- Saved payment methods: a gateway token and display fields only. Never a full card or
-- account number, never a CVC.
CREATE TABLE payment_methods (
    id              BIGSERIAL PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies(id),
    kind            TEXT NOT NULL CHECK (kind IN ('card', 'ach')),
    gateway         TEXT NOT NULL DEFAULT 'sandbox',
    gateway_token   TEXT NOT NULL UNIQUE,
    holder_name     TEXT NOT NULL CHECK (length(btrim(holder_name)) > 0),
    last4           CHAR(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    card_brand      TEXT CHECK (card_brand IN ('visa', 'mastercard', 'amex', 'discover')),
    exp_month       SMALLINT CHECK (exp_month BETWEEN 1 AND 12),
    exp_year        SMALLINT CHECK (exp_year BETWEEN 2000 AND 2100),
    bank_name       TEXT,
    routing_number  CHAR(9) CHECK (routing_number ~ '^[0-9]{9}$'),
    account_type    TEXT CHECK (account_type IN ('checking', 'savings')),
    holder_type     TEXT CHECK (holder_type IN ('business', 'personal')),
    authorization_document_id BIGINT REFERENCES documents(id),
    active          BOOLEAN NOT NULL DEFAULT true,
    is_default      BOOLEAN NOT NULL DEFAULT false,
    created_by      BIGINT REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (kind <> 'card' OR (card_brand IS NOT NULL AND exp_month IS NOT NULL AND exp_year IS NOT NULL)),
    -- ACH needs the customer's signed debit authorization on file.
    CHECK (kind <> 'ach' OR (routing_number IS NOT NULL AND account_type IS NOT NULL
                             AND holder_type IS NOT NULL AND authorization_document_id IS NOT NULL))
);
CREATE INDEX payment_methods_company ON payment_methods (company_id);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (company_id) WHERE is_default;

-- A request that must happen once: the same key replays the first outcome.
CREATE TABLE idempotency_keys (
    key           UUID PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users(id),
    scope         TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    response      JSONB,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at  TIMESTAMPTZ
);

CREATE SEQUENCE payment_number_seq START 100001;

CREATE TABLE payments (
    id                BIGSERIAL PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE DEFAULT ('P-' || nextval('payment_number_seq')),
    company_id        BIGINT NOT NULL REFERENCES companies(id),
    -- NULL for a payment recorded outside Settle (a check or wire booked by the ERP).
    method_id         BIGINT REFERENCES payment_methods(id),
    currency          CHAR(3) NOT NULL DEFAULT 'USD' CHECK (currency IN ('USD')),
    amount            NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'settled', 'returned', 'failed')),
    idempotency_key   UUID UNIQUE,
    initiated_by      BIGINT REFERENCES users(id),
    consent_channel   TEXT CHECK (consent_channel IN ('phone', 'email', 'other', 'portal')),
    consent_reference TEXT,
    gateway_charge_id TEXT UNIQUE,
    failure_code      TEXT,
    failure_message   TEXT,
    memo              TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payments_company ON payments (company_id, created_at DESC);

CREATE TABLE payment_allocations (
    payment_id  BIGINT NOT NULL REFERENCES payments(id),
    invoice_id  BIGINT NOT NULL REFERENCES invoices(id),
    amount      NUMERIC(14,2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id);

-- Who did what, on whose behalf, when, and what changed.
CREATE TABLE audit_events (
    id                    BIGSERIAL PRIMARY KEY,
    at                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_user_id         BIGINT REFERENCES users(id),
    actor_role            TEXT,
    on_behalf_company_id  BIGINT REFERENCES companies(id),
    action                TEXT NOT NULL,
    entity_type           TEXT NOT NULL,
    entity_id             TEXT,
    details               JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id);
CREATE INDEX audit_events_company ON audit_events (on_behalf_company_id, at DESC);

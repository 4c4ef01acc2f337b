-- ACH debits through the seller's own bank (SETTLE_ACH_RAIL=nacha): the bank accounts the
-- rail debits (sealed: the ODFI needs the whole number, the rest of Settle keeps only the last
-- four and the token), the debits waiting for a file, the files written at each cut-off, and
-- the return and notification-of-change files read back.

CREATE TABLE ach_vault (
    token          TEXT PRIMARY KEY,
    routing_number CHAR(9) NOT NULL CHECK (routing_number ~ '^[0-9]{9}$'),
    -- AES-256-GCM under SETTLE_ACH_VAULT_KEY: the 12-byte nonce, then the sealed number.
    account_sealed BYTEA NOT NULL,
    last4          CHAR(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    -- Set by a notification of change (C05/C06/C07); otherwise the saved method's own type.
    account_type   TEXT CHECK (account_type IN ('checking', 'savings')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE ach_files (
    id           BIGSERIAL PRIMARY KEY,
    -- The cut-off the file was written for: one file per cut-off.
    cutoff_at    TIMESTAMPTZ NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    name         TEXT NOT NULL UNIQUE,
    -- The bytes as sent: asking again gives the same file.
    body         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    batch_count  INT NOT NULL,
    entry_count  INT NOT NULL CHECK (entry_count > 0),
    total_cents  BIGINT NOT NULL CHECK (total_cents > 0),
    entry_hash   BIGINT NOT NULL,
    block_count  INT NOT NULL,
    -- When the file was written into the outbox folder (NULL: still to write).
    exported_at  TIMESTAMPTZ
);

CREATE SEQUENCE ach_trace_seq MINVALUE 1 MAXVALUE 9999999 CYCLE;

CREATE TABLE ach_entries (
    id             BIGSERIAL PRIMARY KEY,
    -- The payment's gateway key: the same charge asked again is this entry.
    gateway_key    TEXT NOT NULL UNIQUE,
    token          TEXT NOT NULL REFERENCES ach_vault(token),
    cents          BIGINT NOT NULL CHECK (cents > 0),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    file_id        BIGINT REFERENCES ach_files(id),
    sec            TEXT CHECK (sec IN ('CCD', 'PPD', 'WEB')),
    trace          TEXT UNIQUE CHECK (trace ~ '^[0-9]{15}$'),
    effective_date DATE,
    -- The first day the debit counts as settled: its return window has passed.
    settles_on     DATE,
    return_code    TEXT CHECK (return_code ~ '^R[0-9]{2}$'),
    returned_at    TIMESTAMPTZ,
    CHECK ((file_id IS NULL) = (trace IS NULL)),
    CHECK ((file_id IS NULL) = (settles_on IS NULL))
);
CREATE INDEX ach_entries_unfiled ON ach_entries (created_at, id) WHERE file_id IS NULL;
CREATE INDEX ach_entries_file ON ach_entries (file_id, id);

-- Return and notification-of-change files dropped into the inbox folder, each read once.
CREATE TABLE ach_inbox_files (
    id        BIGSERIAL PRIMARY KEY,
    name      TEXT NOT NULL,
    sha256    TEXT NOT NULL UNIQUE,
    body      TEXT NOT NULL,
    read_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Why the file could not be read (nothing in it was applied), or NULL.
    error     TEXT
);

-- One return or notification of change as read, and what Settle did with it.
CREATE TABLE ach_notices (
    id             BIGSERIAL PRIMARY KEY,
    inbox_file_id  BIGINT NOT NULL REFERENCES ach_inbox_files(id),
    kind           TEXT NOT NULL CHECK (kind IN ('return', 'change')),
    code           TEXT NOT NULL CHECK (code ~ '^[RC][0-9]{2}$'),
    original_trace TEXT NOT NULL CHECK (original_trace ~ '^[0-9]{15}$'),
    entry_id       BIGINT REFERENCES ach_entries(id),
    payment_id     BIGINT REFERENCES payments(id),
    corrected_data TEXT,
    outcome        TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ach_notices_file ON ach_notices (inbox_file_id, id);
CREATE INDEX ach_notices_recent ON ach_notices (created_at DESC, id DESC);

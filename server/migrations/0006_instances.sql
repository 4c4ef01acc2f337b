-- Several app instances share one PostgreSQL: what was kept in one process's memory lives here.

-- The sandbox tokenizer's rate limit (card testing): tokenizations per caller, recent ones.
CREATE TABLE sandbox_tokenize_attempts (
    caller  TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_tokenize_attempts_caller ON sandbox_tokenize_attempts (caller, at);

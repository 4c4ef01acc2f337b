-- Payments the gateway has not answered for are checked again by key, with backoff, and
-- shown as "Checking with the gateway" meanwhile.
ALTER TABLE payments ADD COLUMN gateway_key TEXT;
-- When the gateway's answer is overdue: the request that started the payment has stopped
-- waiting for it. From then on, while `processing`, it is "Checking with the gateway".
ALTER TABLE payments ADD COLUMN gateway_answer_due_at TIMESTAMPTZ;
ALTER TABLE payments ADD COLUMN next_gateway_check_at TIMESTAMPTZ;
ALTER TABLE payments ADD COLUMN gateway_checks INT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN last_gateway_error TEXT;
UPDATE payments SET next_gateway_check_at = created_at, gateway_answer_due_at = created_at
    WHERE status = 'processing';
DROP INDEX payments_processing;
CREATE INDEX payments_processing ON payments (next_gateway_check_at) WHERE status = 'processing';

-- A payment the gateway refused (nothing charged) gives its key back: the same form may pay
-- with another method. Failed attempts may therefore share a key; any other payment holds
-- its key alone.
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_key_key;
CREATE UNIQUE INDEX payments_idempotency_key ON payments (idempotency_key) WHERE status <> 'failed';
CREATE INDEX payments_idempotency_key_all ON payments (idempotency_key);

-- The first answer to a key that was refused (an error, not an outcome), replayed as it was.
ALTER TABLE idempotency_keys ADD COLUMN refusal JSONB;

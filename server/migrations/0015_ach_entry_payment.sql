-- An ACH entry knows its payment: found once, when the debit is taken (by the payment's
-- gateway key), instead of by every reader of the entry again.
ALTER TABLE ach_entries ADD COLUMN payment_id BIGINT REFERENCES payments(id);
UPDATE ach_entries e SET payment_id = (
    SELECT p.id FROM payments p
    WHERE p.idempotency_key = CASE
              WHEN split_part(e.gateway_key, '.', 1) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN CAST(split_part(e.gateway_key, '.', 1) AS uuid) END
      AND COALESCE(p.gateway_key, p.idempotency_key::text) = e.gateway_key
    ORDER BY p.id LIMIT 1);
CREATE INDEX ach_entries_payment ON ach_entries (payment_id);

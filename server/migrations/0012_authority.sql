-- A pay link acts as itself: a payment key taken through a link belongs to the link, not to
-- the clerk who sent it. Exactly one of the two owns each key.
ALTER TABLE idempotency_keys
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN pay_link_id BIGINT REFERENCES pay_links(id),
    ADD CONSTRAINT idempotency_keys_one_owner CHECK (num_nonnulls(user_id, pay_link_id) = 1);

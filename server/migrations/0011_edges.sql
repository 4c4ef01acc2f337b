-- The edges: pay links that keep to their purpose, sign-in failures kept per address and
-- client, ACH debits followed with a next check of their own.

-- A pay link counts the declines of payments made through it and is locked at the fifth.
ALTER TABLE pay_links ADD COLUMN declines INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
                      ADD COLUMN locked_at TIMESTAMPTZ;

-- A method saved through a pay link names it: the link offers only those (and the default).
ALTER TABLE payment_methods ADD COLUMN pay_link_id BIGINT REFERENCES pay_links(id);
CREATE INDEX payment_methods_pay_link ON payment_methods (pay_link_id) WHERE pay_link_id IS NOT NULL;

-- The clerk who sent a link hears when it is locked.
ALTER TABLE emails DROP CONSTRAINT emails_kind_check;
ALTER TABLE emails ADD CONSTRAINT emails_kind_check
    CHECK (kind IN ('payment_receipt', 'ach_returned', 'card_expiring', 'method_added',
                    'method_deactivated', 'invitation', 'password_reset', 'pay_link',
                    'pay_link_locked'));

-- Failed sign-ins per address as typed (known or not) and per client: a stranger's failures
-- lock only the stranger's pair, never the owner signing in from elsewhere.
CREATE TABLE sign_in_failures (
    email         TEXT NOT NULL,
    client        TEXT NOT NULL,
    failures      INTEGER NOT NULL CHECK (failures >= 0),
    locked_until  TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (email, client)
);
CREATE INDEX sign_in_failures_updated ON sign_in_failures (updated_at);

-- Pending ACH debits are read again from the gateway when due, oldest due first, backing off
-- when the gateway cannot be asked; one it does not know after a while is flagged to staff.
ALTER TABLE payments ADD COLUMN ach_next_check_at TIMESTAMPTZ,
                     ADD COLUMN ach_checks INTEGER NOT NULL DEFAULT 0,
                     ADD COLUMN ach_last_error TEXT,
                     ADD COLUMN ach_unknown_since TIMESTAMPTZ;
UPDATE payments SET ach_next_check_at = created_at WHERE status = 'pending';
CREATE INDEX payments_ach_due ON payments (ach_next_check_at) WHERE status = 'pending';

-- Customer statements: what the seller prints under "How to pay" on each (where checks go, bank
-- details for a wire), and the monthly schedule an admin sets (the day of the month statements
-- of the month before go out, to every company with a balance; off when null), both kept with
-- who set them. Each statement emailed is kept as sent, once per company and month, and its
-- messages carry it as an attachment.
ALTER TABLE seller_settings
    ADD COLUMN statement_remittance TEXT NOT NULL DEFAULT '' CHECK (length(statement_remittance) <= 600),
    ADD COLUMN statement_day SMALLINT CHECK (statement_day BETWEEN 1 AND 28),
    ADD COLUMN statement_set_by BIGINT REFERENCES users(id),
    ADD CHECK (statement_day IS NULL OR statement_set_by IS NOT NULL);

CREATE TABLE statements (
    id          BIGSERIAL PRIMARY KEY,
    company_id  BIGINT NOT NULL REFERENCES companies(id),
    -- The month's first day.
    month       DATE NOT NULL CHECK (extract(day FROM month) = 1),
    file_name   TEXT NOT NULL,
    pdf         BYTEA NOT NULL,
    sha256      BYTEA NOT NULL CHECK (length(sha256) = 32),
    amount_due  NUMERIC(14,2) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (company_id, month)
);
CREATE INDEX statements_month ON statements (month);

ALTER TABLE emails DROP CONSTRAINT emails_kind_check;
ALTER TABLE emails ADD CONSTRAINT emails_kind_check
    CHECK (kind IN ('payment_receipt', 'ach_returned', 'card_expiring', 'method_added',
                    'method_deactivated', 'invitation', 'password_reset', 'pay_link',
                    'pay_link_locked', 'refund_receipt', 'statement'));
ALTER TABLE emails ADD COLUMN statement_id BIGINT REFERENCES statements(id);
ALTER TABLE emails ADD CHECK ((kind = 'statement') = (statement_id IS NOT NULL));

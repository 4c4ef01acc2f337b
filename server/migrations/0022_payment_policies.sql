-- Payment policies: how a company may pay. One row with no company is the seller's default;
-- a company with its own row follows that instead. The payment engine checks every payment
-- against its company's policy, in every door. Staff may pay outside the policy, with a
-- reason kept on the payment, where the seller allows it.
CREATE TABLE payment_policies (
    id                  BIGSERIAL PRIMARY KEY,
    company_id          BIGINT REFERENCES companies(id),
    card_allowed        BOOLEAN NOT NULL DEFAULT true,
    ach_allowed         BOOLEAN NOT NULL DEFAULT true,
    min_amount          NUMERIC(14,2) CHECK (min_amount > 0),
    max_amount          NUMERIC(14,2) CHECK (max_amount > 0),
    ach_required_above  NUMERIC(14,2) CHECK (ach_required_above > 0),
    partial_allowed     BOOLEAN NOT NULL DEFAULT true,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (card_allowed OR ach_allowed),
    CHECK (min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount),
    CHECK (ach_required_above IS NULL OR (ach_allowed AND card_allowed))
);
-- One policy per company and one default (no company; companies' ids start at 1).
CREATE UNIQUE INDEX payment_policies_one ON payment_policies ((COALESCE(company_id, 0)));
INSERT INTO payment_policies (company_id) VALUES (NULL);

ALTER TABLE seller_settings ADD COLUMN staff_may_override_policy BOOLEAN NOT NULL DEFAULT true;

-- Why staff paid outside the company's policy (null: within it).
ALTER TABLE payments ADD COLUMN policy_override TEXT
    CHECK (policy_override IS NULL OR length(btrim(policy_override)) BETWEEN 1 AND 200);

-- Customer statements: what the seller prints under "How to pay" on each (where checks go, bank
-- details for a wire), set by an admin; empty until then.
ALTER TABLE seller_settings ADD COLUMN statement_remittance TEXT NOT NULL DEFAULT ''
    CHECK (length(statement_remittance) <= 600);

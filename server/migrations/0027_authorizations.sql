-- ACH authorizations on request: the network's rules have a seller keep each authorization
-- two years after it is revoked (its method deactivated), so the method says when that was:
-- kept by the database whatever changes `active` (cleared when the method is used again);
-- earlier deactivations come from the audit trail.
ALTER TABLE payment_methods ADD COLUMN deactivated_at TIMESTAMPTZ;
UPDATE payment_methods m
SET deactivated_at = COALESCE(
        (SELECT max(a.at) FROM audit_events a
         WHERE a.entity_type = 'payment_method' AND a.entity_id = m.id::text
           AND a.action = 'payment_method.deactivated'),
        m.updated_at)
WHERE NOT m.active;
ALTER TABLE payment_methods ADD CONSTRAINT payment_methods_deactivated_at
    CHECK (active = (deactivated_at IS NULL));

CREATE FUNCTION payment_methods_deactivated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.active IS DISTINCT FROM OLD.active THEN
        NEW.deactivated_at := CASE WHEN NEW.active THEN NULL ELSE now() END;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_methods_deactivated_at BEFORE INSERT OR UPDATE OF active ON payment_methods
    FOR EACH ROW EXECUTE FUNCTION payment_methods_deactivated_at();

-- The export reads ACH methods by when their authorization was given.
CREATE INDEX payment_methods_ach_created ON payment_methods (created_at) WHERE kind = 'ach';

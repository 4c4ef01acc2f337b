-- The dashboard's payments to look at: those declined lately, read through their own small
-- index (a busy day's payments are mostly approved; returned and failed ones have theirs).
CREATE INDEX payments_declined ON payments (created_at) WHERE status = 'declined';

-- The billing hot path on PostgreSQL. Every claim and every outcome changes an invoice's
-- status, so none of those updates is HOT and each new row version goes into every index whose
-- predicate it meets. Partial indexes, one per status the engine looks for, cut that to the
-- primary key, the customer index and the one or two small indexes of the new status (a claim:
-- three entries instead of four; a payment: three instead of four; no index churn for states the
-- row leaves). The queries that use them name the status as a literal, which a partial index
-- needs; instances of an earlier version bind it as a parameter, so upgrade them together.
DROP INDEX invoices_due;
DROP INDEX invoices_status_id;
-- Never-tried (or manually retried) invoices in id order: the claim cursor walks these.
CREATE INDEX invoices_fresh ON invoices (id) WHERE status = 'PENDING' AND next_attempt_at IS NULL;
-- PENDING in id order, for listings by status.
CREATE INDEX invoices_pending ON invoices (id) WHERE status = 'PENDING';
-- Scheduled retries, by when they are due.
CREATE INDEX invoices_retry_due ON invoices (next_attempt_at, id)
    WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL;
-- Claims in flight: stale-claim takeover and the drain check.
CREATE INDEX invoices_charging ON invoices (id) WHERE status = 'CHARGING';
-- Listings by status (a payment adds one entry here, so that reconciling what was paid never
-- scans the table, however few invoices are PAID yet).
CREATE INDEX invoices_paid ON invoices (id) WHERE status = 'PAID';
CREATE INDEX invoices_failed ON invoices (id) WHERE status = 'FAILED';

-- Completing an attempt row (outcome, message, end time) grows it: with half of each page left
-- free the new version fits beside the old one, so the update is HOT and touches no index.
ALTER TABLE charge_attempts SET (fillfactor = 50);

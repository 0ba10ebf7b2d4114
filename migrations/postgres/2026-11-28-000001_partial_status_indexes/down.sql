ALTER TABLE charge_attempts SET (fillfactor = 80);
DROP INDEX invoices_failed;
DROP INDEX invoices_paid;
DROP INDEX invoices_charging;
DROP INDEX invoices_retry_due;
DROP INDEX invoices_pending;
DROP INDEX invoices_fresh;
CREATE INDEX invoices_status_id ON invoices (status, id);
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id);

DROP INDEX outbox_invoice_id;
ALTER TABLE outbox DROP COLUMN invoice_id;
CREATE INDEX charge_attempts_run_id ON charge_attempts (run_id);
DROP INDEX charge_attempts_run_id_id;
DROP INDEX invoices_failure_reason_id;
DROP INDEX invoices_currency_id;

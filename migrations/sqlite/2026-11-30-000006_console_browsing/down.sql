DROP INDEX outbox_invoice_id;
ALTER TABLE outbox DROP COLUMN invoice_id;
DROP INDEX invoices_failure_reason_id;
DROP INDEX invoices_currency_id;

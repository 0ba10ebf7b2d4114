-- What the operator console's listings need to stay index-driven at a million invoices.

-- Invoices filtered by currency or by failure reason, in id order (keyset pages). Neither
-- column changes when a claim or a payment changes the status, so these add no index churn to
-- the billing hot path beyond an invoice's creation and its failure.
CREATE INDEX invoices_currency_id ON invoices (currency, id);
CREATE INDEX invoices_failure_reason_id ON invoices (failure_reason, id)
    WHERE failure_reason IS NOT NULL;

-- A run's problem calls in id order (keyset pages of a run's page): the old index on run_id
-- alone left PostgreSQL sorting every call of the run. Neither column changes when an attempt
-- is completed, so completing it stays a HOT update.
CREATE INDEX charge_attempts_run_id_id ON charge_attempts (run_id, id);
DROP INDEX charge_attempts_run_id;

-- The invoice an event is about, so an invoice's page lists its events from an index instead
-- of reading every payload. Written with each event; filled in here for the events before it
-- (read from the payload's text, which need not be valid JSON).
ALTER TABLE outbox ADD COLUMN invoice_id BIGINT;
UPDATE outbox
    SET invoice_id = substring(payload from '"invoice":\{"id":(-?[0-9]+)')::BIGINT
    WHERE event_type LIKE 'invoice.%';
CREATE INDEX outbox_invoice_id ON outbox (invoice_id, seq) WHERE invoice_id IS NOT NULL;

-- What the operator console's listings need to stay index-driven at a million invoices.

-- Invoices filtered by currency or by failure reason, in id order (keyset pages).
CREATE INDEX invoices_currency_id ON invoices (currency, id);
CREATE INDEX invoices_failure_reason_id ON invoices (failure_reason, id)
    WHERE failure_reason IS NOT NULL;

-- The invoice an event is about, so an invoice's page lists its events from an index instead
-- of reading every payload. Written with each event; filled in here for the events before it.
ALTER TABLE outbox ADD COLUMN invoice_id INTEGER;
UPDATE outbox SET invoice_id = json_extract(payload, '$.data.invoice.id')
    WHERE json_valid(payload) AND event_type LIKE 'invoice.%';
CREATE INDEX outbox_invoice_id ON outbox (invoice_id, seq) WHERE invoice_id IS NOT NULL;

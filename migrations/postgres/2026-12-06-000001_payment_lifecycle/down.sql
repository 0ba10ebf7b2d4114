DROP TABLE provider_events;
DROP TABLE refunds;
ALTER TABLE charge_attempts DROP COLUMN payment_method_ref, DROP COLUMN customer_ref;
DROP INDEX invoices_double_charged;
DROP INDEX invoices_disputed;
DROP INDEX invoices_payment_ref;
DROP INDEX invoices_open_intent;
UPDATE invoices SET failure_reason = 'customer_not_found'
    WHERE failure_reason = 'amount_not_chargeable';
ALTER TABLE invoices DROP CONSTRAINT invoices_failure_reason_check;
ALTER TABLE invoices
    ADD CONSTRAINT invoices_failure_reason_check CHECK (failure_reason IN ('customer_not_found',
        'currency_mismatch', 'retries_exhausted', 'idempotency_key_reused', 'no_payment_method')),
    DROP COLUMN key_ns, DROP COLUMN key_sent_at, DROP COLUMN open_intent, DROP COLUMN payment_ref, DROP COLUMN refunded_minor,
    DROP COLUMN dispute_id, DROP COLUMN dispute_status, DROP COLUMN dispute_reason,
    DROP COLUMN dispute_amount_minor, DROP COLUMN dispute_evidence_due_by,
    DROP COLUMN extra_charges;
DROP TABLE deployment;

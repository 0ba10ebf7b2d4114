DROP TABLE idempotency_keys;
ALTER TABLE charge_attempts DROP COLUMN provider_ref, DROP COLUMN decline_code;
UPDATE charge_attempts SET outcome = 'timeout' WHERE outcome = 'processing';
ALTER TABLE charge_attempts DROP CONSTRAINT charge_attempts_outcome_check;
ALTER TABLE charge_attempts ADD CONSTRAINT charge_attempts_outcome_check CHECK (outcome IN
    ('charged', 'declined', 'customer_not_found', 'currency_mismatch', 'network_error', 'timeout',
     'protocol_error', 'abandoned'));
ALTER TABLE billing_runs DROP COLUMN scope;
DROP INDEX invoices_external_id;
DROP INDEX invoices_void;
DROP INDEX invoices_fresh;
CREATE INDEX invoices_fresh ON invoices (id) WHERE status = 'PENDING' AND next_attempt_at IS NULL;
ALTER TABLE invoices DROP CONSTRAINT invoices_customer_external_id;
ALTER TABLE invoices DROP COLUMN created_at, DROP COLUMN description, DROP COLUMN due_at,
    DROP COLUMN external_id;
ALTER TABLE invoices DROP CONSTRAINT invoices_failure_reason_check;
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices
    ADD CONSTRAINT invoices_status_check CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED')),
    ADD CONSTRAINT invoices_failure_reason_check CHECK (failure_reason IN ('customer_not_found',
        'currency_mismatch', 'retries_exhausted', 'idempotency_key_reused'));
ALTER TABLE customers DROP COLUMN provider_payment_method_ref, DROP COLUMN provider_customer_ref,
    DROP COLUMN email, DROP COLUMN name, DROP COLUMN external_id;

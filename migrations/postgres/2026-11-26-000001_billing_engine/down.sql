DROP TABLE outbox;
DROP TABLE instances;
DROP TABLE charge_attempts;
DROP TABLE billing_runs;
DROP INDEX invoices_due;
UPDATE invoices SET status = 'PENDING' WHERE status IN ('CHARGING', 'FAILED');
ALTER TABLE invoices
    DROP CONSTRAINT invoices_claim_check,
    DROP CONSTRAINT invoices_failure_check,
    DROP COLUMN attempts,
    DROP COLUMN next_attempt_at,
    DROP COLUMN failure_reason,
    DROP COLUMN key_seq,
    DROP COLUMN declines,
    DROP COLUMN unknown_streak,
    DROP COLUMN claimed_by,
    DROP COLUMN claimed_at,
    DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('PENDING', 'PAID'));

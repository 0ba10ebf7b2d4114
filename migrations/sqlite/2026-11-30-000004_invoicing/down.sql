DROP TABLE idempotency_keys;
CREATE TABLE charge_attempts_prev (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL,
    run_id INTEGER,
    attempt_number INTEGER NOT NULL CHECK (attempt_number > 0),
    idempotency_key TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT CHECK (outcome IN ('charged', 'declined', 'customer_not_found',
        'currency_mismatch', 'network_error', 'timeout', 'protocol_error', 'abandoned')),
    message TEXT,
    UNIQUE (invoice_id, attempt_number)
);
INSERT INTO charge_attempts_prev SELECT id, invoice_id, run_id, attempt_number, idempotency_key,
    instance_id, started_at, finished_at,
    CASE outcome WHEN 'processing' THEN 'timeout' ELSE outcome END, message FROM charge_attempts;
DROP TABLE charge_attempts;
ALTER TABLE charge_attempts_prev RENAME TO charge_attempts;
CREATE INDEX charge_attempts_run_id ON charge_attempts (run_id);
ALTER TABLE billing_runs DROP COLUMN scope;
CREATE TABLE invoices_prev (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'DKK', 'SEK', 'GBP')),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP,
    failure_reason TEXT CHECK (failure_reason IN
        ('customer_not_found', 'currency_mismatch', 'retries_exhausted', 'idempotency_key_reused')),
    key_seq INTEGER NOT NULL DEFAULT 0 CHECK (key_seq >= 0),
    declines INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
    unknown_streak INTEGER NOT NULL DEFAULT 0 CHECK (unknown_streak >= 0),
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    fence INTEGER NOT NULL DEFAULT 0 CHECK (fence >= 0),
    CHECK ((status = 'CHARGING') = (claimed_by IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure_reason IS NOT NULL))
);
INSERT INTO invoices_prev SELECT id, customer_id, amount_minor, currency, status, attempts,
    next_attempt_at, failure_reason, key_seq, declines, unknown_streak, claimed_by, claimed_at,
    fence FROM invoices WHERE status <> 'VOID' AND
    (failure_reason IS NULL OR failure_reason <> 'no_payment_method');
DROP TABLE invoices;
ALTER TABLE invoices_prev RENAME TO invoices;
CREATE INDEX invoices_customer_id_id ON invoices (customer_id, id);
CREATE INDEX invoices_status_id ON invoices (status, id);
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id);
DROP INDEX customers_external_id;
ALTER TABLE customers DROP COLUMN provider_payment_method_ref;
ALTER TABLE customers DROP COLUMN provider_customer_ref;
ALTER TABLE customers DROP COLUMN email;
ALTER TABLE customers DROP COLUMN name;
ALTER TABLE customers DROP COLUMN external_id;

DROP TABLE provider_events;
DROP TABLE refunds;
ALTER TABLE charge_attempts DROP COLUMN payment_method_ref;
ALTER TABLE charge_attempts DROP COLUMN customer_ref;
CREATE TABLE invoices_prev (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'DKK', 'SEK', 'GBP')),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED', 'VOID')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP,
    failure_reason TEXT CHECK (failure_reason IN ('customer_not_found', 'currency_mismatch',
        'retries_exhausted', 'idempotency_key_reused', 'no_payment_method')),
    key_seq INTEGER NOT NULL DEFAULT 0 CHECK (key_seq >= 0),
    declines INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
    unknown_streak INTEGER NOT NULL DEFAULT 0 CHECK (unknown_streak >= 0),
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    fence INTEGER NOT NULL DEFAULT 0 CHECK (fence >= 0),
    external_id TEXT,
    due_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CHECK ((status = 'CHARGING') = (claimed_by IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure_reason IS NOT NULL)),
    UNIQUE (customer_id, external_id)
);
INSERT INTO invoices_prev SELECT id, customer_id, amount_minor, currency, status, attempts,
    next_attempt_at,
    CASE failure_reason WHEN 'amount_not_chargeable' THEN 'customer_not_found'
        ELSE failure_reason END,
    key_seq, declines, unknown_streak, claimed_by, claimed_at, fence, external_id, due_at,
    description, created_at
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_prev RENAME TO invoices;
CREATE INDEX invoices_customer_id_id ON invoices (customer_id, id);
CREATE INDEX invoices_status_id ON invoices (status, id);
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id, due_at);
CREATE INDEX invoices_external_id ON invoices (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX invoices_currency_id ON invoices (currency, id);
CREATE INDEX invoices_failure_reason_id ON invoices (failure_reason, id)
    WHERE failure_reason IS NOT NULL;
DROP TABLE deployment;

-- Invoicing: customers and invoices as a SaaS keeps them (its own ids, names, due dates, the
-- references a payment provider charges), voided invoices, run scopes, and what a real
-- provider tells about a call (decline codes, its own reference, a charge still processing).

-- Customers: the SaaS's id for them (unique), contact fields, and the payment provider's
-- references (e.g. Stripe's cus_… and pm_…).
ALTER TABLE customers ADD COLUMN external_id TEXT;
ALTER TABLE customers ADD COLUMN name TEXT;
ALTER TABLE customers ADD COLUMN email TEXT;
ALTER TABLE customers ADD COLUMN provider_customer_ref TEXT;
ALTER TABLE customers ADD COLUMN provider_payment_method_ref TEXT;
CREATE UNIQUE INDEX customers_external_id ON customers (external_id);

-- Invoices: VOID (never charged, never due), the SaaS's id (unique per customer), when it is
-- due (invoices that exist are due now), a description, and when it was created. SQLite cannot
-- alter a CHECK constraint: the table is rebuilt.
CREATE TABLE invoices_next (
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
INSERT INTO invoices_next (id, customer_id, amount_minor, currency, status, attempts,
        next_attempt_at, failure_reason, key_seq, declines, unknown_streak, claimed_by,
        claimed_at, fence)
    SELECT id, customer_id, amount_minor, currency, status, attempts, next_attempt_at,
        failure_reason, key_seq, declines, unknown_streak, claimed_by, claimed_at, fence
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_next RENAME TO invoices;
CREATE INDEX invoices_customer_id_id ON invoices (customer_id, id);
CREATE INDEX invoices_status_id ON invoices (status, id);
-- Claims (by status, then retry time, then id) read the due date from the index too, so that
-- finding never-tried invoices whose date has passed never visits the table.
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id, due_at);
-- Looking an invoice up by the SaaS's id alone.
CREATE INDEX invoices_external_id ON invoices (external_id) WHERE external_id IS NOT NULL;

-- Runs charge everything due (`all`: the monthly run) or only scheduled retries that are due
-- (`retries`: the hourly sweep).
ALTER TABLE billing_runs
    ADD COLUMN scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'retries'));

-- Attempts: the provider's decline code and its own reference for the charge (a Stripe
-- PaymentIntent id), and `processing` (the provider has not decided yet). Rebuilt for the
-- CHECK constraint.
CREATE TABLE charge_attempts_next (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL,
    run_id INTEGER,
    attempt_number INTEGER NOT NULL CHECK (attempt_number > 0),
    idempotency_key TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT CHECK (outcome IN ('charged', 'declined', 'customer_not_found',
        'currency_mismatch', 'network_error', 'timeout', 'protocol_error', 'abandoned',
        'processing')),
    message TEXT,
    decline_code TEXT,
    provider_ref TEXT,
    UNIQUE (invoice_id, attempt_number)
);
INSERT INTO charge_attempts_next (id, invoice_id, run_id, attempt_number, idempotency_key,
        instance_id, started_at, finished_at, outcome, message)
    SELECT id, invoice_id, run_id, attempt_number, idempotency_key, instance_id, started_at,
        finished_at, outcome, message
    FROM charge_attempts;
DROP TABLE charge_attempts;
ALTER TABLE charge_attempts_next RENAME TO charge_attempts;
CREATE INDEX charge_attempts_run_id ON charge_attempts (run_id);

-- Creating resources under an Idempotency-Key: the key, what the request asked for, and what
-- it created, so a repeated request answers the same resource and a different one is refused.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    resource_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

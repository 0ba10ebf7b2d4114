-- The billing engine: invoice lifecycle columns, runs, the charge-attempt log, instances and
-- the notification outbox. Times are UTC.

-- SQLite cannot alter a CHECK constraint: rebuild invoices with the new statuses and columns.
CREATE TABLE invoices_next (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'DKK', 'SEK', 'GBP')),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED')),
    -- Provider calls made for the invoice; also the fence of the current claim.
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When a PENDING invoice is due; NULL means due now.
    next_attempt_at TIMESTAMP,
    failure_reason TEXT CHECK (failure_reason IN
        ('customer_not_found', 'currency_mismatch', 'retries_exhausted', 'idempotency_key_reused')),
    -- Sequence of the current idempotency key (antaeus-<id>-<key_seq>).
    key_seq INTEGER NOT NULL DEFAULT 0 CHECK (key_seq >= 0),
    -- Declines so far (position in the dunning schedule).
    declines INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
    -- Consecutive runs that ended with the outcome unknown.
    unknown_streak INTEGER NOT NULL DEFAULT 0 CHECK (unknown_streak >= 0),
    -- The instance charging a CHARGING invoice, and since when.
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    CHECK ((status = 'CHARGING') = (claimed_by IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure_reason IS NOT NULL))
);
INSERT INTO invoices_next (id, customer_id, amount_minor, currency, status)
    SELECT id, customer_id, amount_minor, currency, status FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_next RENAME TO invoices;

CREATE INDEX invoices_customer_id_id ON invoices (customer_id, id);
CREATE INDEX invoices_status_id ON invoices (status, id);
-- Claiming: one composite index serves never-tried invoices (status, NULL, in id order), due
-- retries (status, next_attempt_at <= now) and claims (status 'CHARGING'), with the status as a
-- bound parameter (which partial indexes cannot serve).
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id);

CREATE TABLE billing_runs (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    triggered_by TEXT NOT NULL CHECK (triggered_by IN ('scheduler', 'api', 'eventbridge', 'cli')),
    status TEXT NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'ABORTED')),
    instance_id TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    abort_reason TEXT,
    claimed INTEGER NOT NULL DEFAULT 0,
    paid INTEGER NOT NULL DEFAULT 0,
    declined INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    retry_scheduled INTEGER NOT NULL DEFAULT 0,
    released INTEGER NOT NULL DEFAULT 0,
    -- Identifies the request that created the run: a reused key with another request is refused.
    request_fingerprint TEXT
);
CREATE INDEX billing_runs_started_at ON billing_runs (started_at, id);

-- One row per provider call: written before the call (intent), completed after it. No foreign
-- keys: on this hot path they would lock the invoice row of every insert while claims update it;
-- rows are written only in the transactions that hold the invoice's claim.
CREATE TABLE charge_attempts (
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
CREATE INDEX charge_attempts_run_id ON charge_attempts (run_id);

-- Instances driving billing runs; a claim is stale once its owner's heartbeat is too old.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);

-- Events written with the state change they describe; delivered by the outbox worker.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    available_at TIMESTAMP NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (available_at, seq) WHERE delivered_at IS NULL;

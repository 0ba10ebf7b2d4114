-- Runs started from the operator console say so: `triggered_by` takes 'console'. SQLite cannot
-- change a CHECK constraint, so the table is rebuilt (runs are few; nothing references them).
ALTER TABLE billing_runs RENAME TO billing_runs_before_console;
CREATE TABLE billing_runs (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    triggered_by TEXT NOT NULL
        CHECK (triggered_by IN ('scheduler', 'api', 'eventbridge', 'cli', 'console')),
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
    request_fingerprint TEXT,
    scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'retries'))
);
INSERT INTO billing_runs (id, idempotency_key, triggered_by, status, instance_id, started_at,
    finished_at, abort_reason, claimed, paid, declined, failed, retry_scheduled, released,
    request_fingerprint, scope)
SELECT id, idempotency_key, triggered_by, status, instance_id, started_at, finished_at,
    abort_reason, claimed, paid, declined, failed, retry_scheduled, released,
    request_fingerprint, scope
FROM billing_runs_before_console;
DROP TABLE billing_runs_before_console;
CREATE INDEX billing_runs_started_at ON billing_runs (started_at, id);
CREATE INDEX billing_runs_running ON billing_runs (id) WHERE status = 'RUNNING';

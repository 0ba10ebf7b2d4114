-- Back to the four triggers; runs started from the console read as started by the API, as they
-- did before.
ALTER TABLE billing_runs RENAME TO billing_runs_with_console;
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
    request_fingerprint TEXT,
    scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'retries'))
);
INSERT INTO billing_runs (id, idempotency_key, triggered_by, status, instance_id, started_at,
    finished_at, abort_reason, claimed, paid, declined, failed, retry_scheduled, released,
    request_fingerprint, scope)
SELECT id, idempotency_key,
    CASE triggered_by WHEN 'console' THEN 'api' ELSE triggered_by END,
    status, instance_id, started_at, finished_at, abort_reason, claimed, paid, declined, failed,
    retry_scheduled, released, request_fingerprint, scope
FROM billing_runs_with_console;
DROP TABLE billing_runs_with_console;
CREATE INDEX billing_runs_started_at ON billing_runs (started_at, id);
CREATE INDEX billing_runs_running ON billing_runs (id) WHERE status = 'RUNNING';

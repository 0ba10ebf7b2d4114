-- A run's fingerprint now says what the run does (`scope=all`), not who asked or how: an
-- operator's replay of an EventBridge event's id names the same run. Every run so far charged
-- everything due.
UPDATE billing_runs SET request_fingerprint = 'scope=all';
-- Runs still open, for the sweep that resumes those whose instance died.
CREATE INDEX billing_runs_running ON billing_runs (id) WHERE status = 'RUNNING';

-- Back to the four triggers; runs started from the console read as started by the API.
UPDATE billing_runs SET triggered_by = 'api' WHERE triggered_by = 'console';
ALTER TABLE billing_runs DROP CONSTRAINT billing_runs_triggered_by_check;
ALTER TABLE billing_runs ADD CONSTRAINT billing_runs_triggered_by_check
    CHECK (triggered_by IN ('scheduler', 'api', 'eventbridge', 'cli'));

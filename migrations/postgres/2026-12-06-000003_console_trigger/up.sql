-- Runs started from the operator console say so: `triggered_by` takes 'console'.
ALTER TABLE billing_runs DROP CONSTRAINT billing_runs_triggered_by_check;
ALTER TABLE billing_runs ADD CONSTRAINT billing_runs_triggered_by_check
    CHECK (triggered_by IN ('scheduler', 'api', 'eventbridge', 'cli', 'console'));

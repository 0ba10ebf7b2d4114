DROP INDEX billing_runs_running;

ALTER TABLE billing_runs DROP COLUMN request_fingerprint;

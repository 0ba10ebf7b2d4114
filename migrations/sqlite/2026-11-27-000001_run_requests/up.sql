-- What request created a run: a repeat of the same idempotency key with a different request
-- is refused instead of silently answered with an unrelated run.
ALTER TABLE billing_runs ADD COLUMN request_fingerprint TEXT;

-- Dead events become pending again: the previous version retries them forever.
DROP INDEX outbox_dead;
DROP INDEX outbox_due;
ALTER TABLE outbox DROP CONSTRAINT outbox_settled_once, DROP COLUMN dead_at;
CREATE INDEX outbox_due ON outbox (available_at, seq) WHERE delivered_at IS NULL;

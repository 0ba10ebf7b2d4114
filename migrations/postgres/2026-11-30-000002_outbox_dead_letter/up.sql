-- Dead letters: an event whose delivery failed ANTAEUS_OUTBOX_MAX_FAILURES times is set aside
-- (dead_at) until an operator re-queues it. Dead events are not due, not in the backlog, and
-- never taken again, so one event that keeps failing cannot hold back the others.
ALTER TABLE outbox
    ADD COLUMN dead_at TIMESTAMP,
    ADD CONSTRAINT outbox_settled_once CHECK (dead_at IS NULL OR delivered_at IS NULL);
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (available_at, seq) WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Listing and counting dead events.
CREATE INDEX outbox_dead ON outbox (seq) WHERE dead_at IS NOT NULL;

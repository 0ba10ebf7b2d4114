-- Events leased when this runs lose their lease and may be delivered again (at least once, as
-- after a worker that dies).
ALTER TABLE outbox RESET (fillfactor);
ALTER TABLE outbox DROP COLUMN leased_until;

-- An outbox take leases its events in a column of their own, which no index holds, rather than
-- by moving available_at (held by outbox_due): the lease is then a heap-only (HOT) update, a
-- new row version on the same page and no index entry, where moving available_at wrote a new
-- version into every one of the table's four indexes. HOT needs room on the page for the new
-- version, so new pages are filled half full (pages written before keep their rows; their
-- leases are ordinary updates until their events are delivered). An event is due when
-- available_at has come and its lease, if any, has ended.
ALTER TABLE outbox ADD COLUMN leased_until TIMESTAMP;
ALTER TABLE outbox SET (fillfactor = 50);

-- An outbox take leases its events in a column of their own, which no index holds, rather than
-- by moving available_at (held by outbox_due): the lease is then a heap-only (HOT) update, a
-- new row version on the same page and no index entry, where moving available_at wrote a new
-- version into every one of the table's four indexes. HOT needs room on the page for the new
-- version, so new pages are filled half full (pages written before keep their rows; their
-- leases are ordinary updates until their events are delivered). An event is due when
-- available_at has come and its lease, if any, has ended.
-- During a rolling upgrade across this migration, an instance still running the version before
-- it does not read leased_until: it may take an event a new instance has leased and deliver it
-- a second time alongside (receivers deduplicate by the event's id, as for any redelivery).
ALTER TABLE outbox ADD COLUMN leased_until TIMESTAMP;
ALTER TABLE outbox SET (fillfactor = 50);

ALTER TABLE outbox DROP COLUMN leased_until;

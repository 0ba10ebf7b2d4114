-- The column PostgreSQL keeps an outbox lease in (see the PostgreSQL migration of the same
-- name). SQLite leases by moving available_at, as before, and leaves it NULL: it has no row
-- versions to spare, and updates only the indexes whose columns change.
ALTER TABLE outbox ADD COLUMN leased_until TIMESTAMP;

-- Invoicing: customers and invoices as a SaaS keeps them (its own ids, names, due dates, the
-- references a payment provider charges), voided invoices, run scopes, and what a real
-- provider tells about a call (decline codes, its own reference, a charge still processing).

-- Customers: the SaaS's id for them (unique), contact fields, and the payment provider's
-- references (e.g. Stripe's cus_… and pm_…).
ALTER TABLE customers
    ADD COLUMN external_id TEXT UNIQUE,
    ADD COLUMN name TEXT,
    ADD COLUMN email TEXT,
    ADD COLUMN provider_customer_ref TEXT,
    ADD COLUMN provider_payment_method_ref TEXT;

-- Invoices: VOID (never charged, never due), the SaaS's id (unique per customer), when it is
-- due (invoices that exist are due now), a description, and when it was created.
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices DROP CONSTRAINT invoices_failure_reason_check;
ALTER TABLE invoices
    ADD CONSTRAINT invoices_status_check
        CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED', 'VOID')),
    ADD CONSTRAINT invoices_failure_reason_check CHECK (failure_reason IN ('customer_not_found',
        'currency_mismatch', 'retries_exhausted', 'idempotency_key_reused', 'no_payment_method')),
    ADD COLUMN external_id TEXT,
    ADD COLUMN due_at TIMESTAMP NOT NULL DEFAULT timezone('UTC', now()),
    ADD COLUMN description TEXT,
    ADD COLUMN created_at TIMESTAMP NOT NULL DEFAULT timezone('UTC', now()),
    ADD CONSTRAINT invoices_customer_external_id UNIQUE (customer_id, external_id);
-- Never-tried invoices in id order, with their due time, so a claim reads only the index.
DROP INDEX invoices_fresh;
CREATE INDEX invoices_fresh ON invoices (id) INCLUDE (due_at)
    WHERE status = 'PENDING' AND next_attempt_at IS NULL;
CREATE INDEX invoices_void ON invoices (id) WHERE status = 'VOID';
-- Looking an invoice up by the SaaS's id alone.
CREATE INDEX invoices_external_id ON invoices (external_id) WHERE external_id IS NOT NULL;

-- Runs charge everything due (`all`: the monthly run) or only scheduled retries that are due
-- (`retries`: the hourly sweep).
ALTER TABLE billing_runs
    ADD COLUMN scope TEXT NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'retries'));

-- Attempts: the provider's decline code and its own reference for the charge (a Stripe
-- PaymentIntent id), and `processing` (the provider has not decided yet).
ALTER TABLE charge_attempts DROP CONSTRAINT charge_attempts_outcome_check;
ALTER TABLE charge_attempts
    ADD CONSTRAINT charge_attempts_outcome_check CHECK (outcome IN ('charged', 'declined',
        'customer_not_found', 'currency_mismatch', 'network_error', 'timeout', 'protocol_error',
        'abandoned', 'processing')),
    ADD COLUMN decline_code TEXT,
    ADD COLUMN provider_ref TEXT;

-- Creating resources under an Idempotency-Key: the key, what the request asked for, and what
-- it created, so a repeated request answers the same resource and a different one is refused.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    resource_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

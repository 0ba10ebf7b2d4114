-- Payments after the call: the deployment's own namespace for charge keys, the request a key
-- was first sent with, PaymentIntents that wait on the customer, amounts a provider refuses,
-- refunds, disputes, and the provider's events already handled.

-- One row: this database's id, made once, in every charge key and in the provider's metadata,
-- so that two deployments charging through one provider account never share a key.
CREATE TABLE deployment (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL CHECK (length(id) BETWEEN 8 AND 32),
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
INSERT INTO deployment (singleton, id) VALUES (1, lower(hex(randomblob(6))));

-- Invoices: `amount_not_chargeable` (an amount the provider refuses to charge), the namespace of
-- the current key once sent (NULL: not sent yet; '' the form before namespaces) and when it was
-- first sent, by the database's clock (Stripe forgets keys after a day), the provider's
-- payment that may still complete (waiting on the customer, or processing), the payment that
-- paid it, what was refunded, the dispute, and charges seen beyond the one that paid it. SQLite cannot alter a CHECK
-- constraint: the table is rebuilt.
CREATE TABLE invoices_next (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'DKK', 'SEK', 'GBP')),
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'CHARGING', 'PAID', 'FAILED', 'VOID')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP,
    failure_reason TEXT CHECK (failure_reason IN ('customer_not_found', 'currency_mismatch',
        'retries_exhausted', 'idempotency_key_reused', 'no_payment_method',
        'amount_not_chargeable')),
    key_seq INTEGER NOT NULL DEFAULT 0 CHECK (key_seq >= 0),
    declines INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
    unknown_streak INTEGER NOT NULL DEFAULT 0 CHECK (unknown_streak >= 0),
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    fence INTEGER NOT NULL DEFAULT 0 CHECK (fence >= 0),
    external_id TEXT,
    due_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    key_ns TEXT,
    key_sent_at TIMESTAMP,
    open_intent TEXT,
    payment_ref TEXT,
    refunded_minor INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    dispute_id TEXT,
    dispute_status TEXT,
    dispute_reason TEXT,
    dispute_amount_minor INTEGER,
    dispute_evidence_due_by TIMESTAMP,
    extra_charges INTEGER NOT NULL DEFAULT 0 CHECK (extra_charges >= 0),
    CHECK ((status = 'CHARGING') = (claimed_by IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure_reason IS NOT NULL)),
    UNIQUE (customer_id, external_id)
);
INSERT INTO invoices_next (id, customer_id, amount_minor, currency, status, attempts,
        next_attempt_at, failure_reason, key_seq, declines, unknown_streak, claimed_by,
        claimed_at, fence, external_id, due_at, description, created_at, payment_ref)
    SELECT id, customer_id, amount_minor, currency, status, attempts, next_attempt_at,
        failure_reason, key_seq, declines, unknown_streak, claimed_by, claimed_at, fence,
        external_id, due_at, description, created_at,
        CASE status WHEN 'PAID' THEN (
            SELECT a.provider_ref FROM charge_attempts a
            WHERE a.invoice_id = invoices.id AND a.outcome = 'charged'
            ORDER BY a.attempt_number DESC LIMIT 1) END
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_next RENAME TO invoices;
CREATE INDEX invoices_customer_id_id ON invoices (customer_id, id);
CREATE INDEX invoices_status_id ON invoices (status, id);
CREATE INDEX invoices_due ON invoices (status, next_attempt_at, id, due_at);
CREATE INDEX invoices_external_id ON invoices (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX invoices_currency_id ON invoices (currency, id);
CREATE INDEX invoices_failure_reason_id ON invoices (failure_reason, id)
    WHERE failure_reason IS NOT NULL;
-- Payments that may still complete, for the reconciler and the void check.
CREATE INDEX invoices_open_intent ON invoices (open_intent) WHERE open_intent IS NOT NULL;
-- The invoice a provider's payment paid (its refunds and disputes name the payment).
CREATE INDEX invoices_payment_ref ON invoices (payment_ref) WHERE payment_ref IS NOT NULL;
-- Disputed invoices, for the console.
CREATE INDEX invoices_disputed ON invoices (id) WHERE dispute_status IS NOT NULL;
-- Invoices charged more than once, for the operator who must refund one.
CREATE INDEX invoices_double_charged ON invoices (id) WHERE extra_charges > 0;

-- A key that may be in flight keeps the form it was sent in, the one before namespaces, and its
-- first call's time.
UPDATE invoices SET key_ns = '', key_sent_at = (
    SELECT min(a.started_at) FROM charge_attempts a
    WHERE a.invoice_id = invoices.id
      AND a.idempotency_key = 'antaeus-' || invoices.id || '-' || invoices.key_seq)
    WHERE EXISTS (
    SELECT 1 FROM charge_attempts a
    WHERE a.invoice_id = invoices.id
      AND a.idempotency_key = 'antaeus-' || invoices.id || '-' || invoices.key_seq);

-- Attempts: the customer's references as the first call under a key sent them (every resend of
-- the key sends exactly those).
ALTER TABLE charge_attempts ADD COLUMN customer_ref TEXT;
ALTER TABLE charge_attempts ADD COLUMN payment_method_ref TEXT;

-- Refunds of paid invoices: asked through the API (the row is the intent, written before the
-- provider is called) or made at the provider and learnt from its events.
CREATE TABLE refunds (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    origin TEXT NOT NULL CHECK (origin IN ('api', 'provider')),
    request_key TEXT,
    request_fingerprint TEXT,
    provider_key TEXT NOT NULL UNIQUE,
    provider_ref TEXT,
    failure_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (invoice_id, request_key)
);
CREATE INDEX refunds_invoice_id ON refunds (invoice_id, id);
CREATE UNIQUE INDEX refunds_provider_ref ON refunds (provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX refunds_pending ON refunds (next_attempt_at, id) WHERE status = 'pending';

-- The provider's events (webhooks) handled, so that a redelivery changes nothing.
CREATE TABLE provider_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    invoice_id INTEGER,
    outcome TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TEMP TABLE refunds_kept AS SELECT * FROM refunds;
DELETE FROM refunds;
CREATE TABLE invoices_prev (
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
INSERT INTO invoices_prev (id, customer_id, amount_minor, currency, status, attempts,
    next_attempt_at, failure_reason, key_seq, declines, unknown_streak, claimed_by, claimed_at,
    fence, external_id, due_at,
    description, created_at, key_ns, key_sent_at, open_intent, payment_ref, refunded_minor,
    dispute_id, dispute_status, dispute_reason, dispute_amount_minor, dispute_evidence_due_by,
    extra_charges)
    SELECT id, customer_id, amount_minor, currency, status, attempts,
    next_attempt_at, failure_reason, key_seq, declines, unknown_streak, claimed_by, claimed_at,
    fence, external_id, due_at,
    description, created_at, key_ns, key_sent_at, open_intent, payment_ref, refunded_minor,
    dispute_id, dispute_status, dispute_reason, dispute_amount_minor, dispute_evidence_due_by,
    extra_charges
    FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_prev RENAME TO invoices;
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
INSERT INTO refunds SELECT * FROM refunds_kept;
DROP TABLE refunds_kept;

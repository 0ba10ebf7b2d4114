-- Totals the operator console reads without scanning invoices or attempts, kept up to date in
-- the transactions that change what they count (creating, finishing, voiding, retrying), so a
-- page costs the same at a thousand invoices and at a million.

-- Invoices by status and currency. A claim in flight (CHARGING) counts as PENDING: it is
-- claimed and released many times, and counting it would make every claim write here.
CREATE TABLE invoice_totals (
    status TEXT NOT NULL CHECK (status IN ('PENDING', 'PAID', 'FAILED', 'VOID')),
    currency TEXT NOT NULL,
    invoices INTEGER NOT NULL DEFAULT 0,
    amount_minor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (status, currency)
);
INSERT INTO invoice_totals (status, currency, invoices, amount_minor)
    SELECT CASE status WHEN 'CHARGING' THEN 'PENDING' ELSE status END, currency, count(*),
        sum(amount_minor)
    FROM invoices GROUP BY 1, 2;

-- Per calendar month (UTC, 'YYYY-MM'): what was collected (per currency), declines by decline
-- code, failures by reason.
CREATE TABLE monthly_stats (
    month TEXT NOT NULL,
    metric TEXT NOT NULL CHECK (metric IN ('collected', 'declined', 'failed')),
    label TEXT NOT NULL,
    currency TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    amount_minor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, metric, label, currency)
);
INSERT INTO monthly_stats (month, metric, label, currency, count, amount_minor)
    SELECT strftime('%Y-%m', a.finished_at), 'collected', '', i.currency, count(*),
        sum(i.amount_minor)
    FROM charge_attempts a JOIN invoices i ON i.id = a.invoice_id
    WHERE a.outcome = 'charged' GROUP BY 1, 4;
INSERT INTO monthly_stats (month, metric, label, currency, count)
    SELECT strftime('%Y-%m', finished_at), 'declined', coalesce(decline_code, ''), '', count(*)
    FROM charge_attempts WHERE outcome = 'declined' GROUP BY 1, 3;

-- A run's provider calls by outcome, per minute: its counts and the chart of its outcomes over
-- time.
CREATE TABLE run_stats (
    run_id INTEGER NOT NULL,
    minute TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, minute, outcome)
);
INSERT INTO run_stats (run_id, minute, outcome, calls)
    SELECT run_id, strftime('%Y-%m-%d %H:%M:00', finished_at), outcome, count(*)
    FROM charge_attempts WHERE run_id IS NOT NULL AND outcome IS NOT NULL
    GROUP BY 1, 2, 3;

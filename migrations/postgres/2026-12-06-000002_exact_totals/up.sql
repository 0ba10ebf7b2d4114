-- The console's sums kept exact whatever is stored. Each amount is added as two parts,
-- amount_low (its low 32 bits) and amount_high (the rest), so that neither column can overflow
-- before some two billion invoices; the sum is amount_high * 2^32 + amount_low, read in a
-- 128-bit integer. One 64-bit sum, as before, was held at its limit and stayed wrong.
ALTER TABLE invoice_totals RENAME COLUMN amount_minor TO amount_low;
ALTER TABLE invoice_totals ADD COLUMN amount_high BIGINT NOT NULL DEFAULT 0;
-- Counted again from the invoices, so that a total held at the old limit is right again.
DELETE FROM invoice_totals;
INSERT INTO invoice_totals (status, currency, invoices, amount_low, amount_high)
    SELECT CASE status WHEN 'CHARGING' THEN 'PENDING' ELSE status END, currency, count(*),
        sum(amount_minor & 4294967295), sum(amount_minor >> 32)
    FROM invoices GROUP BY 1, 2;

ALTER TABLE monthly_stats RENAME COLUMN amount_minor TO amount_low;
ALTER TABLE monthly_stats ADD COLUMN amount_high BIGINT NOT NULL DEFAULT 0;
UPDATE monthly_stats SET amount_high = amount_low >> 32, amount_low = amount_low & 4294967295;

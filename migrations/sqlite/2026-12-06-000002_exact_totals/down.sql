-- Back to one 64-bit sum (a sum past its range is held at the limit, as before).
UPDATE monthly_stats SET amount_low = CASE WHEN amount_high >= 2147483647 THEN 9223372036854775807
    ELSE amount_high * 4294967296 + amount_low END;
ALTER TABLE monthly_stats DROP COLUMN amount_high;
ALTER TABLE monthly_stats RENAME COLUMN amount_low TO amount_minor;

UPDATE invoice_totals SET amount_low = CASE WHEN amount_high >= 2147483647 THEN 9223372036854775807
    ELSE amount_high * 4294967296 + amount_low END;
ALTER TABLE invoice_totals DROP COLUMN amount_high;
ALTER TABLE invoice_totals RENAME COLUMN amount_low TO amount_minor;

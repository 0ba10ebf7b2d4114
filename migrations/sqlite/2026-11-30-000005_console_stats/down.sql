DROP TABLE run_stats;
DROP TABLE monthly_stats;
DROP TABLE invoice_totals;

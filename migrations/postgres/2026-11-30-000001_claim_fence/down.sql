ALTER TABLE invoices DROP COLUMN fence;

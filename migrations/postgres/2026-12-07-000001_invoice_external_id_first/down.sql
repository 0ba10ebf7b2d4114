CREATE INDEX invoices_external_id ON invoices (external_id) WHERE external_id IS NOT NULL;
ALTER TABLE invoices ADD CONSTRAINT invoices_customer_external_id UNIQUE (customer_id, external_id);
ALTER TABLE invoices DROP CONSTRAINT invoices_external_id_customer;

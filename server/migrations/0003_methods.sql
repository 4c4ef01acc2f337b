-- Adding payment methods: the sandbox tokenizer keeps a bank account's routing number, as
-- a hosted gateway would; never a full card or account number.
ALTER TABLE sandbox_tokens ADD COLUMN routing_number CHAR(9);

-- One authorization document belongs to one method.
CREATE UNIQUE INDEX payment_methods_document ON payment_methods (authorization_document_id)
    WHERE authorization_document_id IS NOT NULL;
-- System → Payment Methods: newest first, and search by last 4.
CREATE INDEX payment_methods_added ON payment_methods (created_at DESC, id DESC);
CREATE INDEX payment_methods_last4 ON payment_methods (last4);
-- Uploads not (yet) attached to a method are cleared after a day.
CREATE INDEX documents_created ON documents (created_at);

-- Adding payment methods: the sandbox tokenizer keeps what a hosted gateway keeps of a
-- bank account (routing number) and a card (billing postal code), never a full number.
ALTER TABLE sandbox_tokens ADD COLUMN routing_number CHAR(9);
ALTER TABLE sandbox_tokens ADD COLUMN postal_code TEXT;

-- One authorization document belongs to one method.
CREATE UNIQUE INDEX payment_methods_document ON payment_methods (authorization_document_id)
    WHERE authorization_document_id IS NOT NULL;
-- System → Payment Methods: newest first, and search by last 4.
CREATE INDEX payment_methods_added ON payment_methods (created_at DESC, id DESC);
CREATE INDEX payment_methods_last4 ON payment_methods (last4);
-- Uploads not (yet) attached to a method are cleared after a day.
CREATE INDEX documents_created ON documents (created_at);

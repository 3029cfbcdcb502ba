-- Where an issued invoice's PDF/A-3 is stored (the document store's key).
alter table invoices add column pdf_key text;

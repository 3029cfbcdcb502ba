-- Private persons are invoiced too: a PERSON buyer needs no SIREN (B2C is out of the
-- e-invoicing scope), a COMPANY buyer still does. The client's kind comes from core's client
-- events; an invoice freezes its buyer's kind when drafted. Rows from before this migration
-- keep the stricter rule (COMPANY) until the client's next event says otherwise.
create type buyer_kind as enum ('PERSON', 'COMPANY');

alter table clients add column kind buyer_kind;

alter table invoices add column buyer_kind buyer_kind not null default 'COMPANY';

-- The buyer's electronic address (BT-49, mandatory under BR-FR-12): the SIREN in the French
-- directory for a company, else this e-mail address (scheme EM) — what a private person has.
alter table invoices add column buyer_email text;

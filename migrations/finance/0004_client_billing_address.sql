-- The client's billing address, from core's client events: drafts start from it.
alter table clients
    add column billing_line1 text,
    add column billing_line2 text,
    add column billing_postal_code text,
    add column billing_city text,
    add column billing_country text;

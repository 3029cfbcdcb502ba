-- Invoicing: settings per société, invoices and credit notes with their lines, the numbering
-- counters, and the payments recorded against issued invoices.

-- What a société prints on its invoices, and the prefixes of its series.
create table invoice_settings (
    organisation_id     uuid not null,
    societe_id          uuid not null,
    legal_name          text not null,
    legal_form          text not null,
    share_capital       numeric(14, 2) not null check (share_capital >= 0),
    siren               char(9) not null,
    siret               char(14),
    vat_number          text not null,
    rcs                 text not null,
    address_line1       text not null,
    address_line2       text,
    postal_code         text not null,
    city                text not null,
    country             char(2) not null default 'FR',
    iban                text,
    bic                 text,
    logo                bytea,
    logo_mime           text,
    legal_mentions      text,
    invoice_prefix      text not null default 'FAC',
    credit_note_prefix  text not null default 'AV',
    -- VAT on debits (option pour le paiement de la taxe d'après les débits).
    vat_on_debits       boolean not null default false,
    updated_at          timestamptz not null default now(),
    primary key (organisation_id, societe_id)
);

create type invoice_kind as enum ('INVOICE', 'CREDIT_NOTE');
create type invoice_status as enum ('DRAFT', 'ISSUED', 'PARTIALLY_PAID', 'PAID', 'CANCELLED');
create type operation_nature as enum ('GOODS', 'SERVICES', 'MIXED');

create table invoices (
    id                    uuid primary key,
    organisation_id       uuid not null,
    societe_id            uuid not null,
    kind                  invoice_kind not null default 'INVOICE',
    -- A credit note's original invoice.
    original_invoice_id   uuid,
    client_id             uuid not null,
    contract_id           uuid,
    -- The contract.signed event a draft was made from: one draft per signed contract.
    source_event_id       uuid unique,
    status                invoice_status not null default 'DRAFT',
    -- Assigned at issue: `<prefix><year>-<sequence>`.
    number                text,
    series                text,
    fiscal_year           integer,
    sequence              bigint,
    issue_date            date,
    delivery_date         date,
    due_date              date,
    payment_terms_days    integer not null default 30 check (payment_terms_days between 0 and 365),
    late_payment_rate     numeric(5, 2) not null default 13.5 check (late_payment_rate >= 0),
    recovery_indemnity    numeric(10, 2) not null default 40,
    nature                operation_nature not null default 'SERVICES',
    currency              char(3) not null default 'EUR',
    -- The buyer as the invoice names it (frozen at issue).
    buyer_name            text not null,
    buyer_siren           text,
    buyer_vat_number      text,
    buyer_address_line1   text,
    buyer_address_line2   text,
    buyer_postal_code     text,
    buyer_city            text,
    buyer_country         char(2) not null default 'FR',
    delivery_address      text,
    notes                 text,
    total_excl_vat        numeric(14, 2) not null default 0,
    total_vat             numeric(14, 2) not null default 0,
    total_incl_vat        numeric(14, 2) not null default 0,
    amount_paid           numeric(14, 2) not null default 0,
    -- The Factur-X XML and the document's hashes (hash chain over issued documents).
    facturx_xml           text,
    document_sha256       text,
    chain_sha256          text,
    issued_by             uuid,
    issued_at             timestamptz,
    created_by            uuid not null,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    unique (organisation_id, id),
    constraint invoices_number_key unique (organisation_id, societe_id, number),
    constraint invoices_sequence_key unique (organisation_id, societe_id, series, fiscal_year, sequence),
    foreign key (organisation_id, original_invoice_id) references invoices (organisation_id, id),
    check (status = 'DRAFT' or (number is not null and issue_date is not null and due_date is not null)),
    check (amount_paid >= 0 and amount_paid <= total_incl_vat or kind = 'CREDIT_NOTE')
);
create index invoices_list_idx on invoices (organisation_id, created_at desc, id desc);
create index invoices_client_idx on invoices (organisation_id, client_id);
create index invoices_contract_idx on invoices (organisation_id, contract_id);

create table invoice_lines (
    id                uuid primary key,
    organisation_id   uuid not null,
    invoice_id        uuid not null,
    position          integer not null,
    product_reference text,
    description       text not null,
    quantity          numeric(12, 3) not null check (quantity > 0),
    -- UN/ECE Recommendation 20 (C62 one, HUR hour, MON month…).
    unit_code         text not null default 'C62',
    unit_price        numeric(12, 2) not null check (unit_price >= 0),
    discount          numeric(12, 2) not null default 0 check (discount >= 0),
    -- EN 16931 VAT category: S standard, Z zero, E exempt, AE reverse charge.
    vat_category      char(2) not null default 'S',
    vat_rate          numeric(4, 1) not null check (vat_rate in (20, 10, 5.5, 2.1, 0)),
    total_excl_vat    numeric(14, 2) not null,
    total_vat         numeric(14, 2) not null,
    total_incl_vat    numeric(14, 2) not null,
    foreign key (organisation_id, invoice_id) references invoices (organisation_id, id) on delete cascade
);
create index invoice_lines_invoice_idx on invoice_lines (organisation_id, invoice_id, position);

-- One counter per (organisation, société, series, year): locked by the issuing transaction,
-- so numbers are continuous whatever the number of concurrent issuers.
create table invoice_counters (
    organisation_id  uuid not null,
    societe_id       uuid not null,
    series           text not null,
    fiscal_year      integer not null,
    last_value       bigint not null default 0,
    -- The chain hash of the series' last issued document.
    last_chain       text,
    primary key (organisation_id, societe_id, series, fiscal_year)
);

create type payment_method as enum ('TRANSFER', 'SEPA_DEBIT', 'CARD', 'CHEQUE', 'CASH', 'OTHER');

create table invoice_payments (
    id               uuid primary key,
    organisation_id  uuid not null,
    invoice_id       uuid not null,
    amount           numeric(14, 2) not null check (amount > 0),
    paid_on          date not null,
    method           payment_method not null,
    reference        text,
    recorded_by      uuid not null,
    recorded_at      timestamptz not null default now(),
    foreign key (organisation_id, invoice_id) references invoices (organisation_id, id)
);
create index invoice_payments_invoice_idx on invoice_payments (organisation_id, invoice_id);

-- Sales reps (apporteurs) and contracts with their lines and status history.

create type sales_rep_kind as enum ('REP', 'MANAGER', 'DIRECTOR', 'PARTNER');

create table sales_reps (
    id               uuid primary key,
    organisation_id  uuid not null,
    kind             sales_rep_kind not null,
    first_name       text not null check (length(first_name) between 1 and 100),
    last_name        text not null check (length(last_name) between 1 and 100),
    email            text,
    phone            text,
    -- A member of the organisation, when the rep uses the CRM.
    user_id          uuid,
    -- The société they work for; null means every société.
    societe_id       uuid,
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (organisation_id, id),
    constraint sales_reps_user_key unique (organisation_id, user_id)
);
create index sales_reps_list_idx on sales_reps (organisation_id, last_name, first_name, id);

create type contract_status as enum
    ('DRAFT', 'SIGNED', 'ACTIVE', 'SUSPENDED', 'TERMINATED', 'CANCELLED', 'EXPIRED');
create type billing_frequency as enum ('MONTHLY', 'QUARTERLY', 'SEMIANNUAL', 'ANNUAL', 'ONE_TIME');

create table contracts (
    id                 uuid primary key,
    organisation_id    uuid not null,
    reference          text not null check (length(reference) between 1 and 100),
    title              text not null check (length(title) between 1 and 200),
    description        text,
    client_id          uuid not null,
    societe_id         uuid,
    sales_rep_id       uuid,
    sales_channel      text,
    status             contract_status not null default 'DRAFT',
    start_date         date not null,
    end_date           date,
    signature_date     date,
    billing_frequency  billing_frequency not null,
    currency           char(3) not null default 'EUR',
    total_excl_vat     numeric(14, 2) not null default 0,
    total_vat          numeric(14, 2) not null default 0,
    total_incl_vat     numeric(14, 2) not null default 0,
    notes              text,
    created_by         uuid not null,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint contracts_reference_key unique (organisation_id, reference),
    unique (organisation_id, id),
    foreign key (organisation_id, sales_rep_id) references sales_reps (organisation_id, id),
    check (end_date is null or end_date >= start_date),
    check (status in ('DRAFT', 'CANCELLED') or signature_date is not null)
);
create index contracts_list_idx on contracts (organisation_id, created_at desc, id desc);
create index contracts_client_idx on contracts (organisation_id, client_id);
create index contracts_expiry_idx on contracts (end_date) where status in ('SIGNED', 'ACTIVE', 'SUSPENDED');

create table contract_lines (
    id                uuid primary key,
    organisation_id   uuid not null,
    contract_id       uuid not null,
    position          integer not null,
    product_id        uuid not null,
    description       text,
    quantity          numeric(12, 3) not null check (quantity > 0),
    unit_price        numeric(12, 2) not null check (unit_price >= 0),
    vat_rate          numeric(4, 1) not null check (vat_rate in (20, 10, 5.5, 2.1, 0)),
    billing_period    billing_frequency,
    total_excl_vat    numeric(14, 2) not null,
    total_vat         numeric(14, 2) not null,
    total_incl_vat    numeric(14, 2) not null,
    foreign key (organisation_id, contract_id) references contracts (organisation_id, id) on delete cascade,
    foreign key (organisation_id, product_id) references products (organisation_id, id)
);
create index contract_lines_contract_idx on contract_lines (organisation_id, contract_id, position);

create table contract_status_history (
    id               uuid primary key,
    organisation_id  uuid not null,
    contract_id      uuid not null,
    from_status      contract_status,
    to_status        contract_status not null,
    -- The user, or null for the system (the expiry job).
    changed_by       uuid,
    changed_at       timestamptz not null default now(),
    reason           text,
    foreign key (organisation_id, contract_id) references contracts (organisation_id, id) on delete cascade
);
create index contract_status_history_idx on contract_status_history (organisation_id, contract_id, changed_at, id);

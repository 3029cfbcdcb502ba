-- Finance subgraph: what it knows of core's data (projections of core's events: finance never
-- reads core's database), and its event bookkeeping.

-- Clients an invoice may name, with the identity an invoice starts from. Kept from
-- client.created / client.updated.
create table clients (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    siren            text,
    vat_number       text,
    email            text,
    payment_terms_days integer not null default 30,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, id)
);

-- Sociétés (legal entities) that issue invoices.
create table societes (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, id)
);

-- The transactional outbox (subgraph_kit::events).
create table outbox (
    id               uuid primary key,
    organisation_id  uuid not null,
    event_type       text not null,
    envelope         jsonb not null,
    created_at       timestamptz not null,
    published_at     timestamptz,
    attempts         integer not null default 0,
    last_error       text
);
create index outbox_pending_idx on outbox (created_at, id) where published_at is null;

-- Durable consumers' bookkeeping (subgraph_kit::consumer).
create table processed_events (
    consumer      text not null,
    event_id      uuid not null,
    event_type    text not null,
    processed_at  timestamptz not null default now(),
    primary key (consumer, event_id)
);

create table dead_letters (
    consumer     text not null,
    event_id     uuid not null,
    event_type   text not null,
    envelope     jsonb not null,
    error        text not null,
    attempts     integer not null,
    failed_at    timestamptz not null default now(),
    replayed_at  timestamptz,
    primary key (consumer, event_id)
);

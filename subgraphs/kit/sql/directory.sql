-- The kit's directory projection (subgraph_kit::directory): what a subgraph knows of core's
-- clients, sociétés and members, fed by core's events and read through to core on a miss.
-- A subgraph that projects the directory creates these tables (it may add columns, as
-- finance does for a client's identity and billing address). Nothing is ever deleted: a
-- deleted client, société or removed member stays as a `deleted` row (a tombstone), so that
-- a read-through answer that raced the deletion's event cannot bring it back. `event_at` is
-- when core recorded the event that wrote the row (null: a read-through answer): an older
-- event arriving late (a redelivery, a replay) never overwrites a newer one.

create table clients (
    organisation_id  uuid not null,
    id               uuid not null,
    -- "First Last" for a person, the name for a company.
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, id)
);

create table societes (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, id)
);

create table members (
    organisation_id  uuid not null,
    user_id          uuid not null,
    role             text not null check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER')),
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, user_id)
);

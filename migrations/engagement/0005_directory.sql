-- The kit's directory projection (subgraph_kit::directory) covers clients and sociétés too
-- (engagement had members only), with tombstones of removed members and deleted sociétés.
create table clients (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, id)
);

create table societes (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, id)
);

alter table members add column deleted boolean not null default false;

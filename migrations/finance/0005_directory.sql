-- The kit's directory projection (subgraph_kit::directory) covers members too, and keeps
-- tombstones of removed members and deleted sociétés (see subgraphs/kit/sql/directory.sql).
create table members (
    organisation_id  uuid not null,
    user_id          uuid not null,
    role             text not null check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER')),
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, user_id)
);
alter table societes add column deleted boolean not null default false;

-- The kit's directory projection (subgraph_kit::directory) covers members too.
create table members (
    organisation_id  uuid not null,
    user_id          uuid not null,
    role             text not null check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER')),
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, user_id)
);

-- Activities: what happened with a client (calls, e-mails, meetings, notes), forming its
-- timeline; typed with activity types of the organisation's own.
create table activity_types (
    id               uuid primary key,
    organisation_id  uuid not null,
    code             text not null check (code ~ '^[A-Z][A-Z0-9_]{0,39}$'),
    label            text not null check (length(label) between 1 and 100),
    created_at       timestamptz not null default now(),
    constraint activity_types_org_id_key unique (organisation_id, id),
    constraint activity_types_code_key unique (organisation_id, code)
);

create table activities (
    id               uuid primary key,
    organisation_id  uuid not null,
    type_id          uuid not null,
    occurred_at      timestamptz not null,
    subject          text not null check (length(subject) between 1 and 200),
    comment          text,
    client_id        uuid,
    contract_id      uuid,
    created_by       uuid not null,
    created_at       timestamptz not null default now(),
    constraint activities_type_fkey foreign key (organisation_id, type_id)
        references activity_types (organisation_id, id)
);
create index activities_org_occurred_idx on activities (organisation_id, occurred_at desc, id desc);
create index activities_org_client_idx on activities (organisation_id, client_id, occurred_at desc);

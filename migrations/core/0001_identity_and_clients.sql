-- Core subgraph: organisations (tenants), users, memberships, invitations, sociétés,
-- clients and their addresses. Every tenant-scoped table leads with organisation_id, and
-- child rows reference their parent through (organisation_id, id) so a row can never point
-- into another organisation.

create type member_role as enum ('viewer', 'member', 'admin', 'owner');
create type invitation_status as enum ('pending', 'accepted', 'rejected', 'revoked', 'expired');
create type client_kind as enum ('person', 'company');
create type client_status as enum ('prospect', 'active', 'inactive', 'suspended');
create type address_kind as enum ('billing', 'shipping', 'other');

create table organisations (
    id          uuid primary key,
    name        text not null check (length(name) between 1 and 200),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- Users are global (one person may belong to several organisations); what a caller may see
-- of them is scoped through memberships.
create table users (
    id             uuid primary key,
    email          text not null check (email = lower(email)),
    -- argon2id PHC string; null for users whose identity an external provider owns.
    password_hash  text,
    first_name     text not null,
    last_name      text not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint users_email_key unique (email)
);

create table memberships (
    organisation_id  uuid not null references organisations (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    role             member_role not null,
    created_at       timestamptz not null default now(),
    primary key (organisation_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

create table invitations (
    id               uuid primary key,
    organisation_id  uuid not null references organisations (id) on delete cascade,
    email            text not null check (email = lower(email)),
    role             member_role not null,
    -- Only the SHA-256 of the token is kept: a database leak does not leak usable tokens.
    token_hash       bytea not null,
    status           invitation_status not null default 'pending',
    invited_by       uuid not null references users (id),
    expires_at       timestamptz not null,
    responded_at     timestamptz,
    created_at       timestamptz not null default now(),
    constraint invitations_token_hash_key unique (token_hash)
);
create unique index invitations_pending_email_key
    on invitations (organisation_id, email) where status = 'pending';
create index invitations_org_idx on invitations (organisation_id, created_at);

create table societes (
    id               uuid primary key,
    organisation_id  uuid not null references organisations (id) on delete cascade,
    name             text not null check (length(name) between 1 and 200),
    siren            char(9) not null,
    siret            char(14),
    vat_number       text,
    address_line1    text,
    address_line2    text,
    postal_code      text,
    city             text,
    country          char(2) not null default 'FR',
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint societes_org_id_key unique (organisation_id, id),
    constraint societes_siren_key unique (organisation_id, siren)
);
create index societes_org_name_idx on societes (organisation_id, lower(name), id);

create table clients (
    id                  uuid primary key,
    organisation_id     uuid not null references organisations (id) on delete cascade,
    kind                client_kind not null,
    status              client_status not null default 'active',
    -- Last name of a person, legal name of a company.
    name                text not null check (length(name) between 1 and 200),
    first_name          text,
    email               text check (email = lower(email)),
    -- E.164 (+33612345678).
    phone               text,
    birth_date          date,
    societe_id          uuid,
    siren               char(9),
    vat_number          text,
    payment_terms_days  integer not null default 30 check (payment_terms_days between 0 and 365),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    deleted_at          timestamptz,
    constraint clients_org_id_key unique (organisation_id, id),
    constraint clients_societe_fkey foreign key (organisation_id, societe_id)
        references societes (organisation_id, id)
);
-- The duplicate rule: one live client per (organisation, phone, name), enforced by the
-- database so concurrent creations cannot both pass.
create unique index clients_phone_name_key
    on clients (organisation_id, phone, lower(name))
    where deleted_at is null and phone is not null;
create index clients_org_name_idx on clients (organisation_id, lower(name), id);
create index clients_org_created_idx on clients (organisation_id, created_at, id);
create index clients_org_updated_idx on clients (organisation_id, updated_at, id);

create table addresses (
    id               uuid primary key,
    organisation_id  uuid not null,
    client_id        uuid not null,
    kind             address_kind not null,
    line1            text not null,
    line2            text,
    postal_code      text not null,
    city             text not null,
    country          char(2) not null default 'FR',
    is_default       boolean not null default false,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint addresses_client_fkey foreign key (organisation_id, client_id)
        references clients (organisation_id, id) on delete cascade
);
create unique index addresses_default_key on addresses (client_id, kind) where is_default;
create index addresses_org_client_idx on addresses (organisation_id, client_id);

-- Sessions (db::refresh_token): a family of refresh tokens per login, each exchanged once for
-- the next (the used row is marked and a new one joins the family). Presenting a used token
-- again (a stolen copy) revokes the family; so do logout, a password change (all of the
-- user's families) and leaving an organisation (the families acting in it). Revocation is on
-- the family row, which a rotation locks: a token minted while its family is being revoked
-- is dead with it. Only the SHA-256 of a token's secret is kept.
create table refresh_families (
    id               uuid primary key,
    user_id          uuid not null references users (id) on delete cascade,
    -- The organisation the family's tokens act in; null for a user without one.
    organisation_id  uuid references organisations (id) on delete cascade,
    created_at       timestamptz not null default now(),
    revoked_at       timestamptz
);

create index refresh_families_user_idx on refresh_families (user_id, organisation_id)
    where revoked_at is null;

create table refresh_tokens (
    id          uuid primary key,
    family_id   uuid not null references refresh_families (id) on delete cascade,
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    used_at     timestamptz
);

create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_expires_idx on refresh_tokens (expires_at);

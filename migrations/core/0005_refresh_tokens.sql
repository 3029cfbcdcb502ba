-- Refresh tokens (db::refresh_token): what a client exchanges for a new short-lived access
-- token without the password. Only the SHA-256 of the secret is kept. Each use rotates it:
-- the used row is marked and a new one joins the same family; presenting a used token again
-- (a stolen copy) revokes the whole family. Logout revokes a family, a password change all
-- of the user's, leaving an organisation the ones acting in it.
create table refresh_tokens (
    id               uuid primary key,
    family_id        uuid not null,
    user_id          uuid not null references users (id) on delete cascade,
    -- The organisation the tokens it mints act in; null for a user without one.
    organisation_id  uuid references organisations (id) on delete cascade,
    token_hash       bytea not null unique,
    created_at       timestamptz not null default now(),
    expires_at       timestamptz not null,
    used_at          timestamptz,
    revoked_at       timestamptz
);

create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_user_idx on refresh_tokens (user_id, organisation_id)
    where revoked_at is null;
create index refresh_tokens_expires_idx on refresh_tokens (expires_at);

-- Sign-up in two steps, and password reset: both answer the same whether or not an account
-- has the e-mail, and prove the e-mail's owner by a link mailed to it (db::sign_up,
-- db::password_reset). Only the SHA-256 of a link's token is kept.

-- A sign-up waiting for its e-mail's confirmation. The password is hashed when asked (the
-- confirmation checks it again, so whoever confirms chose it); the organisation's id is
-- chosen then too, and the confirmation e-mail belongs to it. Asking again for one e-mail
-- replaces its pending sign-up (and its link).
create table sign_ups (
    id                 uuid primary key,
    organisation_id    uuid not null,
    email              text not null check (email = lower(email)),
    password_hash      text not null,
    first_name         text not null,
    last_name          text not null,
    organisation_name  text not null check (length(organisation_name) between 1 and 200),
    token_hash         bytea not null,
    expires_at         timestamptz not null,
    created_at         timestamptz not null default now(),
    constraint sign_ups_email_key unique (email),
    constraint sign_ups_token_hash_key unique (token_hash)
);
create index sign_ups_expires_idx on sign_ups (expires_at);

-- A password reset link. It works once and for an hour; a reset, or a newer link, ends the
-- others. The e-mail belongs to the user's oldest organisation (every row has one).
create table password_resets (
    id               uuid primary key,
    organisation_id  uuid not null references organisations (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    token_hash       bytea not null,
    expires_at       timestamptz not null,
    used_at          timestamptz,
    created_at       timestamptz not null default now(),
    constraint password_resets_token_hash_key unique (token_hash)
);
create index password_resets_user_idx on password_resets (user_id, created_at);
create index password_resets_expires_idx on password_resets (expires_at);

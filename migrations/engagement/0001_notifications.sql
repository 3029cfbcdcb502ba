-- Engagement subgraph: who belongs to which organisation (a projection of core's member
-- events: engagement never reads core's database) and the notifications sent to them.

create table members (
    organisation_id  uuid not null,
    user_id          uuid not null,
    role             text not null check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER')),
    updated_at       timestamptz not null default now(),
    primary key (organisation_id, user_id)
);

create table notifications (
    id               uuid primary key,
    organisation_id  uuid not null,
    user_id          uuid not null,
    kind             text not null check (kind in ('NEW_CLIENT', 'NEW_CONTRACT', 'CONTRACT_EXPIRING',
                         'CONTRACT_EXPIRED', 'UNPAID_INVOICE', 'TASK_ASSIGNED', 'REMINDER', 'ALERT',
                         'INFO', 'SYSTEM')),
    title            text not null check (length(title) between 1 and 255),
    message          text not null,
    link             text,
    metadata         jsonb not null default '{}',
    -- The event that caused it: one notification per (event, user), whatever redeliveries.
    source_event_id  uuid,
    read_at          timestamptz,
    created_at       timestamptz not null default now()
);
create index notifications_user_idx on notifications (organisation_id, user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (organisation_id, user_id) where read_at is null;
create unique index notifications_source_key on notifications (source_event_id, user_id)
    where source_event_id is not null;

-- Event bookkeeping (subgraph_kit::events and subgraph_kit::consumer).
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

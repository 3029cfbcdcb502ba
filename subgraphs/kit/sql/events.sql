-- The kit's event tables, which every subgraph's migrations create exactly like this (a test,
-- `every_subgraph_creates_the_kit_tables_identically`, compares them): copy this file into a
-- new subgraph's first migration.

-- The transactional outbox: events written in the same transaction as the change they
-- describe, published to NATS JetStream by the relay (subgraph_kit::events).
create table outbox (
    id               uuid primary key,
    organisation_id  uuid not null,
    event_type       text not null,
    envelope         jsonb not null,
    created_at       timestamptz not null,
    published_at     timestamptz,
    -- Times the bus refused this row (not counting outages), and why last.
    attempts         integer not null default 0,
    last_error       text,
    -- Set when the relay gave up on the row (refused as too large, or too often): it is
    -- passed over, so one bad row never holds back the others; an operator retries it.
    parked_at        timestamptz
);
-- The relay's queue: unpublished rows in order.
create index outbox_pending_idx on outbox (created_at, id) where published_at is null and parked_at is null;

-- Bookkeeping of durable event consumers (subgraph_kit::consumer): which events each consumer
-- has processed (written in the handler's transaction: the idempotency guard), and the ones
-- it gave up on, kept to be listed and replayed.
create table processed_events (
    consumer      text not null,
    event_id      uuid not null,
    event_type    text not null,
    processed_at  timestamptz not null default now(),
    primary key (consumer, event_id)
);
-- Purged once older than the stream keeps events (nothing can be redelivered then).
create index processed_events_age_idx on processed_events (processed_at);

create table dead_letters (
    consumer     text not null,
    event_id     uuid not null,
    event_type   text not null,
    envelope     jsonb not null,
    error        text not null,
    attempts     integer not null,
    failed_at    timestamptz not null default now(),
    replayed_at  timestamptz,
    -- An operator asked for a replay (`events dead-letters replay`): the consumer's own
    -- process runs its handler again and clears this.
    replay_requested_at  timestamptz,
    -- An operator decided the event is not to be applied: kept, never replayed.
    discarded_at  timestamptz,
    primary key (consumer, event_id)
);

-- The transactional outbox: events written in the same transaction as the change they
-- describe, published to NATS JetStream by the relay (subgraph_kit::events).
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
-- The relay's queue: unpublished rows in order.
create index outbox_pending_idx on outbox (created_at, id) where published_at is null;

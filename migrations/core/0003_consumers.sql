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

-- The kit's event tables, second shape (subgraph_kit::db::EVENT_TABLES_SQL): outbox rows the
-- bus refuses are parked and passed over; processed events are purged by age.
alter table outbox add column parked_at timestamptz;
drop index outbox_pending_idx;
create index outbox_pending_idx on outbox (created_at, id) where published_at is null and parked_at is null;
create index processed_events_age_idx on processed_events (processed_at);

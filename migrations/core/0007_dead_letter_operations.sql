-- The kit's event tables, third shape (subgraph_kit::db::EVENT_TABLES_SQL): an operator asks
-- for a dead letter's replay, which the consumer's process performs, or discards it.
alter table dead_letters add column replay_requested_at timestamptz;
alter table dead_letters add column discarded_at timestamptz;

-- The directory projection, order-safe (subgraph_kit::db::DIRECTORY_TABLES_SQL): each row
-- remembers when core recorded the event that wrote it, and an older event never overwrites.
alter table clients add column event_at timestamptz;
alter table societes add column event_at timestamptz;
alter table members add column event_at timestamptz;

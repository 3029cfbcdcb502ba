-- The kit's directory projection (subgraph_kit::directory): each member's role (rows
-- projected before this migration have none until their member's next event), and
-- tombstones: a removed member or a deleted société stays as a deleted row, so that a
-- read-through to core that raced its event cannot bring it back.
alter table members add column role text check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER'));
alter table members add column deleted boolean not null default false;
alter table societes add column deleted boolean not null default false;

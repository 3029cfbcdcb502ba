-- The kit's directory projection keeps each member's role (subgraph_kit::directory). Rows
-- projected before this migration have none until their member's next event.
alter table members add column role text check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER'));

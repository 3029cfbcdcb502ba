-- Provisions one subgraph's database with its two roles, least privilege (psql, as a
-- superuser; safe to run again):
--
--   psql -v db=crm_finance -v app=crm_finance -v migrator=crm_finance_migrator \
--        -v app_password=… -v migrator_password=… -f provision.sql
--
-- - `migrator` owns the database (and so its `public` schema): it runs the migrations, and
--   nothing else connects as it;
-- - `app`, the role the subgraph serves with, may connect to this database alone and read and
--   write its rows; it creates, alters or drops nothing (the subgraph grants it the tables
--   after each migration, see `subgraph_kit::db`);
-- - neither is a superuser, creates databases or roles, or reaches another database: every
--   database provisioned here refuses connections from everyone else (`public`).
\set ON_ERROR_STOP on

-- The migrator inherits: it owns `public` through `pg_database_owner`.
select format('create role %I login nosuperuser nocreatedb nocreaterole password %L', :'migrator', :'migrator_password')
 where not exists (select from pg_roles where rolname = :'migrator') \gexec
select format('create role %I login nosuperuser nocreatedb nocreaterole noinherit password %L', :'app', :'app_password')
 where not exists (select from pg_roles where rolname = :'app') \gexec
-- Passwords follow the secrets when they change.
select format('alter role %I password %L', :'migrator', :'migrator_password') \gexec
select format('alter role %I password %L', :'app', :'app_password') \gexec

select format('create database %I owner %I', :'db', :'migrator')
 where not exists (select from pg_database where datname = :'db') \gexec
select format('alter database %I owner to %I', :'db', :'migrator') \gexec
select format('revoke all on database %I from public', :'db') \gexec
select format('grant connect, temporary on database %I to %I', :'db', :'app') \gexec
-- Before PostgreSQL 15 everyone could create objects in `public`.
\connect :"db"
revoke create on schema public from public;

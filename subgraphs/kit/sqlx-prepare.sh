#!/usr/bin/env bash
# The kit's SQL is checked at compile time (`sqlx::query!`) against the query data committed in
# subgraphs/kit/.sqlx: builds are offline (.cargo/config.toml sets SQLX_OFFLINE), so they need
# no database. This script describes every query again against a fresh database holding exactly
# the kit's tables (sql/*.sql) and rewrites that data; with --check it fails instead when the
# data differs (CI runs it), so a query or a table that drifts is caught before it ships.
#
# Usage: subgraphs/kit/sqlx-prepare.sh [--check]     (needs psql and a PostgreSQL server:
# CRM_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"
server="${CRM_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
command -v psql >/dev/null || { echo "psql is needed (apt-get install postgresql-client)" >&2; exit 2; }
psql "$server" -qtc 'select 1' >/dev/null 2>&1 || { echo "no PostgreSQL at $server (set CRM_POSTGRES_URL, or start one: cargo xtask dev does)" >&2; exit 2; }

name="crm_sqlx_$$_$(date +%s)"
database="${server%/*}/$name"
generated="$(mktemp -d)"
cleanup() { psql "$server" -qc "drop database if exists $name with (force)" >/dev/null 2>&1 || true; rm -rf "$generated"; }
trap cleanup EXIT

psql "$server" -qc "create database $name" >/dev/null
psql "$database" -q -v ON_ERROR_STOP=1 -f "$kit/sql/events.sql" -f "$kit/sql/directory.sql" >/dev/null
# The macros run again only when the kit's sources change.
touch "$kit"/src/*.rs
DATABASE_URL="$database" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$generated" \
  cargo check --package subgraph-kit --lib --quiet
[ -n "$(ls "$generated")" ] || { echo "no query data was generated" >&2; exit 1; }

if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$generated" "$kit/.sqlx" >/dev/null 2>&1; then
    echo "subgraphs/kit/.sqlx is stale: run subgraphs/kit/sqlx-prepare.sh and commit it" >&2
    diff -r "$generated" "$kit/.sqlx" >&2 || true
    exit 1
  fi
  echo "subgraphs/kit/.sqlx matches the kit's tables ($(ls "$generated" | wc -l) queries)"
else
  rm -rf "$kit/.sqlx" && mkdir -p "$kit/.sqlx" && cp "$generated"/*.json "$kit/.sqlx/"
  echo "wrote $(ls "$kit/.sqlx" | wc -l) queries to subgraphs/kit/.sqlx"
fi

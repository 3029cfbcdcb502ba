#!/usr/bin/env bash
# Run once by the postgres image when its volume is new (/docker-entrypoint-initdb.d): one
# database per subgraph, each with its migrator and app roles (provision.sql), passwords
# from the Docker secrets db_<subgraph>_password and db_<subgraph>_migrator_password.
set -euo pipefail
for subgraph in core commercial finance engagement logistics; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v db="crm_${subgraph}" \
    -v app="crm_${subgraph}" \
    -v migrator="crm_${subgraph}_migrator" \
    -v app_password="$(cat "/run/secrets/db_${subgraph}_password")" \
    -v migrator_password="$(cat "/run/secrets/db_${subgraph}_migrator_password")" \
    -f /docker-entrypoint-initdb.d/provision.sql.in
done

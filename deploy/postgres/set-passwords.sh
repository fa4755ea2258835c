#!/usr/bin/env bash
# Second init step of the compose PostgreSQL container (after init.sql): sets the passwords of
# vigil_app and vigil_migrate from their secret files. psql variables keep them out of the
# process list and are quoted by psql (:'name').
set -euo pipefail

app_password="$(</run/secrets/db_app_password)"
migrate_password="$(</run/secrets/db_migrate_password)"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-vigil}" \
  --set=app_password="${app_password}" --set=migrate_password="${migrate_password}" <<'SQL'
ALTER ROLE vigil_app PASSWORD :'app_password';
ALTER ROLE vigil_migrate PASSWORD :'migrate_password';
SQL

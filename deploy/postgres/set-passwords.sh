#!/usr/bin/env bash
# Second init step of the compose PostgreSQL container (after init.sql): sets the passwords of
# vigil_app and vigil_migrate from their secret files, and of vigil_ingest, vigil_detector,
# vigil_embedder and vigil_matcher from theirs where present. psql reads each file itself (a backquoted
# `cat FILE` in \set), so no password is in any process's command line or environment, and psql
# quotes them (:'name'). SECRETS_DIR (default /run/secrets) is where the files are.
set -euo pipefail

secrets_dir="${SECRETS_DIR:-/run/secrets}"
for name in db_app_password db_migrate_password; do
  if [[ ! -s "${secrets_dir}/${name}" ]]; then
    echo "set-passwords.sh: ${secrets_dir}/${name} is missing or empty" >&2
    exit 1
  fi
done

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-vigil}" \
  --set=secrets_dir="${secrets_dir}" <<'SQL'
\set app_password `cat :'secrets_dir'/db_app_password`
\set migrate_password `cat :'secrets_dir'/db_migrate_password`
ALTER ROLE vigil_app PASSWORD :'app_password';
ALTER ROLE vigil_migrate PASSWORD :'migrate_password';
SQL

# The pipeline roles' users (init.sql): each password set when its secret file is there.
for role in ingest detector embedder matcher; do
  [[ -s "${secrets_dir}/db_${role}_password" ]] || continue
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-vigil}" \
    --set=role="vigil_${role}" --set=file="${secrets_dir}/db_${role}_password" <<'SQL'
\set role_password `cat :'file'`
ALTER ROLE :"role" PASSWORD :'role_password';
SQL
done

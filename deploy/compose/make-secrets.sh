#!/usr/bin/env bash
# Writes every secret deploy/compose/compose.yaml reads into ./secrets (or the directory given):
# random passwords, the data key, the database URLs (one per role), the metrics token, and a private CA with
# certificates for the NATS servers (nats-1..3) and PostgreSQL. Refuses to overwrite an existing
# secret, so running it again only fills gaps.
#   usage: make-secrets.sh [DIR]
set -euo pipefail
umask 077

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-${script_dir}/secrets}"
mkdir -p "${out}/certs/nats" "${out}/certs/postgres"
chmod 0700 "${out}"

# A letter first: nats-server parses a variable's value as a config value, so a password such as
# "5e3..." would read as a number. Hex after it needs no escaping in a URL.
random_secret() { printf 'v%s' "$(openssl rand -hex 24)"; }

write() { # name, value: a new secret file; an existing one is kept
  local file="${out}/$1"
  if [[ -e "${file}" ]]; then
    echo "keep   ${file}"
    return
  fi
  printf '%s' "$2" >"${file}"
  # Readable inside the containers (whose users differ from yours); the directory stays 0700.
  chmod 0644 "${file}"
  echo "wrote  ${file}"
}

for name in postgres_password db_app_password db_migrate_password \
  db_ingest_password db_detector_password db_embedder_password db_matcher_password admin_password metrics_token \
  nats_ingest_password nats_detector_password nats_embedder_password nats_matcher_password \
  nats_api_password nats_ops_password nats_sys_password; do
  write "${name}" "$(random_secret)"
done
write data_key "$(openssl rand -base64 32)"
write audit_key "$(openssl rand -base64 32)"

app_password="$(<"${out}/db_app_password")"
migrate_password="$(<"${out}/db_migrate_password")"
tls_query="sslmode=verify-full&sslrootcert=/run/secrets/ca_cert"
write database_url "postgres://vigil_app:${app_password}@postgres:5432/vigil?${tls_query}"
write database_url_migrate "postgres://vigil_migrate:${migrate_password}@postgres:5432/vigil?${tls_query}"
# One database user per pipeline role, granted only its own tables (deploy/postgres/init.sql).
for role in ingest detector embedder matcher; do
  role_password="$(<"${out}/db_${role}_password")"
  write "database_url_${role}" "postgres://vigil_${role}:${role_password}@postgres:5432/vigil?${tls_query}"
done

certs="${out}/certs"
if [[ ! -e "${certs}/ca.pem" ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=Vigil private CA" \
    -keyout "${certs}/ca-key.pem" -out "${certs}/ca.pem" 2>/dev/null
  chmod 0644 "${certs}/ca.pem"
  echo "wrote  ${certs}/ca.pem"
fi

issue() { # directory, cert name, key name, common name, subjectAltName
  local dir="$1" cert="$2" key="$3" cn="$4" san="$5"
  [[ -e "${dir}/${cert}" ]] && { echo "keep   ${dir}/${cert}"; return; }
  local ext
  ext="$(mktemp)"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "${san}" >"${ext}"
  openssl req -newkey rsa:3072 -nodes -subj "/CN=${cn}" -keyout "${dir}/${key}" -out "${dir}/${cert}.csr" 2>/dev/null
  openssl x509 -req -in "${dir}/${cert}.csr" -CA "${certs}/ca.pem" -CAkey "${certs}/ca-key.pem" \
    -CAcreateserial -days 825 -extfile "${ext}" -out "${dir}/${cert}" 2>/dev/null
  rm -f "${dir}/${cert}.csr" "${ext}"
  chmod 0644 "${dir}/${cert}" "${dir}/${key}"
  echo "wrote  ${dir}/${cert}"
}

issue "${certs}/nats" server.pem server-key.pem nats \
  "DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:localhost,IP:127.0.0.1"
cp "${certs}/ca.pem" "${certs}/nats/ca.pem"
issue "${certs}/postgres" server.crt server.key postgres "DNS:postgres,DNS:localhost,IP:127.0.0.1"

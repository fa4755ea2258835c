#!/usr/bin/env bash
# Installs Vigil under systemd on this machine.
#   sudo deploy/systemd/install.sh            van laptop: vigil.service, every role in one process
#   sudo deploy/systemd/install.sh --split    split setup: vigil-api/ingest/matcher and the
#                                             vigil-detector@/vigil-embedder@ templates, vigil-split.target
# Creates the vigil system user, /var/lib/vigil (0700), /etc/vigil with the data key, the audit key and
# the admin password (root-owned 0600, handed over as systemd credentials), copies this checkout to
# /opt/vigil unless it is already there, and installs the units. Run `npm ci && npm run build`
# in the checkout first. Safe to run again: existing keys and settings are kept.
set -euo pipefail

usage() {
  echo "usage: $0 [--split] [--prefix DIR] [--no-start]" >&2
  exit 64
}

split=false
start=true
prefix=/opt/vigil
while [[ $# -gt 0 ]]; do
  case "$1" in
    --split) split=true ;;
    --no-start) start=false ;;
    --prefix)
      [[ $# -ge 2 ]] || usage
      prefix="$2"
      shift
      ;;
    -h | --help) usage ;;
    *) usage ;;
  esac
  shift
done

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install.sh: run as root (sudo)" >&2
  exit 77
fi

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
unit_dir=/etc/systemd/system
config_dir=/etc/vigil
state_dir=/var/lib/vigil

if [[ ! -d "${source_dir}/node_modules" ]]; then
  echo "install.sh: run 'npm ci && npm run build' in ${source_dir} first" >&2
  exit 1
fi

# 1. The service user: no login, no home outside the state directory.
if ! getent group vigil >/dev/null; then
  groupadd --system vigil
fi
if ! id -u vigil >/dev/null 2>&1; then
  useradd --system --gid vigil --home-dir "${state_dir}" --no-create-home --shell /usr/sbin/nologin vigil
fi

# 2. State: the embedded database, encrypted images (0700, vigil only).
install -d -o vigil -g vigil -m 0700 "${state_dir}"

# 3. Configuration and secrets: root-owned; the units pass the secrets as credentials.
install -d -o root -g vigil -m 0750 "${config_dir}"
umask 077
if [[ ! -e "${config_dir}/data.key" ]]; then
  # Losing this key loses every reference image and alert crop: back it up apart from the data.
  openssl rand -base64 32 >"${config_dir}/data.key"
  echo "install.sh: created ${config_dir}/data.key (back it up somewhere safe)"
fi
chown root:root "${config_dir}/data.key"
chmod 0600 "${config_dir}/data.key"
if [[ ! -e "${config_dir}/audit.key" ]]; then
  # Signs the audit trail's checkpoints; give oversight a copy so they can check the trail (docs/audit.md).
  openssl rand -base64 32 >"${config_dir}/audit.key"
  echo "install.sh: created ${config_dir}/audit.key (give oversight a copy)"
fi
chown root:root "${config_dir}/audit.key"
chmod 0600 "${config_dir}/audit.key"
if [[ ! -e "${config_dir}/admin-password" ]]; then
  openssl rand -base64 18 >"${config_dir}/admin-password"
  echo "install.sh: admin password (shown once): $(cat "${config_dir}/admin-password")"
fi
chown root:root "${config_dir}/admin-password"
chmod 0600 "${config_dir}/admin-password"
if [[ ! -e "${config_dir}/vigil.env" ]]; then
  cat >"${config_dir}/vigil.env" <<'ENV'
# Vigil settings (see deploy/README.md and the root README's environment table).
# HOST=127.0.0.1
# PORT=8080
# LOG_LEVEL=info
# Split setups: DATABASE_URL goes in each role's own file (api.env, ingest.env ...), one user per role.
# NATS_URL=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222
# NATS_CA=/etc/vigil/nats-ca.pem
# VIGIL_ALERT_STREAM_REPLICAS=3
ENV
fi
chown root:vigil "${config_dir}/vigil.env"
chmod 0640 "${config_dir}/vigil.env"
if [[ "${split}" == true ]]; then
  for role in api ingest detector embedder matcher; do
    if [[ ! -e "${config_dir}/${role}.env" ]]; then
      db_user="vigil_${role}"
      [[ "${role}" == api ]] && db_user=vigil_app
      printf '# NATS user of the %s role\nNATS_USER=%s\n# NATS_PASSWORD=\n# Its own database user (deploy/postgres/init.sql)\n# DATABASE_URL=postgres://%s:...@db:5432/vigil?sslmode=verify-full&sslrootcert=/etc/vigil/db-ca.pem\n' \
        "${role}" "${role}" "${db_user}" >"${config_dir}/${role}.env"
    fi
    chown root:vigil "${config_dir}/${role}.env"
    chmod 0640 "${config_dir}/${role}.env"
  done
  if [[ ! -e "${config_dir}/migrate.env" ]]; then
    printf '# DATABASE_URL of the migration role (vigil_migrate)\n# DATABASE_URL=\n' >"${config_dir}/migrate.env"
  fi
  chown root:vigil "${config_dir}/migrate.env"
  chmod 0640 "${config_dir}/migrate.env"
fi
umask 022

# 4. The code: read-only for the service.
if [[ "${source_dir}" != "${prefix}" ]]; then
  install -d -m 0755 "${prefix}"
  cp -a "${source_dir}/." "${prefix}/"
  chown -R root:root "${prefix}"
fi

# 5. Units, pointed at the prefix.
install_unit() {
  sed "s#/opt/vigil#${prefix}#g" "${source_dir}/deploy/systemd/$1" >"${unit_dir}/$1"
  chmod 0644 "${unit_dir}/$1"
}
if [[ "${split}" == true ]]; then
  for unit in vigil-api.service vigil-ingest.service vigil-matcher.service vigil-migrate.service \
    vigil-detector@.service vigil-embedder@.service vigil-split.target; do
    install_unit "${unit}"
  done
  systemctl daemon-reload
  systemctl enable vigil-split.target vigil-migrate.service vigil-api.service vigil-ingest.service \
    vigil-matcher.service vigil-detector@9465.service vigil-embedder@9466.service
  if [[ "${start}" == true ]]; then systemctl start vigil-split.target; fi
else
  install_unit vigil.service
  systemctl daemon-reload
  systemctl enable vigil.service
  if [[ "${start}" == true ]]; then systemctl start vigil.service; fi
fi
echo "install.sh: done. Status: systemctl status 'vigil*'"

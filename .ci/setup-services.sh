#!/usr/bin/env bash
# Installs and starts what Vigil's integration tests talk to: ffmpeg, Chromium, PostgreSQL 15 with
# pgvector (built from Debian's source package), and nats-server with JetStream. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { echo "[ci] $*"; }
need_apt=()
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
dpkg -s postgresql-server-dev-15 >/dev/null 2>&1 || need_apt+=(postgresql-server-dev-15)
command -v nats-server >/dev/null || need_apt+=(nats-server)
command -v dpkg-source >/dev/null || need_apt+=(dpkg-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# pgvector is not in bookworm: build it from Debian's trixie source package, reusing the mirror
# URI this machine's apt sources already name.
if [ ! -f /usr/share/postgresql/15/extension/vector.control ]; then
  mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}';
              cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '/^deb / {print $2}'; } \
            | grep -E '/debian/?$' | head -n 1 || true)
  [ -n "$mirror" ] || { echo "no Debian mirror found in apt sources" >&2; exit 1; }
  log "building pgvector from ${mirror} trixie source"
  cat > /etc/apt/sources.list.d/vigil-trixie-src.list <<SRC
deb-src ${mirror%/} trixie main
SRC
  apt-get update -qq
  work=$(mktemp -d)
  (cd "$work" && apt-get source -qq pgvector >/dev/null 2>&1)
  src=$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
  make -s -C "$src" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null
  make -s -C "$src" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config install >/dev/null
  rm -rf "$work"
fi

# PostgreSQL
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# NATS with JetStream
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  log "starting nats-server with JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 1; done
fi
log "services ready"

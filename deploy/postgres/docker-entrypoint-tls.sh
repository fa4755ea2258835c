#!/usr/bin/env bash
# Entry point of the compose PostgreSQL container: PostgreSQL refuses a TLS key that others can
# read, and bind-mounted files keep the host's owner, so the certificate and key are copied to
# /etc/postgresql/tls owned by postgres with mode 0600 before the image's own entry point runs.
set -euo pipefail

install -d -o postgres -g postgres -m 0700 /etc/postgresql/tls
install -o postgres -g postgres -m 0644 /etc/postgresql/certs/server.crt /etc/postgresql/tls/server.crt
install -o postgres -g postgres -m 0600 /etc/postgresql/certs/server.key /etc/postgresql/tls/server.key

exec docker-entrypoint.sh "$@"

#!/bin/sh
# Entry point of the NATS containers: exports each user's password from its secret file as the
# variable nats-server.conf references (VIGIL_NATS_<ROLE>_PASSWORD), then runs the server.
# /run/secrets/nats_detector_password -> VIGIL_NATS_DETECTOR_PASSWORD, and so on.
set -eu

secrets_dir="${NATS_SECRETS_DIR:-/run/secrets}"
for file in "$secrets_dir"/nats_*_password; do
  [ -r "$file" ] || continue
  role=$(basename "$file" _password)
  role=${role#nats_}
  name="VIGIL_NATS_$(printf '%s' "$role" | tr '[:lower:]' '[:upper:]')_PASSWORD"
  value=$(cat "$file")
  # nats-server parses the variable as a config value: quoted, any password stays a string.
  export "$name=\"$value\""
done

exec "$@"

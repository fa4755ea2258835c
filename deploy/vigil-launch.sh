#!/usr/bin/env bash
# Starts `vigil "$@"` from this checkout (the Docker image's entry point and the systemd units').
# Secrets come from files: for each NAME below, NAME_FILE=/path (a Docker/Compose secret, a
# Kubernetes Secret volume, a systemd credential) sets NAME to the file's content and is then unset,
# because Vigil refuses unknown VIGIL_* variables at boot.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

for name in DATABASE_URL NATS_PASSWORD VIGIL_DATA_KEY VIGIL_AUDIT_KEY VIGIL_ADMIN_PASSWORD VIGIL_METRICS_TOKEN; do
  file_var="${name}_FILE"
  file="${!file_var:-}"
  if [[ -n "${file}" ]]; then
    if [[ -n "${!name:-}" ]]; then
      echo "vigil-launch: set ${name} or ${file_var}, not both" >&2
      exit 64
    fi
    if [[ ! -r "${file}" ]]; then
      echo "vigil-launch: ${file_var} names a file that cannot be read" >&2
      exit 66
    fi
    value="$(<"${file}")"
    export "${name}=${value}"
    unset "${file_var}"
  fi
done

# glibc's malloc keeps freed memory for the next frame instead of returning it to the kernel and
# faulting it in again: each 1080p frame's decode writes a fresh 6 MB buffer, and on a VM a page fault
# costs about 10 us (deploy/README.md, Capacity). A value the operator sets is kept.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456}"

exec node "${root}/services/cli/bin/vigil.mjs" "$@"

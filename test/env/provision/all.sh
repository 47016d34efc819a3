#!/usr/bin/env bash
# Provisions every real component of the test bed into the cache. Idempotent: a warm cache makes
# each step a stamp check. Usage: all.sh [step...]  (default: every step)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$root/scripts/cache-dir.sh"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(apt kubectl-helm kubernetes mediasoup-worker cassandra)
for step in "${steps[@]}"; do
  start=$(date +%s)
  case "$step" in
    mediasoup-worker) bash "$root/media-pod/worker-build/build.sh" >/dev/null ;;
    *) bash "$here/$step.sh" ;;
  esac
  echo "amphi: provisioned $step in $(( $(date +%s) - start )) s" >&2
done

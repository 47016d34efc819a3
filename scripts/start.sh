#!/usr/bin/env bash
# Local mode: the whole platform on one machine, no Kubernetes (local/main.ts): redis-server (unless
# REDIS_URL is given), the control API, the operator's placement loop, one media pod with one
# mediasoup worker per core, and a browser page. Prints the URL to open; Ctrl-C stops everything.
# Settings: AMPHI_PORT (8080; 0 = any free port), AMPHI_HOST (127.0.0.1), AMPHI_STATE_DIR
# (~/.local/state/amphi), REDIS_URL, CASSANDRA_CONTACT_POINTS (else an on-disk JSONL store),
# MEDIA_WORKERS (cores), MEDIA_BASE_PORT (a free run of ports).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/node24.sh
[ -d node_modules/mediasoup ] && [ -d node_modules/esbuild ] || {
  echo "amphi: node modules are missing: run 'npm ci' first" >&2
  exit 1
}
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ]; then
  echo "amphi: redis-server is missing; installing the Debian packages (test/env/provision/apt.sh)" >&2
  bash test/env/provision/apt.sh || {
    echo "amphi: could not install redis-server: install the Debian package redis-server, or set REDIS_URL" >&2
    exit 1
  }
fi
if [ -z "${MEDIASOUP_WORKER_BIN:-}" ]; then
  MEDIASOUP_WORKER_BIN="$(bash media-pod/worker-build/build.sh --print-path)"
  if [ ! -x "$MEDIASOUP_WORKER_BIN" ]; then
    echo "amphi: building the mediasoup worker once (media-pod/worker-build/build.sh; minutes)" >&2
    bash media-pod/worker-build/build.sh >&2
  fi
  export MEDIASOUP_WORKER_BIN
fi
exec node --import tsx local/main.ts "$@"

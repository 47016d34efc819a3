# Sourced (after node24.sh): installs node_modules with `npm ci` when package-lock.json changed.
# mediasoup's postinstall would try to build its worker with a download: the project builds the
# worker itself (media-pod/worker-build), so point mediasoup at that binary first.
amphi_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDIASOUP_WORKER_BIN="$(bash "$amphi_root/media-pod/worker-build/build.sh" --print-path)" || return 1 2>/dev/null || exit 1
export MEDIASOUP_WORKER_BIN
amphi_lock_hash="$(sha256sum "$amphi_root/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$amphi_root/node_modules/.amphi-lock-hash" 2>/dev/null)" != "$amphi_lock_hash" ]; then
  echo "amphi: installing node modules (npm ci)" >&2
  # Per-request timeout: npm's default (5 min, 2 retries) sits 15 min on a stalled registry.
  ( cd "$amphi_root" && npm ci --no-fund --no-audit --loglevel=error --fetch-timeout=120000 --fetch-retries=2 ) || { echo "amphi: npm ci failed" >&2; return 1 2>/dev/null || exit 1; }
  echo "$amphi_lock_hash" > "$amphi_root/node_modules/.amphi-lock-hash"
fi

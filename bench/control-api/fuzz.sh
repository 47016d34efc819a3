#!/usr/bin/env bash
# Fuzz the control API from its own OpenAPI document with schemathesis (PyPI): a real Redis, a
# placed room, a valid user token. Every check is on (not_a_server_error among them); exits non-zero
# on any failure.   bash bench/control-api/fuzz.sh [extra schemathesis args]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/node24.sh >/dev/null
venv="${SCHEMATHESIS_VENV:-${AMPHI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/amphi}/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis
fi
out="$(mktemp)"
node --import tsx bench/control-api/fuzz-server.ts >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '"url"' "$out" && break; sleep 0.2; done
url="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$out")"
token="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["token"])' "$out")"
# schemathesis keeps a .schemathesis/ cache in its working directory: not in the checkout.
cd "$(mktemp -d)"
"$venv/bin/schemathesis" run "$url/v1/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --max-examples "${FUZZ_EXAMPLES:-60}" --request-timeout 10 "$@"

#!/usr/bin/env bash
# The whole test suite, on a fresh machine: Node 24, node modules, the real test bed (provisioned
# into the cache, idempotent), then jest. Extra arguments go to jest (e.g. a path filter).
# Results: .test-results/jest.json (jest --json).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/node24.sh
. scripts/deps.sh
bash test/env/provision/all.sh
export AMPHI_RUN_DIR="${AMPHI_RUN_DIR:-$(mktemp -d -t amphi-run-XXXXXX)}"
mkdir -p .test-results
exec node --experimental-vm-modules node_modules/jest/bin/jest.js \
  --json --outputFile=.test-results/jest.json "$@"

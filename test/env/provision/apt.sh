#!/usr/bin/env bash
# Installs the Debian packages listed in apt-packages.txt that are missing (needs root or sudo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/apt-packages.txt" | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "amphi: missing Debian packages (${missing[*]}) and not root; install them with apt-get" >&2; exit 1; }
  sudo="sudo"
fi
echo "amphi: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Waits up to 10 min for dpkg's lock; a stalled mirror fails after 30 s of silence, not minutes.
lock=(-o DPkg::Lock::Timeout=600 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30)
# DPkg::Lock::Timeout does not cover the lists lock of `apt-get update` (apt 2.6): retry while a
# concurrent apt-get holds it.
for attempt in $(seq 60); do
  if out="$($sudo apt-get "${lock[@]}" update -qq 2>&1)"; then break; fi
  if [ "$attempt" -lt 60 ] && grep -q 'Could not get lock' <<<"$out"; then
    [ "$attempt" -eq 1 ] && echo "amphi: another apt-get holds apt's lists lock; waiting for it (up to 10 min)" >&2
    sleep 10
    continue
  fi
  echo "$out" >&2
  echo "amphi: apt-get update failed: is Debian's package mirror reachable?" >&2; exit 1
done
$sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "amphi: apt-get install failed for: ${missing[*]}" >&2; exit 1; }

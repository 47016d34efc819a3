#!/usr/bin/env bash
# The real Kubernetes control plane of the test bed, provisioned from package registries only, into
# $AMPHI_CACHE/kubernetes-$KUBERNETES_VERSION/bin:
#   kube-apiserver, kube-controller-manager, kube-scheduler  built with Go from a wrapper module
#       (test/env/kube-build) that requires k8s.io/kubernetes; its go.mod is generated here, with a
#       replace line per staging module derived from that tag's own go.mod (Go module proxy)
#   kwok   go install sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION (Go module proxy)
#   etcd   Debian trixie's etcd-server $ETCD_DEB_VERSION .deb, fetched with a private apt state
#       (the system's apt sources are not touched) and unpacked with dpkg -x
# Idempotent: each part has a stamp holding its fingerprint; a warm run only compares stamps.
# Usage: kubernetes.sh [--force]   (AMPHI_BUILD_JOBS=N sets go build -p, default: number of cores;
#   AMPHI_GO_TIMEOUT=S bounds each go command, default 2400 s)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$root/scripts/versions.env"
. "$root/scripts/cache-dir.sh"

kver="$KUBERNETES_VERSION"
dest="$AMPHI_CACHE/kubernetes-$kver"
bin="$dest/bin"
src="$root/test/env/kube-build"
components=(kube-apiserver kube-controller-manager kube-scheduler)

die() { echo "amphi: kubernetes: $*" >&2; exit 1; }
log() { echo "amphi: kubernetes: $*" >&2; }
[ "${1:-}" = "--force" ] && rm -f "$dest"/.stamp-*

# Fingerprints: what each part was built from. A changed pin or wrapper source rebuilds that part only.
kube_fp="kubernetes=$kver $(cat "$src"/*/main.go | sha256sum | cut -c1-16)"
kwok_fp="kwok=$KWOK_VERSION"
etcd_fp="etcd-server=$ETCD_DEB_VERSION"
# fresh PART FINGERPRINT BINARY...: the part's stamp matches and its binaries are there.
fresh() {
  local part="$1" fp="$2" b
  shift 2
  [ -f "$dest/.stamp-$part" ] && [ "$(<"$dest/.stamp-$part")" = "$fp" ] || return 1
  for b in "$@"; do [ -x "$bin/$b" ] || return 1; done
}
fresh_etcd() { fresh etcd "$etcd_fp" etcd; }
fresh_kwok() { fresh kwok "$kwok_fp" kwok; }
fresh_kube() { fresh kube "$kube_fp" "${components[@]}"; }
if fresh_etcd && fresh_kwok && fresh_kube; then exit 0; fi

mkdir -p "$bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
times="$dest/build-times.txt"
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need_go() {
  command -v go >/dev/null || die "go is not on PATH: install Go (>= the 'go' line of k8s.io/kubernetes v$kver's go.mod) to build $1"
}
# Fail on a missing toolchain at once, not after the etcd download.
if ! fresh_kwok || ! fresh_kube; then need_go "kwok and the Kubernetes control plane"; fi

# bounded WHAT CMD...: CMD under a wall-clock limit. The go command has no network timeout of its
# own: on a stalled module proxy it waits forever (measured: still waiting after 15 min).
# --foreground keeps Ctrl-C working; the go command itself does the downloads.
go_timeout="${AMPHI_GO_TIMEOUT:-2400}"
bounded() {
  local what="$1" rc=0
  shift
  timeout --foreground --kill-after=10 "$go_timeout" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    log "$what did not finish within $go_timeout s: a stalled download from $(go env GOPROXY)? (AMPHI_GO_TIMEOUT=<seconds> sets the limit)"
  fi
  return "$rc"
}
# probe_proxy MODULE@VERSION: the proxy answers for it within a minute (instant when cached).
probe_proxy() {
  local out rc=0
  out="$(cd "$tmp" && timeout --foreground 60 go list -m "$1" 2>&1)" || rc=$?
  [ "$rc" -eq 0 ] && return 0
  [ "$rc" -eq 124 ] && die "the Go module proxy ($(go env GOPROXY)) did not answer within 60 s for $1"
  die "the Go module proxy ($(go env GOPROXY)) cannot serve $1: $out"
}

# ---- etcd: Debian trixie's etcd-server .deb --------------------------------------------------------
provision_etcd() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "apt-get and dpkg are needed to fetch etcd-server (Debian)"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"
  # The mirror the system already uses (first .../debian URI), else Debian's default.
  local mirror="${AMPHI_DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/*$/\1/p' | head -n1)"
    [ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)\/\?[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)"
    [ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
  fi
  local a="$tmp/apt"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" "$a/preferences.d" "$a/deb"
  touch "$a/status"
  echo "deb [signed-by=$keyring] $mirror trixie main" >"$a/sources.list"
  # Short network timeouts: with apt's defaults a stalled mirror costs about 4 minutes.
  local opts=(-o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/sources.list.d"
    -o "Dir::Etc::PreferencesParts=$a/preferences.d" -o "Dir::State::Lists=$a/lists"
    -o "Dir::State::status=$a/status" -o "Dir::Cache=$a/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User="$(id -un)" -o Acquire::Languages=none
    -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=1)
  # --error-on=any: a failed fetch is an error (apt-get update exits 0 on one by default, and the
  # next step would blame a missing etcd-server instead of the mirror).
  apt-get "${opts[@]}" update -qq --error-on=any >"$tmp/apt.log" 2>&1 \
    || die "apt-get update of Debian trixie ($mirror) failed: $(tail -n 5 "$tmp/apt.log")"
  local versions version
  versions="$(apt-cache "${opts[@]}" madison etcd-server | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')"
  version="$(grep -E "^${ETCD_DEB_VERSION//./\\.}([-+~]|$)" <<<"$versions" | head -n1 || true)"
  [ -n "$version" ] || die "Debian trixie has no etcd-server $ETCD_DEB_VERSION (has: $(echo $versions)); adjust ETCD_DEB_VERSION in scripts/versions.env"
  (cd "$a/deb" && apt-get "${opts[@]}" download -qq "etcd-server=$version" >"$tmp/apt.log" 2>&1) \
    || die "apt-get download etcd-server=$version failed: $(tail -n 5 "$tmp/apt.log")"
  dpkg -x "$a"/deb/etcd-server_*.deb "$tmp/etcd"
  [ -x "$tmp/etcd/usr/bin/etcd" ] || die "etcd-server_$version.deb has no usr/bin/etcd"
  "$tmp/etcd/usr/bin/etcd" --version >"$tmp/etcd.version" 2>&1 || die "the unpacked etcd does not run: $(cat "$tmp/etcd.version")"
  install -m 0755 "$tmp/etcd/usr/bin/etcd" "$bin/etcd"
  log "etcd $version from Debian trixie ($(head -n1 "$tmp/etcd.version"))"
}

# ---- kwok -----------------------------------------------------------------------------------------
provision_kwok() {
  need_go kwok
  probe_proxy "sigs.k8s.io/kwok@v$KWOK_VERSION"
  local t0; t0="$(now)"
  bounded "go install kwok" env GOBIN="$tmp/kwok" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags '-s -w' "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" \
    || die "go install sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION failed"
  install -m 0755 "$tmp/kwok/kwok" "$bin/kwok"
  echo "$(date -u +%FT%TZ) kwok $(took "$t0") s" >>"$times"
  log "built kwok v$KWOK_VERSION in $(took "$t0") s"
}

# ---- kube-apiserver, kube-controller-manager, kube-scheduler ----------------------------------------
provision_kube() {
  need_go "kube-apiserver, kube-controller-manager and kube-scheduler"
  local staging="v0.${kver#*.}" # 1.35.4 -> v0.35.4: the staging modules' tag for this release
  local work="$dest/build"      # kept: the generated go.mod/go.sum show what was built
  rm -rf "$work" && mkdir -p "$work"
  cp -R "$src"/. "$work"/
  local t0 dl gomod
  probe_proxy "k8s.io/kubernetes@v$kver"
  t0="$(now)"
  dl="$(cd "$work" && bounded "go mod download" env GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$kver")" \
    || die "go mod download k8s.io/kubernetes@v$kver failed: $dl"
  gomod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$dl")"
  [ -f "$gomod" ] || die "go mod download gave no go.mod for k8s.io/kubernetes@v$kver: $dl"
  {
    echo "// Generated by test/env/provision/kubernetes.sh from k8s.io/kubernetes@v$kver's go.mod."
    echo "module amphi.local/kube-build"
    echo
    grep -E '^(go|godebug) ' "$gomod"
    echo
    echo "require k8s.io/kubernetes v$kver"
    echo
    echo "replace ("
    sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/k8s\.io/.*$|\t\1 => \1 '"$staging"'|p' "$gomod"
    echo ")"
  } >"$work/go.mod"
  local n; n="$(grep -c "=> k8s.io/.* $staging\$" "$work/go.mod" || true)"
  [ "$n" -gt 10 ] || die "found only $n staging modules in k8s.io/kubernetes@v$kver's go.mod; see $work/go.mod"
  (cd "$work" && bounded "go mod tidy" go mod tidy >"$tmp/tidy.log" 2>&1) || die "go mod tidy in $work failed: $(tail -n 20 "$tmp/tidy.log")"
  echo "$(date -u +%FT%TZ) go-mod-download+tidy $(took "$t0") s" >>"$times"
  log "resolved k8s.io/kubernetes v$kver with $n staging replaces in $(took "$t0") s"

  local major="${kver%%.*}" minor="${kver#*.}"
  minor="${minor%%.*}"
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$kver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for c in "${components[@]}"; do
    t0="$(now)"
    (cd "$work" && bounded "go build $c" env CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -p "${AMPHI_BUILD_JOBS:-$(nproc)}" \
      -trimpath -ldflags "$ldflags" -o "$tmp/$c" "./$c") || die "go build of $c failed"
    "$tmp/$c" --version >/dev/null || die "the built $c does not run"
    install -m 0755 "$tmp/$c" "$bin/$c"
    echo "$(date -u +%FT%TZ) $c $(took "$t0") s" >>"$times"
    log "built $c in $(took "$t0") s"
  done
}

fresh_etcd || { provision_etcd && echo "$etcd_fp" >"$dest/.stamp-etcd"; }
fresh_kwok || { provision_kwok && echo "$kwok_fp" >"$dest/.stamp-kwok"; }
fresh_kube || { provision_kube && echo "$kube_fp" >"$dest/.stamp-kube"; }
fresh_etcd && fresh_kwok && fresh_kube || die "binaries missing in $bin after provisioning"
log "ready in $bin: $(cd "$bin" && echo *)"

#!/usr/bin/env bash
# Builds mediasoup's C++ worker (mediasoup-worker) offline: from the worker sources inside the npm
# package "mediasoup", Debian's libraries and two registry downloads (meson + ninja from PyPI,
# libsrtp 2 from Debian's source package). Nothing comes from GitHub or wrapdb.
#
#   build.sh [--source DIR] [--out DIR] [--jobs N]   build if needed; last stdout line: the binary
#   build.sh --print-path [--source DIR] [--out DIR]  print where the binary is (or will be); no build
#
#   --source  the mediasoup npm package directory (default: <repo>/node_modules/mediasoup; before
#             `npm ci` the version is read from <repo>/package-lock.json instead)
#   --out     where built workers go (default: $AMPHI_CACHE/mediasoup-worker)
#
# The binary lands in <out>/<mediasoup version>-<hash of the build inputs>/mediasoup-worker. The
# inputs are the mediasoup version (a published npm version never changes, so it names the worker
# sources), every file beside this script (subproject shims, patches, checksums) and the pins in
# scripts/versions.env that the build uses. A warm run only checks that the binary is there.
#
# How the worker's meson subprojects are satisfied (worker/subprojects/*.wrap would download them):
#   libuv, openssl, flatbuffers, abseil-cpp  -> shims over Debian's -dev packages (pkg-config)
#   unordered_dense                          -> a header mapping it onto the std containers
#   libsrtp3 (versatica's libsrtp 3.0 fork)  -> a libsrtp 3.0 API layer (real .c/.h) over libsrtp
#                                               2.x built from source against OpenSSL, static
# and patches/ fixes a worker crash on the first DTLS handshake with Debian's kTLS-enabled OpenSSL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

die() {
  echo "mediasoup-worker build: $*" >&2
  exit 1
}
say() { echo "mediasoup-worker build: $*" >&2; }

print_path=false
source_dir=""
out_root=""
jobs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --print-path) print_path=true ;;
    --source) source_dir="${2:?--source needs a directory}"; shift ;;
    --out) out_root="${2:?--out needs a directory}"; shift ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

[ -f "$root/scripts/versions.env" ] || die "missing $root/scripts/versions.env (the version pins)"
# shellcheck source=../../scripts/versions.env
. "$root/scripts/versions.env"
# shellcheck source=../../scripts/cache-dir.sh
. "$root/scripts/cache-dir.sh"
for pin in MESON_VERSION NINJA_VERSION LIBSRTP_VERSION; do
  [ -n "${!pin:-}" ] || die "scripts/versions.env has no $pin"
done
out_root="${out_root:-$AMPHI_CACHE/mediasoup-worker}"

# --- Which mediasoup ------------------------------------------------------------------------------
json_version() { sed -n 's/^[[:space:]]*"version": *"\([^"]*\)".*/\1/p' "$1" | head -n1; }
if [ -n "$source_dir" ]; then
  [ -f "$source_dir/package.json" ] || die "--source $source_dir has no package.json (expected the mediasoup npm package)"
elif [ -f "$root/node_modules/mediasoup/package.json" ]; then
  source_dir="$root/node_modules/mediasoup"
fi
if [ -n "$source_dir" ]; then
  ms_version="$(json_version "$source_dir/package.json")"
  [ -n "$ms_version" ] || die "cannot read the version in $source_dir/package.json"
elif $print_path && [ -f "$root/package-lock.json" ]; then
  # Before `npm ci` (scripts/deps.sh exports MEDIASOUP_WORKER_BIN before installing mediasoup).
  ms_version="$(awk '/^    "node_modules\/mediasoup": \{/ {f=1; next} f && /"version":/ {gsub(/[",]/, "", $2); print $2; exit}' "$root/package-lock.json")"
  [ -n "$ms_version" ] || die "package-lock.json does not lock node_modules/mediasoup"
else
  die "no mediasoup sources: $root/node_modules/mediasoup is missing (run npm ci) and no --source was given"
fi

# --- Where it goes: hash of the build inputs ------------------------------------------------------
inputs_hash="$(
  {
    echo "mediasoup=$ms_version MESON_VERSION=$MESON_VERSION NINJA_VERSION=$NINJA_VERSION LIBSRTP_VERSION=$LIBSRTP_VERSION"
    cd "$here" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-12
)"
out_dir="$out_root/$ms_version-$inputs_hash"
bin="$out_dir/mediasoup-worker"

if $print_path; then
  echo "$bin"
  exit 0
fi
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

# --- Cold build -----------------------------------------------------------------------------------
[ -f "$source_dir/worker/meson.build" ] || die "$source_dir/worker/meson.build is missing: the mediasoup package must contain the worker sources"
started=$(date +%s)
mkdir -p "$out_root"
exec 9>"$out_root/.lock-$ms_version-$inputs_hash"
flock 9 # another build of the same inputs (e.g. two test runs) finishes first
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

# Tools and libraries from Debian (test/env/provision/apt-packages.txt lists them).
missing=()
command -v cc >/dev/null || missing+=("a C compiler (Debian: gcc)")
command -v c++ >/dev/null || missing+=("a C++ compiler (Debian: g++)")
command -v pkg-config >/dev/null || missing+=("pkg-config")
command -v flatc >/dev/null || missing+=("flatc (Debian: flatbuffers-compiler)")
command -v python3 >/dev/null || missing+=("python3 (Debian: python3, python3-venv)")
command -v patch >/dev/null || missing+=("patch")
if command -v pkg-config >/dev/null; then
  for module in "openssl:libssl-dev" "libuv:libuv1-dev" "flatbuffers:libflatbuffers-dev" \
    "absl_base:libabsl-dev" "absl_strings:libabsl-dev" "absl_optional:libabsl-dev" "absl_memory:libabsl-dev"; do
    pkg-config --exists "${module%%:*}" || missing+=("pkg-config module ${module%%:*} (Debian: ${module#*:})")
  done
fi
[ ${#missing[@]} -eq 0 ] || die "missing build dependencies: $(printf '%s; ' "${missing[@]}")install them (bash test/env/provision/apt.sh installs the project's Debian packages)"

# meson + ninja from PyPI, in a cached virtualenv.
venv="$AMPHI_CACHE/meson-$MESON_VERSION-ninja-$NINJA_VERSION"
if [ ! -f "$venv/.complete" ]; then
  say "installing meson $MESON_VERSION and ninja $NINJA_VERSION from PyPI into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "meson==$MESON_VERSION" "ninja==$NINJA_VERSION" \
    || die "pip install meson==$MESON_VERSION ninja==$NINJA_VERSION failed: is PyPI reachable?"
  touch "$venv/.complete"
fi
export PATH="$venv/bin:$PATH" # meson looks for ninja on PATH

# libsrtp 2 source: Debian's source package (upstream's release tarball as .orig.tar.gz).
srtp_tar="libsrtp2_$LIBSRTP_VERSION.orig.tar.gz"
srtp_sum="$(awk -v f="$srtp_tar" '$2 == f {print $1}' "$here/sources.sha256")"
[ -n "$srtp_sum" ] || die "media-pod/worker-build/sources.sha256 has no checksum for $srtp_tar (LIBSRTP_VERSION=$LIBSRTP_VERSION)"
downloads="$AMPHI_CACHE/downloads"
if ! echo "$srtp_sum  $downloads/$srtp_tar" | sha256sum -c --status 2>/dev/null; then
  say "fetching Debian's source package libsrtp2 $LIBSRTP_VERSION"
  command -v apt-get >/dev/null || die "apt-get is needed to fetch Debian's source package libsrtp2 (or put $srtp_tar into $downloads)"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring is missing (Debian: debian-archive-keyring)"
  apt_dir="$(mktemp -d)"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache" "$apt_dir/dl" "$downloads"
  {
    for suite in bookworm trixie; do
      echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main"
    done
  } >"$apt_dir/sources.list"
  # A private source list and state: the system's apt configuration stays as it is.
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Dir::State::status=/dev/null
    -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update >"$apt_dir/log" 2>&1 \
    || die "apt-get update (Debian source lists) failed: $(tail -n3 "$apt_dir/log")"
  deb_version="$(apt-cache "${apt_opts[@]}" showsrc libsrtp2 2>/dev/null | sed -n "s/^Version: \($LIBSRTP_VERSION-.*\)/\1/p" | head -n1)"
  [ -n "$deb_version" ] || die "no Debian source package libsrtp2 $LIBSRTP_VERSION-* in bookworm or trixie"
  (cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" -qq source --download-only "libsrtp2=$deb_version" >"$apt_dir/log" 2>&1) \
    || die "apt-get source libsrtp2=$deb_version failed: $(tail -n3 "$apt_dir/log")"
  echo "$srtp_sum  $apt_dir/dl/$srtp_tar" | sha256sum -c --status \
    || die "$srtp_tar from Debian does not match the sha256 in media-pod/worker-build/sources.sha256"
  mv "$apt_dir/dl/$srtp_tar" "$downloads/$srtp_tar"
  rm -rf "$apt_dir"
fi

# A private copy of the worker sources, with the shims and patches.
work="$out_root/.build-$ms_version-$inputs_hash"
rm -rf "$work"
mkdir -p "$work"
log="$work/build.log"
fail() {
  say "$1 failed; last lines of $log:"
  tail -n 40 "$log" >&2
  exit 1
}
say "building mediasoup $ms_version worker in $work (log: $log)"
cp -a "$source_dir/worker" "$work/worker"
rm -rf "$work/worker/out"
for p in "$here"/patches/*.patch; do
  patch -p1 -s -d "$work" <"$p" >>"$log" 2>&1 || fail "applying $(basename "$p")"
done
subprojects="$work/worker/subprojects"
for shim in "$here"/subprojects/*/; do
  name="$(basename "$shim")"
  [ -f "$subprojects/$name.wrap" ] || die "mediasoup $ms_version has no subprojects/$name.wrap: update media-pod/worker-build/subprojects"
  dir="$(sed -n 's/^directory *= *//p' "$subprojects/$name.wrap")"
  [ -n "$dir" ] || die "subprojects/$name.wrap names no directory"
  cp -a "$shim" "$subprojects/$dir"
done
mkdir -p "$subprojects/libsrtp2"
tar -xzf "$downloads/$srtp_tar" -C "$subprojects/libsrtp2" --strip-components=1

build="$work/worker/out/Release/build"
# The options of mediasoup's own Release build (worker/tasks.py); ms_* options keep their defaults.
(cd "$work/worker" && meson setup --wrap-mode=nodownload --prefix "$work/worker/out/Release" \
  --bindir "" --libdir "" --buildtype release -Db_ndebug=true "$build") >>"$log" 2>&1 || fail "meson setup"
ninja -C "$build" -j "${jobs:-$(nproc)}" mediasoup-worker >>"$log" 2>&1 || fail "ninja"

# Run with no arguments, the worker explains it must be spawned by Node and exits 41.
set +e
"$build/mediasoup-worker" >/dev/null 2>&1
code=$?
set -e
[ "$code" -eq 41 ] || fail "the built worker's self-check (expected exit code 41, got $code)"
if ldd "$build/mediasoup-worker" | grep -q 'libsrtp2'; then
  fail "link check (libsrtp2 must be static, not $(ldd "$build/mediasoup-worker" | grep libsrtp2))"
fi

rm -rf "$out_dir.part"
mkdir -p "$out_dir.part"
cp "$build/mediasoup-worker" "$out_dir.part/mediasoup-worker"
{
  echo "mediasoup $ms_version worker, built $(date -u +%FT%TZ) by media-pod/worker-build/build.sh in $(($(date +%s) - started)) s"
  echo "inputs hash $inputs_hash; meson $MESON_VERSION, ninja $NINJA_VERSION, libsrtp $LIBSRTP_VERSION (static, OpenSSL)"
  for module in openssl libuv flatbuffers absl_base; do echo "$module $(pkg-config --modversion "$module")"; done
  echo "shared libraries:"
  ldd "$out_dir.part/mediasoup-worker"
} >"$out_dir.part/BUILD-INFO"
rm -rf "$out_dir"
mv "$out_dir.part" "$out_dir"
rm -rf "$work"
say "built $bin in $(($(date +%s) - started)) s"
echo "$bin"

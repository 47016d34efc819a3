#!/usr/bin/env bash
# Apache Cassandra server jars from Maven Central (cassandra-all + runtime dependencies) into
# $AMPHI_CACHE/cassandra-<ver>/lib, a check for the Java 17 that runs them, and a class-data-sharing
# archive for that JVM (cds/, made by one training start). Idempotent: warm, it is two stamp checks.
# test/env/cassandra.ts starts the server from there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$root/scripts/versions.env"
. "$root/scripts/cache-dir.sh"
ver="$CASSANDRA_VERSION"
dest="$AMPHI_CACHE/cassandra-$ver"

# Sets java17 (path of a Java 17 `java`; Cassandra 5.0 runs on 11 or 17, the test bed uses 17) and
# java17_build (its exact build, which the CDS archive is tied to).
find_java17() {
  local candidate settings
  for candidate in ${AMPHI_JAVA17:-} ${JAVA_HOME:+"$JAVA_HOME/bin/java"} /usr/lib/jvm/*17*/bin/java \
    "$(command -v java 2>/dev/null || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    settings="$("$candidate" -XshowSettings:properties -version 2>&1)" || continue
    if grep -qE '^ +java\.specification\.version = 17$' <<<"$settings"; then
      java17="$(readlink -f "$candidate")"
      java17_build="$(sed -n 's/^ *java\.vm\.version = //p' <<<"$settings")"
      return 0
    fi
  done
  return 1
}

find_java17 || {
  echo "amphi: Cassandra $ver needs Java 17 and none was found (looked at \$AMPHI_JAVA17," \
    "\$JAVA_HOME, /usr/lib/jvm/*17*/bin/java, java on PATH). Install Debian package" \
    "openjdk-17-jre-headless (or set AMPHI_JAVA17 to a Java 17 java binary)." >&2
  exit 1
}

# 1. The jars.
if [ ! -f "$dest/.done" ]; then
  command -v mvn >/dev/null || {
    echo "amphi: Maven (mvn) is missing; it resolves the Cassandra jars from Maven Central." \
      "Install Debian package maven." >&2
    exit 1
  }
  tmp="$dest.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  rm -rf "$tmp" && mkdir -p "$tmp/lib"
  # Maven runs on the Java 17 found above; its downloads stay in the cache for re-runs.
  # Network timeouts: Maven 3.8's wagon waits 30 min on a stalled read (measured: a stalled mirror
  # still hung after 15 min); these make it fail in minutes, and `timeout` bounds the whole step.
  # (maven.wagon.* for Maven 3.8, aether.connector.* for 3.9's transport.)
  JAVA_HOME="$(dirname "$(dirname "$java17")")" \
    timeout --foreground --kill-after=10 "${AMPHI_MAVEN_TIMEOUT:-1200}" \
    mvn --batch-mode --quiet --no-transfer-progress \
    -Dmaven.wagon.rto=30000 -Dmaven.wagon.http.retryHandler.count=1 \
    -Daether.connector.connectTimeout=30000 -Daether.connector.requestTimeout=30000 \
    -Dmaven.repo.local="$AMPHI_CACHE/maven-repo" \
    -f "$root/test/env/cassandra/pom.xml" \
    -Dcassandra.version="$ver" -Dlib.dir="$tmp/lib" \
    dependency:copy-dependencies >"$tmp/mvn.log" 2>&1 || {
    tail -n 40 "$tmp/mvn.log" >&2
    echo "amphi: resolving org.apache.cassandra:cassandra-all:$ver from Maven Central failed" \
      "(is Maven Central, or the mirror in ~/.m2/settings.xml, reachable?)" >&2
    exit 1
  }
  # Sanity: the server jar, the jamm agent and JNA must be there.
  for jar in "cassandra-all-$ver.jar" 'jamm-*.jar' 'jna-*.jar'; do
    compgen -G "$tmp/lib/$jar" >/dev/null || { echo "amphi: $jar missing after Maven resolution" >&2; exit 1; }
  done
  rm -rf "$dest" && mkdir -p "$dest"
  mv "$tmp/lib" "$dest/lib"
  touch "$dest/.done"
fi
# Which java test/env/cassandra.ts runs (it may have moved since the jars were fetched).
[ "$(cat "$dest/java17" 2>/dev/null)" = "$java17" ] || echo "$java17" >"$dest/java17"

# 2. The class-data-sharing archive, valid only for this JVM build and these jars.
cds_key="$java17 $java17_build"
if [ "$(cat "$dest/cds/.done" 2>/dev/null)" != "$cds_key" ]; then
  rm -rf "$dest/cds" && mkdir -p "$dest/cds"
  [ -x "$root/node_modules/.bin/tsx" ] || { echo "amphi: node_modules is missing (run npm ci first)" >&2; exit 1; }
  . "$root/scripts/node24.sh"
  ( cd "$root" && node_modules/.bin/tsx test/env/provision/cassandra-cds.ts "$dest/cds/cassandra.jsa.part" ) || {
    rm -rf "$dest/cds"
    echo "amphi: the Cassandra training start for its CDS archive failed (see the log named above)" >&2
    exit 1
  }
  mv "$dest/cds/cassandra.jsa.part" "$dest/cds/cassandra.jsa"
  echo "$cds_key" >"$dest/cds/.done"
fi

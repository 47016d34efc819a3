#!/usr/bin/env bash
# Apache Cassandra server jars from Maven Central (cassandra-all + runtime dependencies) into
# $AMPHI_CACHE/cassandra-<ver>/lib, plus a check for the JDK 17 that runs them.
# Idempotent: a warm cache is a stamp check. test/env/cassandra.ts starts the server from there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$root/scripts/versions.env"
. "$root/scripts/cache-dir.sh"
ver="$CASSANDRA_VERSION"
dest="$AMPHI_CACHE/cassandra-$ver"

# Prints the path of a Java 17 `java` (Cassandra 5.0 supports 11 and 17; the test bed uses 17).
find_java17() {
  local candidate
  for candidate in ${AMPHI_JAVA17:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*17*/bin/java \
    "$(command -v java 2>/dev/null || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -XshowSettings:properties -version 2>&1 | grep -qE '^ +java\.specification\.version = 17$'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

java17="$(find_java17)" || {
  echo "amphi: Cassandra $ver needs a Java 17 JDK/JRE and none was found (looked at \$AMPHI_JAVA17," \
    "\$JAVA_HOME, /usr/lib/jvm/*17*, java on PATH). Install Debian package openjdk-17-jre-headless." >&2
  exit 1
}

if [ -f "$dest/.done" ]; then
  # Warm: remember which java to use (it may have moved) and stop.
  [ "$(cat "$dest/java17" 2>/dev/null)" = "$java17" ] || echo "$java17" >"$dest/java17"
  exit 0
fi

command -v mvn >/dev/null || {
  echo "amphi: Maven (mvn) is missing; it resolves the Cassandra jars from Maven Central." \
    "Install Debian package maven." >&2
  exit 1
}

tmp="$dest.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp" && mkdir -p "$tmp/lib"
# Maven itself runs on the Java 17 found above; downloads are kept in the cache for re-runs.
JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java17")")")" \
  mvn --batch-mode --quiet --no-transfer-progress \
  -Dmaven.repo.local="$AMPHI_CACHE/maven-repo" \
  -f "$root/test/env/cassandra/pom.xml" \
  -Dcassandra.version="$ver" -Dlib.dir="$tmp/lib" \
  dependency:copy-dependencies >"$tmp/mvn.log" 2>&1 || {
  tail -n 40 "$tmp/mvn.log" >&2
  echo "amphi: resolving org.apache.cassandra:cassandra-all:$ver from Maven Central failed" >&2
  exit 1
}
# Sanity: the server jar, the jamm agent and JNA must be there.
for jar in "cassandra-all-$ver.jar" 'jamm-*.jar' 'jna-*.jar'; do
  compgen -G "$tmp/lib/$jar" >/dev/null || { echo "amphi: $jar missing after Maven resolution" >&2; exit 1; }
done
rm -rf "$dest" && mkdir -p "$dest"
mv "$tmp/lib" "$dest/lib"
echo "$java17" >"$dest/java17"
touch "$dest/.done"

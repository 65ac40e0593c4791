#!/usr/bin/env bash
# Install Apache Kafka (broker jars) from Maven Central into the infra cache:
#   ${AUTHORITY_INFRA_CACHE:-~/.cache/authority-infra}/kafka-<ver>/libs
# Resolves org.apache.kafka:kafka_2.13:<ver> with its runtime dependencies plus
# the slf4j -> log4j2 binding (log4j-slf4j-impl, same version as the log4j-core
# Kafka pulls in) so the broker actually logs. Idempotent: a second run is a
# no-op (marker file). Usage:
#   install-kafka.sh            install AUTHORITY_KAFKA_VERSION (default pinned in lib.sh)
#   install-kafka.sh --latest   print the newest 4.x on Maven Central and exit
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# mvn_q ARGS...: quiet, batch-mode mvn; output (errors only, ANSI codes
# stripped) goes to stderr; exit status is mvn's (pipefail).
mvn_q() {
  mvn -q -B "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2
}

write_pom() { # write_pom FILE VERSION-SPEC
  cat >"$1" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.authority.infra</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${KAFKA_SCALA}</artifactId>
      <version>$2</version>
    </dependency>
  </dependencies>
</project>
EOF
}

if [[ "${1:-}" == "--latest" ]]; then
  require_cmd mvn
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  write_pom "$tmp/pom.xml" "[4.0.0,5.0.0)"
  mvn_q -f "$tmp/pom.xml" "$MVN_DEPENDENCY_PLUGIN:tree" -DoutputFile="$tmp/tree.txt"
  sed -n "s/.*org.apache.kafka:kafka_${KAFKA_SCALA}:jar:\([^:]*\):.*/\1/p" "$tmp/tree.txt" | head -n1
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [--latest]"

LIBS="$KAFKA_HOME/libs"
MARKER="$KAFKA_HOME/.installed"
MAIN_JAR="$LIBS/kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar"

is_installed() { [[ -f "$MARKER" && -f "$MAIN_JAR" ]]; }

if is_installed; then
  log "kafka $KAFKA_VERSION: already installed in $KAFKA_HOME (no-op)"
  exit 0
fi

require_cmd mvn java
mkdir -p "$CACHE_ROOT"
with_lock "$CACHE_ROOT/.kafka-$KAFKA_VERSION.lock"
if is_installed; then # another process installed it while we waited
  log "kafka $KAFKA_VERSION: already installed in $KAFKA_HOME (no-op)"
  exit 0
fi

start="$(now_s)"
log "kafka $KAFKA_VERSION: resolving org.apache.kafka:kafka_${KAFKA_SCALA}:$KAFKA_VERSION + runtime deps from Maven Central"
tmp="$(mktemp -d "$CACHE_ROOT/.kafka-$KAFKA_VERSION.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
write_pom "$tmp/pom.xml" "$KAFKA_VERSION"
mvn_q -f "$tmp/pom.xml" "$MVN_DEPENDENCY_PLUGIN:copy-dependencies" \
  -DincludeScope=runtime -DoutputDirectory="$tmp/libs" \
  || die "mvn could not resolve kafka_${KAFKA_SCALA}:$KAFKA_VERSION (is Maven Central reachable?)"

# Logging: Kafka 4.x logs through slf4j 1.7 -> log4j2, but the binding is not a
# dependency of kafka_2.13 (the binary distribution adds it), so add it here at
# the same version as the log4j-core jar that came in.
log4j_core="$(find "$tmp/libs" -maxdepth 1 -name 'log4j-core-*.jar' -printf '%f\n' | head -n1)"
[[ -n "$log4j_core" ]] || die "no log4j-core jar among kafka $KAFKA_VERSION deps; this script supports Kafka 4.x only"
log4j_version="${log4j_core#log4j-core-}"
log4j_version="${log4j_version%.jar}"
log "kafka $KAFKA_VERSION: adding org.apache.logging.log4j:log4j-slf4j-impl:$log4j_version (slf4j binding)"
mvn_q -f "$tmp/pom.xml" "$MVN_DEPENDENCY_PLUGIN:copy" \
  -Dartifact="org.apache.logging.log4j:log4j-slf4j-impl:$log4j_version" \
  -DoutputDirectory="$tmp/libs" \
  || die "mvn could not resolve log4j-slf4j-impl:$log4j_version"

[[ -f "$tmp/libs/kafka_${KAFKA_SCALA}-${KAFKA_VERSION}.jar" ]] || die "kafka jar missing after resolution"
rm -f "$tmp/pom.xml"
printf 'kafka_%s %s\nlog4j %s\ninstalled %s\n' "$KAFKA_SCALA" "$KAFKA_VERSION" "$log4j_version" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp/.installed"

# Atomic-ish publish: a half-finished download never looks installed.
rm -rf "$KAFKA_HOME"
mv "$tmp" "$KAFKA_HOME"
trap - EXIT
log "kafka $KAFKA_VERSION: installed $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) into $LIBS in $(elapsed_since "$start")"

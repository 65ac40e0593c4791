#!/usr/bin/env bash
# The images the cluster needs beyond scripts/containers' (built from local inputs, never pulled):
#   authority-k8s/pause:3.10   the pod sandbox, build.sh's static pause binary
#   authority-k8s/kafka:<ver>  the local Kafka image plus the apache/kafka command-line scripts the
#                              manifests call (kafka-storage/-server-start/-topics/-configs/-get-offsets)
#                              and the restore procedure of docs/operations.md (-consumer-groups)
# Rebuilt only when their inputs change (label org.authority.inputs). Run by up.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_cmd docker
inputs_of() { docker image inspect -f '{{ index .Config.Labels "org.authority.inputs" }}' "$1" 2>/dev/null || true; }
IMAGE_LOG="$K8S_LOGS/images.log"
mkdir -p "$K8S_LOGS"

pause_inputs="$(sha256sum <"$K8S_BIN/pause" | cut -c1-16)"
if [[ "$(inputs_of "$K8S_PAUSE_IMAGE")" != "$pause_inputs" ]]; then
  tar -C "$K8S_BIN" -c pause | docker import -c 'ENTRYPOINT ["/pause"]' -c 'USER 65535:65535' \
    -c "LABEL org.authority.inputs=$pause_inputs" - "$K8S_PAUSE_IMAGE" >>"$IMAGE_LOG"
  log "built $K8S_PAUSE_IMAGE"
fi

# The kafka-tools jars (TopicCommand, ConfigCommand, GetOffsetShell) and their dependencies, from
# Maven Central once (the cache scripts/kafka-acl-check shares).
TOOLS="$CACHE_ROOT/kafka-tools-$KAFKA_VERSION"
if [[ ! -f "$TOOLS/.done" ]]; then
  require_cmd mvn
  mkdir -p "$TOOLS"
  cat >"$TOOLS/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>authority</groupId><artifactId>kafka-tools-fetch</artifactId><version>1</version>
<dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency></dependencies>
</project>
POM
  (cd "$TOOLS" && mvn -q dependency:copy-dependencies -DoutputDirectory=libs -DincludeScope=runtime) >>"$IMAGE_LOG" 2>&1 \
    || die "fetching kafka-tools $KAFKA_VERSION with Maven failed; see $IMAGE_LOG"
  touch "$TOOLS/.done"
fi
base="authority-infra/kafka:$KAFKA_VERSION"
docker image inspect "$base" >/dev/null 2>&1 || die "image $base missing: run scripts/containers/base-images.sh"
ctx_src="$K8S_DIR/images/kafka"
kafka_inputs="$( { docker image inspect -f '{{.Id}}' "$base"; ls "$TOOLS/libs"; cat "$ctx_src/Dockerfile" "$ctx_src/tools-log4j2.xml" "$ctx_src"/bin/*; } | sha256sum | cut -c1-16)"
if [[ "$(inputs_of "$K8S_KAFKA_IMAGE")" != "$kafka_inputs" ]]; then
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cp -r "$ctx_src"/. "$ctx/"
  cp -r "$TOOLS/libs" "$ctx/tools-libs"
  docker build -q --label "org.authority.inputs=$kafka_inputs" --build-arg "KAFKA_IMAGE=$base" \
    -t "$K8S_KAFKA_IMAGE" "$ctx" >>"$IMAGE_LOG" 2>&1 || die "building $K8S_KAFKA_IMAGE failed; see $IMAGE_LOG"
  log "built $K8S_KAFKA_IMAGE"
fi

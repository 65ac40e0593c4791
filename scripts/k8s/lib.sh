# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared settings of scripts/k8s/*.sh (a single-node Kubernetes built from the package registries).
# Sourced, never executed. Builds on scripts/infra/lib.sh (logging, cache and run dirs).
K8S_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=../infra/lib.sh
source "$K8S_DIR/../infra/lib.sh"
log() { printf '[k8s] %s\n' "$*" >&2; }
die() { printf '[k8s] ERROR: %s\n' "$*" >&2; exit 1; }

# Stay on 1.34.x: later releases may refuse cgroup v1 and containerd 1.x (kubernetes-local.md).
K8S_VERSION="${AUTHORITY_K8S_VERSION:-v1.34.4}"
K8S_HOME="$CACHE_ROOT/k8s-$K8S_VERSION"
K8S_SRC="$K8S_HOME/src"
K8S_BIN="$K8S_HOME/bin"
K8S_RUN="$RUN_DIR/k8s"

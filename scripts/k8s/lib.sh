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

# The running cluster's files: certificates, kubeconfig, etcd data, containerd and kubelet state,
# logs. One cluster per machine (the kubelet owns host iptables chains and cgroups).
K8S_PKI="$K8S_RUN/pki"
K8S_LOGS="$K8S_RUN/logs"
K8S_KUBECONFIG="$K8S_RUN/admin.kubeconfig"
K8S_CONTAINERD_SOCK="$K8S_RUN/containerd/containerd.sock"
K8S_KUBELET_ROOT="$K8S_RUN/kubelet"
K8S_PV_ROOT="$K8S_RUN/volumes"
K8S_ENV_FILE="$K8S_RUN/env"
K8S_HOST_STATE="$K8S_RUN/host-state"   # what the kubelet/kube-proxy change on the host, saved by up.sh
K8S_LOCK="$CACHE_ROOT/k8s.lock"
K8S_ETCD_PORT="${AUTHORITY_K8S_ETCD_PORT:-12379}"
K8S_API_PORT="${AUTHORITY_K8S_API_PORT:-16443}"
K8S_SERVICE_CIDR="10.0.0.0/24"
K8S_POD_CIDR="10.244.0.0/24"
K8S_BRIDGE="authk8s0"
K8S_NODE_NAME="authority-k8s-node"
K8S_PAUSE_IMAGE="authority-k8s/pause:3.10"
K8S_KAFKA_IMAGE="authority-k8s/kafka:$KAFKA_VERSION"
# Components in start order (down.sh stops them in reverse). Each has a pid file and a log.
K8S_COMPONENTS=(etcd kube-apiserver containerd kube-controller-manager kube-scheduler kubelet kube-proxy kube-router cluster-dns metrics-server)
# The NetworkPolicy engine: kube-router's firewall only (no routing, no service proxy, no CNI),
# built by build.sh from the Go module proxy (the only v2 release the proxy serves here).
KUBE_ROUTER_VERSION="${AUTHORITY_KUBE_ROUTER_VERSION:-v2.1.0}"
KUBE_ROUTER_BIN="$CACHE_ROOT/kube-router-$KUBE_ROUTER_VERSION/bin/kube-router"
# The resource metrics API (metrics.k8s.io) the HorizontalPodAutoscaler reads: metrics-server, built
# by build.sh from the Go module proxy, run on the host (like kube-router) and registered with the
# apiserver's aggregation layer (an APIService over a selector-less Service whose endpoint is the
# node address). It scrapes the kubelet's /metrics/resource.
METRICS_SERVER_VERSION="${AUTHORITY_METRICS_SERVER_VERSION:-v0.8.0}"
METRICS_SERVER_BIN="$CACHE_ROOT/metrics-server-$METRICS_SERVER_VERSION/bin/metrics-server"
K8S_METRICS_PORT="${AUTHORITY_K8S_METRICS_PORT:-14443}"

k8s_pidfile() { printf '%s/%s.pid' "$K8S_RUN" "$1"; }
k8s_logfile() { printf '%s/%s.log' "$K8S_LOGS" "$1"; }

# node_ip: the host's address the kubelet registers (it refuses loopback). Pods reach the cluster
# DNS there; nothing listens on it for anything outside this machine's own traffic.
node_ip() {
  local dev
  dev="$(ip -4 route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)"
  ip -4 -o addr show ${dev:+dev "$dev"} scope global | grep -v -e docker0 -e "$K8S_BRIDGE" \
    | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -n1
}

kc() { kubectl --kubeconfig "$K8S_KUBECONFIG" "$@"; }

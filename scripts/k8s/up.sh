#!/usr/bin/env bash
# Start a single-node Kubernetes on this machine: etcd (Debian etcd-server), kube-apiserver,
# kube-controller-manager, kube-scheduler (built by build.sh), a containerd of its own (own
# socket, root and state: the Docker engine's keeps running), the bridge CNI (Debian
# containernetworking-plugins), the kubelet, kube-proxy, kube-router (NetworkPolicies), a small cluster DNS
# (cluster-dns.mjs) and metrics-server (the HPA's resource metrics). Imports the locally built images into containerd. Idempotent: a running
# component is left alone. State and logs in .infra/k8s/; `scripts/k8s/down.sh` undoes it all.
# Prints `export KUBECONFIG=...` on stdout (`eval "$(scripts/k8s/up.sh)"`).
# Traffic stays on this machine: the apiserver, etcd and the control plane listen on loopback, pods
# on their own bridge (no masquerading to the outside); the kubelet and the DNS listen on the node
# address because the kubelet refuses a loopback node IP.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "the kubelet and containerd need root"
# The node's Debian packages, installed when absent (waiting for a dpkg lock another apt run holds).
missing_pkgs=()
command -v etcd >/dev/null || missing_pkgs+=(etcd-server)
command -v containerd >/dev/null || missing_pkgs+=(containerd)
command -v runc >/dev/null || missing_pkgs+=(runc)
[[ -x /usr/lib/cni/bridge ]] || missing_pkgs+=(containernetworking-plugins)
command -v ipset >/dev/null || missing_pkgs+=(ipset)   # kube-router's NetworkPolicy sets
if (( ${#missing_pkgs[@]} > 0 )); then
  log "apt-get install ${missing_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing_pkgs[@]}" >&2 \
    || die "apt-get install ${missing_pkgs[*]} failed"
fi
require_cmd kubectl openssl etcd containerd ctr runc iptables ipset ip docker node
t0="$(now_s)"
with_lock "$K8S_LOCK"
bash "$K8S_DIR/build.sh"
mkdir -p "$K8S_RUN" "$K8S_PKI" "$K8S_LOGS" "$K8S_PV_ROOT" "$K8S_RUN/cni/net.d" "$K8S_RUN/cni/ipam"
NODE_IP="$(node_ip)"
[[ -n "$NODE_IP" ]] || die "no non-loopback IPv4 address for the node"

running() { [[ -n "$(our_pid "$(k8s_pidfile "$1")" "$2")" ]]; }

# start NAME NEEDLE CMD...: start CMD as a daemon unless NAME already runs (NEEDLE in its argv).
start() {
  local name="$1" needle="$2"
  shift 2
  if running "$name" "$needle"; then
    log "$name already running"
    return 0
  fi
  printf '==== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$(k8s_logfile "$name")"
  start_daemon "$(k8s_pidfile "$name")" "$(k8s_logfile "$name")" "$K8S_RUN" "$@"
}

# wait_for NAME SECONDS CHECK...: poll CHECK until it succeeds; fail naming NAME's log.
wait_for() {
  local name="$1" deadline=$(( $(now_s) + $2 ))
  shift 2
  until "$@" >/dev/null 2>&1; do
    pid_alive "$(read_pid "$(k8s_pidfile "$name")")" || fail_start "$name" "$(k8s_logfile "$name")" "process exited"
    (( $(now_s) < deadline )) || fail_start "$name" "$(k8s_logfile "$name")" "not ready after $2 s"
    sleep 0.3
  done
}

# --- host state the node changes, saved once so down.sh can restore it ---------------------------
if [[ ! -f "$K8S_HOST_STATE" ]]; then
  {
    for s in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables vm.overcommit_memory vm.panic_on_oom \
      kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes \
      net.ipv4.conf.all.route_localnet; do
      v="$(sysctl -n "$s" 2>/dev/null)" && printf '%s=%s\n' "$s" "$v"
    done
  } >"$K8S_HOST_STATE.tmp"
  mv "$K8S_HOST_STATE.tmp" "$K8S_HOST_STATE"
fi

# --- certificates ---------------------------------------------------------------------------------
pki() { openssl "$@" >>"$K8S_LOGS/pki.log" 2>&1; }
if [[ ! -f "$K8S_PKI/.complete" ]]; then
  log "certificates (openssl)"
  pki req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=authority-k8s-ca" \
    -keyout "$K8S_PKI/ca.key" -out "$K8S_PKI/ca.crt"
  cat >"$K8S_PKI/apiserver.ext" <<EOF
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
  printf 'extendedKeyUsage=clientAuth\n' >"$K8S_PKI/client.ext"
  # The kubelet's serving certificate: the apiserver verifies it (kubectl logs/exec) by the node IP.
  printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "$K8S_NODE_NAME" >"$K8S_PKI/kubelet.ext"
  for cert in apiserver kubelet admin; do
    case "$cert" in
      apiserver) subj="/CN=kube-apiserver" ext="$K8S_PKI/apiserver.ext" ;;
      kubelet) subj="/CN=$K8S_NODE_NAME" ext="$K8S_PKI/kubelet.ext" ;;
      admin) subj="/O=system:masters/CN=authority-k8s-admin" ext="$K8S_PKI/client.ext" ;;
    esac
    pki req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$K8S_PKI/$cert.key" -out "$K8S_PKI/$cert.csr"
    pki x509 -req -in "$K8S_PKI/$cert.csr" -CA "$K8S_PKI/ca.crt" -CAkey "$K8S_PKI/ca.key" \
      -CAcreateserial -days 30 -extfile "$ext" -out "$K8S_PKI/$cert.crt"
  done
  pki genrsa -out "$K8S_PKI/sa.key" 2048
  pki rsa -in "$K8S_PKI/sa.key" -pubout -out "$K8S_PKI/sa.pub"
  touch "$K8S_PKI/.complete"
fi
# The aggregation layer (metrics-server's metrics.k8s.io): the apiserver proxies to it with a
# front-proxy client certificate from a CA of its own (the requestheader CA); metrics-server serves
# with a certificate of the cluster CA for its Service name and the node address.
if [[ ! -f "$K8S_PKI/.complete-aggregation" ]]; then
  log "certificates of the aggregation layer (openssl)"
  pki req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=authority-k8s-front-proxy-ca" \
    -keyout "$K8S_PKI/front-proxy-ca.key" -out "$K8S_PKI/front-proxy-ca.crt"
  pki req -newkey rsa:2048 -nodes -subj "/CN=front-proxy-client" \
    -keyout "$K8S_PKI/front-proxy-client.key" -out "$K8S_PKI/front-proxy-client.csr"
  pki x509 -req -in "$K8S_PKI/front-proxy-client.csr" -CA "$K8S_PKI/front-proxy-ca.crt" \
    -CAkey "$K8S_PKI/front-proxy-ca.key" -CAcreateserial -days 30 -extfile "$K8S_PKI/client.ext" \
    -out "$K8S_PKI/front-proxy-client.crt"
  printf 'subjectAltName=IP:%s,DNS:metrics-server.kube-system.svc\nextendedKeyUsage=serverAuth\n' "$NODE_IP" \
    >"$K8S_PKI/metrics-server.ext"
  pki req -newkey rsa:2048 -nodes -subj "/CN=metrics-server" \
    -keyout "$K8S_PKI/metrics-server.key" -out "$K8S_PKI/metrics-server.csr"
  pki x509 -req -in "$K8S_PKI/metrics-server.csr" -CA "$K8S_PKI/ca.crt" -CAkey "$K8S_PKI/ca.key" \
    -CAcreateserial -days 30 -extfile "$K8S_PKI/metrics-server.ext" -out "$K8S_PKI/metrics-server.crt"
  touch "$K8S_PKI/.complete-aggregation"
fi
kubectl config set-cluster local --server="https://127.0.0.1:$K8S_API_PORT" \
  --certificate-authority="$K8S_PKI/ca.crt" --embed-certs --kubeconfig "$K8S_KUBECONFIG" >/dev/null
kubectl config set-credentials admin --client-certificate="$K8S_PKI/admin.crt" \
  --client-key="$K8S_PKI/admin.key" --embed-certs --kubeconfig "$K8S_KUBECONFIG" >/dev/null
kubectl config set-context local --cluster=local --user=admin --kubeconfig "$K8S_KUBECONFIG" >/dev/null
kubectl config use-context local --kubeconfig "$K8S_KUBECONFIG" >/dev/null

# --- etcd and the control plane --------------------------------------------------------------------
start etcd "$K8S_RUN/etcd" etcd --name authority-k8s --data-dir "$K8S_RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$K8S_ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$(( K8S_ETCD_PORT + 1 ))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$(( K8S_ETCD_PORT + 1 ))" \
  --initial-cluster "authority-k8s=http://127.0.0.1:$(( K8S_ETCD_PORT + 1 ))" \
  --quota-backend-bytes 2147483648 --log-level warn
wait_for etcd 30 port_open "$K8S_ETCD_PORT"

start kube-apiserver "$K8S_PKI/apiserver.crt" "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$K8S_ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --secure-port "$K8S_API_PORT" --service-cluster-ip-range "$K8S_SERVICE_CIDR" \
  --authorization-mode Node,RBAC --allow-privileged=false \
  --enable-admission-plugins NodeRestriction,PodSecurity \
  --client-ca-file "$K8S_PKI/ca.crt" --tls-cert-file "$K8S_PKI/apiserver.crt" --tls-private-key-file "$K8S_PKI/apiserver.key" \
  --kubelet-client-certificate "$K8S_PKI/admin.crt" --kubelet-client-key "$K8S_PKI/admin.key" \
  --kubelet-certificate-authority "$K8S_PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$K8S_PKI/sa.pub" --service-account-signing-key-file "$K8S_PKI/sa.key" \
  --requestheader-client-ca-file "$K8S_PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$K8S_PKI/front-proxy-client.crt" --proxy-client-key-file "$K8S_PKI/front-proxy-client.key" \
  --enable-aggregator-routing=true \
  --profiling=false --v=1
wait_for kube-apiserver 120 kc get --raw /readyz

# containerd of its own: CRI with the bridge CNI and the locally built pause image.
CONTAINERD_DIR="$K8S_RUN/containerd"
mkdir -p "$CONTAINERD_DIR"
cat >"$CONTAINERD_DIR/config.toml" <<EOF
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"
[grpc]
  address = "$K8S_CONTAINERD_SOCK"
[ttrpc]
  address = "$K8S_CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$K8S_PAUSE_IMAGE"
  # The sandbox lacks CAP_SYS_RESOURCE: without this every pod sandbox fails to start.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K8S_RUN/cni/net.d"
EOF
# No masquerading: pods talk to each other and to this host, nothing else. The firewall plugin
# accepts the pods' traffic in FORWARD (chain CNI-FORWARD): the bridge's frames pass iptables
# (br_netfilter) and the Docker engine's FORWARD policy is DROP.
cat >"$K8S_RUN/cni/net.d/10-authority.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "authority-k8s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$K8S_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$K8S_POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$K8S_RUN/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall", "backend": "iptables" }
  ]
}
EOF
# The pod bridge made here rather than by the first pod's CNI call: what this host sends to pods
# (the kubelet's probes, kube-proxy's Service traffic from the node) then leaves with the node's
# address as its source, the address kube-router lets through to every pod as "the pod's local
# node" (from the bridge's own address it would be an outsider, and Kafka's and MongoDB's
# NetworkPolicies would refuse their probes).
if ! ip link show "$K8S_BRIDGE" >/dev/null 2>&1; then
  ip link add "$K8S_BRIDGE" type bridge
fi
gateway="${K8S_POD_CIDR%.*}.1"
ip addr show dev "$K8S_BRIDGE" | grep -q "inet $gateway/" || ip addr add "$gateway/${K8S_POD_CIDR#*/}" dev "$K8S_BRIDGE"
ip link set "$K8S_BRIDGE" up
ip route replace "$K8S_POD_CIDR" dev "$K8S_BRIDGE" proto kernel scope link src "$NODE_IP"
start containerd "$CONTAINERD_DIR/config.toml" containerd --config "$CONTAINERD_DIR/config.toml"
wait_for containerd 30 ctr --address "$K8S_CONTAINERD_SOCK" version

KCM_ARGS=(--kubeconfig "$K8S_KUBECONFIG" --bind-address 127.0.0.1 --leader-elect=false
  --service-account-private-key-file "$K8S_PKI/sa.key" --root-ca-file "$K8S_PKI/ca.crt"
  --cluster-signing-cert-file "$K8S_PKI/ca.crt" --cluster-signing-key-file "$K8S_PKI/ca.key"
  --use-service-account-credentials=false --service-cluster-ip-range "$K8S_SERVICE_CIDR"
  --profiling=false --v=1)
start kube-controller-manager "$K8S_KUBECONFIG" "$K8S_BIN/kube-controller-manager" "${KCM_ARGS[@]}"
start kube-scheduler "$K8S_KUBECONFIG" "$K8S_BIN/kube-scheduler" --kubeconfig "$K8S_KUBECONFIG" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v=1

# --- images: the local images (scripts/containers) and the cluster's own (images.sh) ------------
bash "$K8S_DIR/images.sh"
IMAGES=("$K8S_PAUSE_IMAGE" "$K8S_KAFKA_IMAGE" "authority-infra/ferretdb:$FERRETDB_VERSION")
for svc in issuer policy enforcer auditor gateway; do IMAGES+=("authority/$svc:${AUTHORITY_IMAGE_TAG:-dev}"); done
for image in "${IMAGES[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 \
    || die "image $image missing: build it first (scripts/containers/build-images.sh)"
  want="$(docker image inspect -f '{{.Id}}' "$image")"
  record="$K8S_RUN/images/${image//[\/:]/_}"
  # Re-import when the Docker image changed (a rebuilt :dev tag) or containerd lost it.
  if [[ "$(cat "$record" 2>/dev/null)" != "$want" ]] \
    || [[ -z "$(ctr --address "$K8S_CONTAINERD_SOCK" -n k8s.io images ls -q "name==docker.io/$image")" ]]; then
    t1="$(now_s)"
    docker save "$image" | ctr --address "$K8S_CONTAINERD_SOCK" -n k8s.io images import - >>"$K8S_LOGS/images.log" 2>&1 \
      || die "importing $image into containerd failed; see $K8S_LOGS/images.log"
    mkdir -p "$K8S_RUN/images"
    printf '%s\n' "$want" >"$record"
    log "imported $image in $(elapsed_since "$t1")"
  fi
done

# --- the node ----------------------------------------------------------------------------------
# A resolv.conf with no upstream server: pods with dnsPolicy Default resolve nothing outside.
printf 'nameserver 127.0.0.1\noptions ndots:1\n' >"$K8S_RUN/host-resolv.conf"
cat >"$K8S_RUN/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine runs cgroup v1 with the cgroupfs driver (as Docker does here).
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$K8S_CONTAINERD_SOCK
address: $NODE_IP
readOnlyPort: 0
tlsCertFile: $K8S_PKI/kubelet.crt
tlsPrivateKeyFile: $K8S_PKI/kubelet.key
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: $K8S_PKI/ca.crt }
authorization: { mode: AlwaysAllow }
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $K8S_RUN/host-resolv.conf
podCIDR: $K8S_POD_CIDR
failSwapOn: false
protectKernelDefaults: false
# A shared CI machine: never evict for disk or memory pressure the other suites cause.
evictionHard: { memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
enforceNodeAllocatable: []
serializeImagePulls: false
EOF
start kubelet "$K8S_RUN/kubelet-config.yaml" "$K8S_BIN/kubelet" --config "$K8S_RUN/kubelet-config.yaml" \
  --kubeconfig "$K8S_KUBECONFIG" --root-dir "$K8S_KUBELET_ROOT" \
  --hostname-override "$K8S_NODE_NAME" --node-ip "$NODE_IP" --v=1
cat >"$K8S_RUN/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $K8S_KUBECONFIG }
mode: iptables
hostnameOverride: $K8S_NODE_NAME
clusterCIDR: $K8S_POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [127.0.0.1/32]
# Service traffic between two pods of the same bridge returns through this host.
iptables: { masqueradeAll: true }
conntrack: { maxPerCore: 0 }
EOF
start kube-proxy "$K8S_RUN/kube-proxy-config.yaml" "$K8S_BIN/kube-proxy" --config "$K8S_RUN/kube-proxy-config.yaml" --v=1
start cluster-dns "$K8S_DIR/cluster-dns.mjs" node "$K8S_DIR/cluster-dns.mjs" \
  --listen "$NODE_IP" --kubeconfig-dir "$K8S_PKI" --api "https://127.0.0.1:$K8S_API_PORT"
node_ready() { [[ "$(kc get node "$K8S_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }
wait_for kubelet 180 node_ready
# NetworkPolicies enforced by kube-router's firewall alone (iptables + ipset on this node); routing,
# service proxy and CNI stay the bridge's and kube-proxy's. No health or metrics listener. It
# needs the Node object (it fails without it), so it starts once the node is Ready.
start kube-router "$K8S_KUBECONFIG" "$KUBE_ROUTER_BIN" --kubeconfig "$K8S_KUBECONFIG" \
  --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
  --hostname-override "$K8S_NODE_NAME" --service-cluster-ip-range "$K8S_SERVICE_CIDR" \
  --health-port 0 --metrics-port 0 --v=1
wait_for kube-router 120 iptables -S KUBE-ROUTER-FORWARD
# The resource metrics API for the HorizontalPodAutoscaler: metrics-server on the node address,
# scraping the kubelet (whose serving certificate the cluster CA signed) with the admin
# credentials, registered as metrics.k8s.io through a Service whose only endpoint is itself.
start metrics-server "$K8S_PKI/metrics-server.crt" "$METRICS_SERVER_BIN" \
  --kubeconfig "$K8S_KUBECONFIG" --authentication-kubeconfig "$K8S_KUBECONFIG" \
  --authorization-kubeconfig "$K8S_KUBECONFIG" --bind-address "$NODE_IP" --secure-port "$K8S_METRICS_PORT" \
  --tls-cert-file "$K8S_PKI/metrics-server.crt" --tls-private-key-file "$K8S_PKI/metrics-server.key" \
  --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$K8S_PKI/ca.crt" \
  --metric-resolution 15s --v=1
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: { name: metrics-server, namespace: kube-system }
spec: { ports: [{ name: https, port: 443, targetPort: $K8S_METRICS_PORT }] }
---
apiVersion: v1
kind: Endpoints
metadata: { name: metrics-server, namespace: kube-system }
subsets: [{ addresses: [{ ip: $NODE_IP }], ports: [{ name: https, port: $K8S_METRICS_PORT }] }]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.metrics.k8s.io }
spec:
  group: metrics.k8s.io
  version: v1beta1
  service: { name: metrics-server, namespace: kube-system, port: 443 }
  caBundle: $(base64 -w0 "$K8S_PKI/ca.crt")
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
wait_for metrics-server 180 kc get --raw /apis/metrics.k8s.io/v1beta1/nodes
cat >"$K8S_ENV_FILE" <<EOF
# written by scripts/k8s/up.sh at $(date -u +%FT%TZ)
export KUBECONFIG=$K8S_KUBECONFIG
EOF
log "cluster ready in $(elapsed_since "$t0") (node $K8S_NODE_NAME at $NODE_IP; logs in $K8S_LOGS)"
cat "$K8S_ENV_FILE"

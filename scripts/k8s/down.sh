#!/usr/bin/env bash
# Tear down the cluster of scripts/k8s/up.sh and restore what it changed on the host: stops every
# component (reverse start order), kills what still runs in the pods' cgroups, unmounts the pods'
# volumes, network namespaces and container root file systems, deletes the KUBE-* and CNI-*
# iptables chains (kube-proxy's and kube-router's), kube-router's ipsets, the pod bridge and the
# kubepods cgroups, restores the sysctls the kubelet and kube-proxy set, and removes the cluster's
# state (logs in .infra/k8s/logs are kept).
# Idempotent: a second run finds nothing to do. The Docker engine and its containerd are not touched.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "down.sh needs root (as up.sh)"
with_lock "$K8S_LOCK"
t0="$(now_s)"
STOP_TIMEOUT=15

# Processes of the pods: in a kubepods cgroup (Docker's containers live under /docker).
pod_pids() { grep -l ':/kubepods' /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true; }

for (( i=${#K8S_COMPONENTS[@]}-1; i>=0; i-- )); do
  name="${K8S_COMPONENTS[i]}"
  pid="$(read_pid "$(k8s_pidfile "$name")")"
  if [[ -n "$pid" ]] && pid_alive "$pid" && pid_cmdline_has "$pid" "$K8S_RUN"; then
    stop_pid "$name" "$pid"
  fi
  rm -f "$(k8s_pidfile "$name")"
  if [[ "$name" == kubelet ]]; then
    # The kubelet is gone: nothing restarts the pods. Kill them, then their containerd shims.
    mapfile -t pids < <(pod_pids)
    (( ${#pids[@]} == 0 )) || { log "killing ${#pids[@]} pod processes"; kill -KILL "${pids[@]}" 2>/dev/null || true; }
    for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $K8S_CONTAINERD_SOCK" || true); do
      kill -KILL "$shim" 2>/dev/null || true
    done
  fi
done

# kube-proxy's and the kubelet's iptables chains (and the CNI portmap plugin's), in every table.
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in filter nat mangle; do
    rules="$("$ipt-save" -t "$table" 2>/dev/null || true)"
    while read -r rule; do
      [[ -n "$rule" ]] && { eval "$ipt -t $table ${rule/#-A/-D}" 2>/dev/null || true; }
    done < <(grep -E '^-A [A-Z]+ .*-j (KUBE|CNI)-' <<<"$rules" || true)
    chains="$(sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p' <<<"$rules")"
    for chain in $chains; do "$ipt" -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in $chains; do "$ipt" -t "$table" -X "$chain" 2>/dev/null || true; done
  done
done

# kube-router's ipsets (its NetworkPolicy rules, gone above, referenced them).
if command -v ipset >/dev/null; then
  for set in $(ipset list -n 2>/dev/null | grep -E '^(inet6:)?(KUBE-|kube-router-)' || true); do
    ipset destroy "$set" 2>/dev/null || true
  done
fi

# Mounts under the cluster's directory (pod volumes, container root file systems, shm), deepest
# first, and the pods' network namespaces (containerd's CRI names them cni-*).
awk -v root="$K8S_RUN/" 'index($2, root) == 1 { print length($2) " " $2 }' /proc/mounts | sort -rn | cut -d' ' -f2- \
  | while read -r mnt; do umount -l "$(printf '%b' "$mnt")" 2>/dev/null || true; done
for ns in /var/run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  umount -l "$ns" 2>/dev/null || true
  rm -f "$ns"
done
ip link show "$K8S_BRIDGE" >/dev/null 2>&1 && ip link delete "$K8S_BRIDGE"

# The kubelet's cgroups in every v1 hierarchy (deepest first; empty now that their tasks are dead).
for hierarchy in /sys/fs/cgroup/*/; do
  [[ -d "$hierarchy/kubepods" ]] || continue
  find "$hierarchy/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done

if [[ -f "$K8S_HOST_STATE" ]]; then
  while IFS='=' read -r key value; do
    [[ "$(sysctl -n "$key" 2>/dev/null)" == "$value" ]] || sysctl -q -w "$key=$value" >/dev/null 2>&1 || true
  done <"$K8S_HOST_STATE"
  rm -f "$K8S_HOST_STATE"
fi

if [[ -d "$K8S_RUN" ]]; then
  find "$K8S_RUN" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null \
    || log "some files under $K8S_RUN could not be removed (still mounted?)"
fi
left="$(pod_pids | wc -l)"
(( left == 0 )) || log "WARNING: $left processes still in kubepods cgroups"
log "cluster down in $(elapsed_since "$t0")"

#!/usr/bin/env bash
# Build the Kubernetes control-plane and node binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy) at a pinned version from the Go module proxy, and the pause image's
# binary, into ~/.cache/authority-infra/k8s-<version>/bin; kube-router (NetworkPolicy engine) into
# ~/.cache/authority-infra/kube-router-<version>/bin. Cached: a finished build is a no-op.
# k8s.io/kubernetes replaces its staging modules with ./staging, so `go install` refuses it: a
# scratch module requires it and replaces each staging module by its published v0.x release
# (recipe: ../shared/reference/kubernetes-local.md). About 12 minutes cold on 2 cores.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
# A cache built before a binary joined the list only builds that binary (the Go build cache is warm).
# go_install NAME VERSION BIN PACKAGE: a plain Go module (no staging replaces) built by `go install`
# into BIN's directory, once. kube-router (the NetworkPolicy engine) takes about 5 minutes cold on 2
# cores (29 under heavy load); metrics-server (the HPA's resource metrics) about 4 (15 under load).
go_install() {
  local name="$1" version="$2" bin="$3" package="$4" t1
  if [[ -x "$bin" ]]; then
    log "$name $version already built (no-op)"
    return 0
  fi
  require_cmd go
  mkdir -p "$(dirname "$bin")" "$LOG_DIR"
  t1="$(now_s)"
  log "building $name $version (log $LOG_DIR/$name-build.log)"
  GOBIN="$(dirname "$bin")" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$package@$version" \
    >>"$LOG_DIR/$name-build.log" 2>&1 || die "building $name failed; see $LOG_DIR/$name-build.log"
  log "$name built in $(elapsed_since "$t1")"
}
build_kube_router() {
  go_install kube-router "$KUBE_ROUTER_VERSION" "$KUBE_ROUTER_BIN" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}
build_metrics_server() {
  go_install metrics-server "$METRICS_SERVER_VERSION" "$METRICS_SERVER_BIN" sigs.k8s.io/metrics-server/cmd/metrics-server
}

missing=()
for cmd in "${K8S_CMDS[@]}" pause; do
  [[ -x "$K8S_BIN/$cmd" ]] || missing+=("$cmd")
done
if (( ${#missing[@]} == 0 )) && [[ -f "$K8S_BIN/.complete" ]]; then
  log "kubernetes $K8S_VERSION binaries already built in $K8S_BIN (no-op)"
  build_kube_router
  build_metrics_server
  exit 0
fi
require_cmd go gcc
mkdir -p "$K8S_SRC" "$K8S_BIN" "$LOG_DIR"
t0="$(now_s)"
BUILD_LOG="$LOG_DIR/k8s-build.log"
log "building kubernetes $K8S_VERSION (log $BUILD_LOG; about 12 minutes cold)"
modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
moddir="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
[[ -f "$modfile" && -d "$moddir" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
staging_version="v0.${K8S_VERSION#v1.}"
{
  echo "module authority.local/k8sbuild"
  echo
  grep -E '^(go|godebug) ' "$modfile"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#replace \1 => \1 '"$staging_version"'#p' "$modfile"
} >"$K8S_SRC/go.mod"
cat >"$K8S_SRC/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
GO
(cd "$K8S_SRC" && go mod tidy >>"$BUILD_LOG" 2>&1) || die "go mod tidy failed; see $BUILD_LOG"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean"
for cmd in "${K8S_CMDS[@]}"; do
  [[ -x "$K8S_BIN/$cmd" ]] && continue
  t1="$(now_s)"
  (cd "$K8S_SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd" >>"$BUILD_LOG" 2>&1) \
    || die "building $cmd failed; see $BUILD_LOG"
  log "$cmd built in $(elapsed_since "$t1")"
done
# The pod sandbox's pause binary, from the same module (static, no libc needed in its image).
[[ -x "$K8S_BIN/pause" ]] || gcc -Os -static -o "$K8S_BIN/pause" "$moddir/build/pause/linux/pause.c" >>"$BUILD_LOG" 2>&1 \
  || die "building pause failed; see $BUILD_LOG"
touch "$K8S_BIN/.complete"
log "kubernetes $K8S_VERSION built in $(elapsed_since "$t0")"
build_kube_router
build_metrics_server

#!/usr/bin/env bash
# `npm run test:k8s`: the Kubernetes suite (issue 18). Builds (or finds cached) the cluster's
# binaries and the local images, starts the single-node cluster of scripts/k8s/up.sh unless one
# runs, runs test/k8s with node's test runner (ends with the `N passed, N failed` line) and tears
# down a cluster it started (AUTHORITY_K8S_KEEP=1 keeps it for a look: scripts/k8s/down.sh later).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
# What this script starts it stops again at the end (the cluster first, then the engine); what was
# already running stays.
cleanup=()
trap 'for c in "${cleanup[@]}"; do bash $c || true; done' EXIT
if ! docker info >/dev/null 2>&1; then cleanup+=("scripts/containers/engine.sh down"); fi
bash scripts/containers/engine.sh up
bash scripts/containers/base-images.sh
bash scripts/containers/build-images.sh
if ! kubectl --kubeconfig .infra/k8s/admin.kubeconfig get --raw /readyz >/dev/null 2>&1 \
  && [ "${AUTHORITY_K8S_KEEP:-0}" != 1 ]; then
  cleanup=("scripts/k8s/down.sh" "${cleanup[@]}")
fi
bash scripts/k8s/up.sh >/dev/null
node scripts/run-tests.mjs --k8s

#!/usr/bin/env bash
# `npm run test:containers`: the container suite (issue 14). Starts a Docker engine when none
# answers (installing Debian's docker.io), builds the local base, infrastructure and service images
# (scripts/containers; nothing is pulled), then runs test/containers with node's test runner and
# ends with the `N passed, N failed` line. Containers are started and removed by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
# An engine this script starts is stopped again at the end; one that was already running stays.
if ! docker info >/dev/null 2>&1; then trap 'bash scripts/containers/engine.sh down' EXIT; fi
bash scripts/containers/engine.sh up
bash scripts/containers/base-images.sh
bash scripts/containers/build-images.sh
node scripts/run-tests.mjs --containers

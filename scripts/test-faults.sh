#!/usr/bin/env bash
# `npm run test:faults`: the fault-injection suite (issue 14). Starts a Docker engine when none
# answers (installing Debian's docker.io), builds the local base, infrastructure and service images
# (scripts/containers; nothing is pulled), then runs test/faults with node's test runner: three
# Kafka brokers, FerretDB and six service containers, one fault at a time under load. Ends with the
# `N passed, N failed` line; each fault's measurements are one JSON line in the output and in
# .infra/fault-results.jsonl, the containers' logs in .infra/fault-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
# Containers of this run carry its id: whatever the suite leaves behind (an interrupted run) is
# removed at exit, and only that.
export AUTHORITY_CONTAINER_RUN="faults-$$-$(date +%s)"
cleanup() {
  local ids networks
  ids="$(docker ps -aq --filter "label=org.authority.run=$AUTHORITY_CONTAINER_RUN" 2>/dev/null || true)"
  [ -n "$ids" ] || return 0
  # The stack's own networks (authority-<stack id>-0-clients, -1-backplane), found on its containers.
  # shellcheck disable=SC2086
  networks="$(docker inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{println $name}}{{end}}' $ids 2>/dev/null |
    grep -E '^authority-[0-9a-f]+-[01]-(clients|backplane)$' | sort -u || true)"
  # shellcheck disable=SC2086
  docker rm -f -v $ids >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  if [ -n "$networks" ]; then docker network rm $networks >/dev/null 2>&1 || true; fi
}
# An engine this script starts is stopped again at the end; one that was already running stays.
if ! docker info >/dev/null 2>&1; then
  trap 'cleanup; bash scripts/containers/engine.sh down' EXIT
else
  trap cleanup EXIT
fi
bash scripts/containers/engine.sh up
bash scripts/containers/base-images.sh
bash scripts/containers/build-images.sh
rm -f .infra/fault-results.jsonl
node scripts/run-tests.mjs --faults

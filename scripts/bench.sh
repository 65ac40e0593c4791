#!/usr/bin/env bash
# `npm run bench`: builds, brings up Kafka and FerretDB unless given, runs every benchmark. Each
# benchmark prints one JSON object per line to stdout (name, rates or latency percentiles, the
# baseline measured in the same run, the ratio, machine facts); human notes go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
started=0
if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${MONGODB_URI:-}" ]; then
  bash scripts/infra/up.sh >/dev/null
  # shellcheck disable=SC1091
  source .infra/env
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then bash scripts/infra/down.sh || true; fi; }
trap cleanup EXIT
for b in packages/core/dist/bench/*.js services/enforcer/dist/bench/{in-process,grpc,ghz,revocation,memory}.js services/auditor/dist/bench/*.js services/gateway/dist/bench/*.js; do
  [ -f "$b" ] || continue
  case "$b" in */lib/*) continue ;; esac
  echo "# $b" >&2
  node "$b"
done

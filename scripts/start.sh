#!/usr/bin/env bash
# The README's start command (`npm start`): installs dependencies, builds, brings up Kafka and a
# MongoDB-wire server (unless KAFKA_BROKERS and MONGODB_URI are given), starts the four services,
# plays the demo scenario and keeps everything running until Ctrl-C, which stops it all.
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
# Ctrl-C reaches node (same process group); bash runs the EXIT trap once node has stopped the services.
trap '' INT
node packages/demo/dist/src/main.js

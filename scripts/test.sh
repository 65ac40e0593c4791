#!/usr/bin/env bash
# The README's test command (`npm test`): installs dependencies, builds, brings up real Kafka and a
# MongoDB-wire server (unless KAFKA_BROKERS and MONGODB_URI are given), runs every test with node's
# test runner, and stops what it started. `--unit` runs only tests that need no infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
# Install when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
# The auditor's report test renders HTML in headless Chromium (Debian's package).
if [ "$mode" != "--unit" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the report rendering test" >&2
  if [ "$(id -u)" = 0 ]; then
    echo "(apt-get waits up to 10 min for the dpkg lock if another apt run holds it)" >&2
    apt_wait=(-o DPkg::Lock::Timeout=600)
    (apt-get install -y -q "${apt_wait[@]}" chromium >/dev/null 2>&1 ||
      { apt-get update -q "${apt_wait[@]}" >/dev/null && apt-get install -y -q "${apt_wait[@]}" chromium >/dev/null; }) ||
      echo "could not install chromium: the report rendering test will fail" >&2
  else
    echo "not root: install chromium yourself (apt-get install chromium)" >&2
  fi
fi
started=0
if [ "$mode" != "--unit" ] && { [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${MONGODB_URI:-}" ]; }; then
  bash scripts/infra/up.sh
  # shellcheck disable=SC1091
  source .infra/env
  started=1
  node scripts/infra/run-topics.mjs snapshot .infra/topics-before-test
fi
cleanup() {
  if [ "$started" = 1 ]; then
    node scripts/infra/run-topics.mjs drop-new .infra/topics-before-test || true
    bash scripts/infra/down.sh --keep-engine || true
  fi
}
trap cleanup EXIT
node scripts/run-tests.mjs "$mode"

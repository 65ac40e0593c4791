#!/usr/bin/env bash
# Regenerates the TypeScript types in packages/proto/gen from proto/authority/v1 (the only contract).
# The output is committed so a build needs no generator; CI checks it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf packages/proto/gen
npx proto-loader-gen-types --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js \
  --includeDirs=proto --outDir=packages/proto/gen/grpc $(cd proto && ls authority/v1/*.proto) >/dev/null
npx prettier --log-level warn --write packages/proto/gen >/dev/null

# One image recipe for the four services and the MCP gateway. Build from the repository root (the
# monorepo is the build context):
#   docker build --build-arg SERVICE=enforcer -t authority/enforcer:0.1.0 .
# SERVICE is issuer | policy | enforcer | auditor | gateway. BASE_IMAGE defaults to the public Node.js 20
# slim image; on a machine without a registry, scripts/containers/build-images.sh points it at the
# locally built authority-base/node (same Node.js version, Debian bookworm).
# Stages: manifests (package.json files + lock, so `npm ci` is cached until they change) -> build
# (all dependencies, `npm run build:services`, the service's runtime files laid out) -> prod-deps
# (production dependencies of this service only) -> runtime (node, prod-deps, compiled dist; no
# npm, no dev dependencies, no sources). The build stages do not depend on SERVICE until its
# last step, so building the five images compiles the monorepo once.
ARG BASE_IMAGE=node:20.20-bookworm-slim

FROM ${BASE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /out \
 && find . -name package.json -not -path '*/node_modules/*' -print0 \
  | tar --null -cf - -T - package-lock.json .npmrc \
  | tar -xf - -C /out

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY --from=manifests /out/ ./
# --ignore-scripts: no dependency needs an install script to build (package.json allowScripts),
# and npm 10 (in the public image) would otherwise run them where npm 11 does not.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# The reviewed kafkajs patch (patches/, see services/enforcer/src/adapters/kafkajs-fast.ts): what
# the root postinstall does outside containers.
RUN npx patch-package --error-on-fail
# The services and the workspaces they use (not the CLI, the demo or the end-to-end tests).
RUN npm run build:services
ARG SERVICE
RUN test -n "${SERVICE}" || { echo 'build with --build-arg SERVICE=<issuer|policy|enforcer|auditor|gateway>' >&2; exit 2; } \
 && node scripts/containers/assemble-service.mjs "${SERVICE}" /app

FROM ${BASE_IMAGE} AS prod-deps
ARG SERVICE
WORKDIR /app
COPY --from=manifests /out/ ./
RUN npm ci --omit=dev --workspace "services/${SERVICE}" --include-workspace-root=false \
      --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
# kafkajs as patched in the build stage (pure JS, same pinned version; npm ci ran without scripts).
COPY --from=build /src/node_modules/kafkajs /app/node_modules/kafkajs

FROM ${BASE_IMAGE} AS runtime
# The runtime runs `node` only: remove the package managers from its filesystem (nothing to
# run npm with, and no npm dependencies for scanners to report).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ARG SERVICE
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="authority-${SERVICE}" \
      org.opencontainers.image.source="https://github.com/authority/authority"
WORKDIR /app
COPY --from=prod-deps /app/ ./
# The compiled JavaScript of this service and of the workspaces it depends on, the .proto contract
# (@authority/proto loads it at run time) and main.js, a link to the service's entry point.
COPY --from=build /app/ ./
# Files stay root-owned and read-only to the process; Kubernetes adds readOnlyRootFilesystem.
USER 10001:10001
STOPSIGNAL SIGTERM
# Health: grpc.health.v1 on the service's gRPC port (Kubernetes native gRPC probes; no shell needed);
# the gateway answers GET /healthz and /readyz on its HTTP port. The gateway image holds no upstream
# MCP server: in a cluster its upstreams are streamable-HTTP URLs (docs/gateway.md).
CMD ["node", "main.js"]

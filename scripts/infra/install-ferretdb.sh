#!/usr/bin/env bash
# Build FerretDB v1.24.2 from the Go module proxy into the infra cache:
#   ${AUTHORITY_INFRA_CACHE:-~/.cache/authority-infra}/ferretdb-<ver>-<digest of ferretdb-patches/>/bin/ferretdb
#
# Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`:
# that builds, but the binary panics at start-up ("Invalid
# build/version/version.txt file content") because the module zip does not
# contain the generated build/version/version.txt. So we download the module
# with `go mod download`, copy it, write version.txt and `go build` it.
#
# The patches in ferretdb-patches/ are applied before the build (a patch that does not apply stops
# the install). 0001: FerretDB 1.24's SQLite backend creates the _id index on
# `_ferretdb_sjson->"_id"` but looks _id up with `_ferretdb_sjson->'$._id'`, an expression SQLite
# does not match to that index, so every _id lookup scanned the collection (seen with EXPLAIN QUERY
# PLAN, and through the `explain` command). The auditor reads entries by _id; unpatched, a lookup
# of the newest of 1,000,000 entries took 12-33 s (docs/operations.md, "Auditor storage layout").
# Idempotent: a second run is a no-op (marker file).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 0 ]] || die "usage: $0"

MODULE="github.com/FerretDB/FerretDB"
BIN="$FERRETDB_HOME/bin/ferretdb"
MARKER="$FERRETDB_HOME/.installed"

is_installed() { [[ -f "$MARKER" && -x "$BIN" ]]; }

if is_installed; then
  log "ferretdb $FERRETDB_VERSION: already installed at $BIN (no-op)"
  exit 0
fi

require_cmd go
require_cmd git
mkdir -p "$CACHE_ROOT"
with_lock "$CACHE_ROOT/.ferretdb-$FERRETDB_VERSION.lock"
if is_installed; then
  log "ferretdb $FERRETDB_VERSION: already installed at $BIN (no-op)"
  exit 0
fi

start="$(now_s)"
tmp="$(mktemp -d "$CACHE_ROOT/.ferretdb-$FERRETDB_VERSION.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "ferretdb $FERRETDB_VERSION: go mod download $MODULE@v$FERRETDB_VERSION"
# Run outside any module so a go.mod in the caller's tree cannot interfere.
json="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$MODULE@v$FERRETDB_VERSION")" \
  || die "go mod download failed (is the Go module proxy reachable?): $(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p')"
moddir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
[[ -n "$moddir" && -f "$moddir/go.mod" ]] || die "could not find the downloaded module directory in: $json"

cp -R "$moddir/." "$tmp/src"
chmod -R u+w "$tmp/src"
printf 'v%s\n' "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
printf 'authority-infra\n' >"$tmp/src/build/version/package.txt"
for p in "$FERRETDB_PATCHES"/*.patch; do
  log "ferretdb $FERRETDB_VERSION: applying $(basename "$p")"
  # git apply outside a repository works on the current directory, like patch(1), which a
  # minimal Debian lacks.
  (cd "$tmp/src" && git apply "$p") || die "patch $p does not apply to FerretDB $FERRETDB_VERSION"
done

log "ferretdb $FERRETDB_VERSION: go build ./cmd/ferretdb (pure Go, CGO_ENABLED=0; takes ~1 min cold on 2 cores)"
(cd "$tmp/src" && CGO_ENABLED=0 go build -trimpath -o "$tmp/bin/ferretdb" ./cmd/ferretdb) 2>&1 \
  | sed '/^go: downloading /d' >&2 \
  || die "go build of FerretDB failed"
rm -rf "$tmp/src"

"$tmp/bin/ferretdb" --version | grep -q "^version: v$FERRETDB_VERSION\$" \
  || die "built binary does not report version v$FERRETDB_VERSION"
printf 'ferretdb %s\ngo %s\ninstalled %s\n' "$FERRETDB_VERSION" "$(go env GOVERSION)" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp/.installed"

rm -rf "$FERRETDB_HOME"
mv "$tmp" "$FERRETDB_HOME"
trap - EXIT
log "ferretdb $FERRETDB_VERSION: installed $BIN ($(du -sh "$BIN" | cut -f1)) in $(elapsed_since "$start")"

#!/usr/bin/env bash
# Install Debian's headless Chromium (renders the compliance report to PDF: `authority compliance
# report --format pdf`) and poppler-utils (pdftotext, pdfinfo, pdftoppm: the report's visual test)
# from the distribution's own repositories, never a browser download. Idempotent: a no-op when
# `chromium` (or AUTHORITY_CHROMIUM) and `pdftotext` are there. Needs root or sudo for apt-get.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
command -v "${AUTHORITY_CHROMIUM:-chromium}" >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [[ ${#missing[@]} -eq 0 ]]; then
  log "chromium: $("${AUTHORITY_CHROMIUM:-chromium}" --version 2>/dev/null | head -1) and poppler-utils already installed (no-op)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  die "chromium: missing ${missing[*]} and no apt-get here; install them with your package manager (or set AUTHORITY_CHROMIUM to a Chromium binary)"
fi
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "chromium: installing ${missing[*]} needs root (no sudo): apt-get install -y ${missing[*]}"
  sudo_cmd=(sudo -n)
fi
log "chromium: installing ${missing[*]} with apt-get"
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
  { "${sudo_cmd[@]}" apt-get update >&2 && "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
log "chromium: $("${AUTHORITY_CHROMIUM:-chromium}" --version 2>/dev/null | head -1) installed"

#!/usr/bin/env bash
# Start (`up`, the default) or stop (`down`) a Docker engine on this machine (ARCHITECTURE.md §8).
#   up:   when `docker info` already answers, do nothing. Otherwise install Debian's docker.io
#         (waiting for the dpkg lock) and start dockerd in the background, logging to
#         .infra/logs/dockerd.log, and wait until it answers.
#   down: stop the dockerd that `up` started (its pid is in .infra/dockerd.pid); an engine this
#         script did not start is left alone.
# Idempotent; scripts/infra/down.sh calls `down`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

engine_up() {
  if docker_answers; then
    log "docker engine answers: $(docker version -f '{{.Server.Version}}' 2>/dev/null)"
    return 0
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  command -v docker >/dev/null 2>&1 || die "docker client missing after installing docker.io"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local pid
  pid="$(cat "$DOCKERD_PID" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) is starting; waiting for it"
  else
    log "starting dockerd (log $DOCKERD_LOG)"
    # setsid: the engine outlives this script and is not hit by the terminal's Ctrl-C.
    setsid dockerd --host=unix:///var/run/docker.sock >>"$DOCKERD_LOG" 2>&1 </dev/null &
    echo $! >"$DOCKERD_PID"
  fi
  local deadline=$(( $(now_s) + 60 ))
  until docker_answers; do
    kill -0 "$(cat "$DOCKERD_PID")" 2>/dev/null || die "dockerd exited; see $DOCKERD_LOG"
    (( $(now_s) < deadline )) || die "dockerd does not answer after 60s; see $DOCKERD_LOG"
    sleep 0.5
  done
  log "docker engine up: $(docker version -f '{{.Server.Version}}')"
}

engine_down() {
  local pid
  pid="$(cat "$DOCKERD_PID" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$DOCKERD_PID"
    log "no dockerd started by this script is running"
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local deadline=$(( $(now_s) + STOP_TIMEOUT ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(now_s) >= deadline )); then
      log "dockerd did not stop in ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$DOCKERD_PID"
}

case "${1:-up}" in
  up) engine_up ;;
  down) engine_down ;;
  *) die "usage: $0 [up|down]" ;;
esac

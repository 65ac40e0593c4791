#!/usr/bin/env bash
# Stop what scripts/infra/up.sh started: SIGTERM, wait up to
# AUTHORITY_INFRA_STOP_TIMEOUT (30 s), then SIGKILL; remove the pid files.
#   down.sh            stop; keep data (topics, offsets, databases) for the next up.sh
#   down.sh --purge    stop and delete the data dirs (next up.sh starts empty)
#   down.sh --keep-engine  leave the Docker engine running (npm test's cleanup)
# Logs in .infra/logs and .infra/env are kept. Docker route: stops the
# containers (--purge removes them with their volumes). Last, stops the Docker
# engine if scripts/containers/engine.sh started it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
keep_engine=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    --keep-engine) keep_engine=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "usage: $0 [--purge] [--keep-engine]" ;;
  esac
done

if [[ ! -d "$RUN_DIR" ]]; then
  log "nothing to stop ($RUN_DIR does not exist)"
  exit 0
fi
stop_engine() { (( keep_engine )) || bash "$REPO_ROOT/scripts/containers/engine.sh" down; }
trap stop_engine EXIT
with_lock "$RUN_DIR/.lock"

# stop_service NAME PIDFILE NEEDLE: stop the process in PIDFILE and any other
# process whose argv contains NEEDLE (a path under RUN_DIR, so only ours).
stop_service() {
  local name="$1" pidfile="$2" needle="$3" pid found=0
  local -A pids=()
  pid="$(our_pid "$pidfile" "$needle")"
  [[ -z "$pid" ]] || pids["$pid"]=1
  while read -r pid; do
    if [[ -n "$pid" ]] && pid_alive "$pid"; then pids["$pid"]=1; fi
  done < <(pgrep -f -- "$needle" || true)
  for pid in "${!pids[@]}"; do
    found=1
    log "stopping $name (pid $pid)"
    stop_pid "$name" "$pid"
  done
  (( found )) || log "$name: not running"
  rm -f "$pidfile"
}

mode="$(cat "$RUN_DIR/mode" 2>/dev/null || echo local)"
if [[ "$mode" == docker ]]; then
  if docker_answers; then
    for c in "$DOCKER_KAFKA_NAME" "$DOCKER_MONGO_NAME"; do
      if (( purge )); then
        if docker rm -f -v "$c" >/dev/null 2>&1; then log "docker: removed $c"; else log "docker: $c not present"; fi
      else
        if docker stop -t "$STOP_TIMEOUT" "$c" >/dev/null 2>&1; then log "docker: stopped $c"; else log "docker: $c not running"; fi
      fi
    done
  else
    log "WARNING: last up.sh used Docker, but 'docker info' does not answer; checking for local processes only"
  fi
fi

stop_service kafka "$KAFKA_PID" "$KAFKA_STATE/server.properties"
stop_service ferretdb "$FERRETDB_PID" "--state-dir=$FERRETDB_STATE/state"

if (( purge )); then
  rm -rf "$KAFKA_STATE/data" "$KAFKA_STATE/cluster.id" "$FERRETDB_STATE/data" "$FERRETDB_STATE/state"
  log "purged data dirs under $RUN_DIR (kept logs and env)"
fi
rm -f "$RUN_DIR/mode"
log "down"

# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared helpers for scripts/infra/*.sh. Sourced, never executed.
#
# Conventions: diagnostics go to stderr (prefixed "[infra]"), so that the only
# thing up.sh prints on stdout is the `export ...` lines (`eval "$(up.sh)"` works).

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$INFRA_DIR/../.." && pwd -P)"

# Pinned versions (override with the env vars; see README.md).
KAFKA_VERSION="${AUTHORITY_KAFKA_VERSION:-4.4.0}"
KAFKA_SCALA="2.13"
FERRETDB_VERSION="${AUTHORITY_FERRETDB_VERSION:-1.24.2}"
MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

CACHE_ROOT="${AUTHORITY_INFRA_CACHE:-${HOME:-/tmp}/.cache/authority-infra}"
RUN_DIR="${AUTHORITY_INFRA_RUN:-$REPO_ROOT/.infra}"

KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
# FerretDB is built with the patches in ferretdb-patches/ (install-ferretdb.sh says why): their
# digest is part of the install directory, so a changed patch rebuilds it.
FERRETDB_PATCHES="$INFRA_DIR/ferretdb-patches"
FERRETDB_PATCH_ID="$(cat "$FERRETDB_PATCHES"/*.patch | sha256sum | cut -c1-12)"
FERRETDB_HOME="$CACHE_ROOT/ferretdb-$FERRETDB_VERSION-$FERRETDB_PATCH_ID"

INFRA_HOST="127.0.0.1"
KAFKA_PORT="${AUTHORITY_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${AUTHORITY_KAFKA_CONTROLLER_PORT:-19093}"
MONGO_PORT="${AUTHORITY_MONGO_PORT:-27018}"
READY_TIMEOUT="${AUTHORITY_INFRA_TIMEOUT:-120}"     # seconds, per service start
STOP_TIMEOUT="${AUTHORITY_INFRA_STOP_TIMEOUT:-30}"  # seconds before SIGKILL

LOG_DIR="$RUN_DIR/logs"
KAFKA_LOG="$LOG_DIR/kafka.log"
FERRETDB_LOG="$LOG_DIR/ferretdb.log"
KAFKA_PID="$RUN_DIR/kafka.pid"
FERRETDB_PID="$RUN_DIR/ferretdb.pid"
KAFKA_STATE="$RUN_DIR/kafka"          # server.properties, cluster.id, data/
FERRETDB_STATE="$RUN_DIR/ferretdb"    # data/ (SQLite files), state/
ENV_FILE="$RUN_DIR/env"

DOCKER_KAFKA_NAME="authority-infra-kafka"
DOCKER_MONGO_NAME="authority-infra-mongo"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# now_s: integer seconds since the epoch.
now_s() { date +%s; }

# elapsed_since START: "12s"-style text.
elapsed_since() { printf '%ss' "$(( $(now_s) - $1 ))"; }

require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "required command not found: $c"
  done
}

# with_lock FILE: take an exclusive lock on FILE via fd 9 for the rest of the
# calling shell (released at exit). Children that must outlive us get `9>&-`.
with_lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if ! flock -w 600 9; then
    die "could not take lock $1 within 600s (another infra script running?)"
  fi
}

# pid_alive PID: true if PID exists and is not a zombie.
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [[ -n "$state" && "$state" != "Z" && "$state" != "X" ]]
}

# pid_cmdline_has PID NEEDLE: true if the process's argv contains NEEDLE.
pid_cmdline_has() {
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$2"* ]]
}

# read_pid PIDFILE: prints the pid in the file (empty if none).
read_pid() {
  [[ -f "$1" ]] || return 0
  tr -dc '0-9' <"$1"
}

# our_pid PIDFILE NEEDLE: prints the pid from PIDFILE if that process is alive
# and really is ours (its argv contains NEEDLE, a path under RUN_DIR); else
# prints nothing.
our_pid() {
  local pid
  pid="$(read_pid "$1")"
  if [[ -n "$pid" ]] && pid_alive "$pid" && pid_cmdline_has "$pid" "$2"; then
    printf '%s\n' "$pid"
  fi
}

# port_open PORT: true if something accepts TCP connections on INFRA_HOST:PORT.
port_open() {
  # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$INFRA_HOST" "$1" 2>/dev/null
}

# start_daemon PIDFILE LOGFILE WORKDIR CMD...: start CMD in WORKDIR in its own
# session, detached from our terminal, stdout+stderr appended to LOGFILE. The
# pid written to PIDFILE is CMD's own pid (bash writes $$, then execs CMD).
start_daemon() {
  local pidfile="$1" logfile="$2" workdir="$3"
  shift 3
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$, $0, $1 and $@ are expanded by the inner bash.
  nohup setsid bash -c 'cd "$1" && echo "$$" >"$0.tmp" && mv "$0.tmp" "$0" && shift && exec "$@"' \
    "$pidfile" "$workdir" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  local deadline=$(( $(now_s) + 10 ))
  until [[ -s "$pidfile" ]]; do
    (( $(now_s) < deadline )) || die "process did not start (no pid file $pidfile); see $logfile"
    sleep 0.05
  done
}

# stop_pid NAME PID: SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pid() {
  local name="$1" pid="$2" start deadline
  start="$(now_s)"
  deadline=$(( start + STOP_TIMEOUT ))
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if (( $(now_s) >= deadline )); then
      log "$name (pid $pid) still running after ${STOP_TIMEOUT}s: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(( $(now_s) + 10 ))
      while pid_alive "$pid"; do
        (( $(now_s) < deadline )) || die "$name (pid $pid) survived SIGKILL"
        sleep 0.1
      done
      return 0
    fi
    sleep 0.1
  done
  log "stopped $name (pid $pid) in $(elapsed_since "$start")"
}

# rotate_log FILE: keep the log below ~50 MiB across restarts.
rotate_log() {
  local f="$1" size
  [[ -f "$f" ]] || return 0
  size="$(stat -c %s "$f")"
  if (( size > 50 * 1024 * 1024 )); then
    mv -f "$f" "$f.1"
  fi
}

# fail_start NAME LOGFILE MESSAGE: print MESSAGE, the tail of the log, and exit 1.
fail_start() {
  local name="$1" logfile="$2" msg="$3"
  {
    printf '[infra] ERROR: %s did not become ready: %s\n' "$name" "$msg"
    printf '[infra] log: %s (last lines of this start follow)\n' "$logfile"
    # From the last "==== ... starting" marker that up.sh wrote, at most 40 lines.
    awk '/^==== /{n=NR} {l[NR]=$0} END{for(i=(n?n:1);i<=NR;i++) print l[i]}' "$logfile" 2>/dev/null \
      | tail -n 40 | sed 's/^/    | /' || true
  } >&2
  exit 1
}

docker_answers() {
  command -v docker >/dev/null 2>&1 || return 1
  timeout 5 docker info >/dev/null 2>&1
}

# wait_port NAME PID PORT LOGFILE DEADLINE: poll until PORT accepts
# connections; fail (pointing at LOGFILE) if PID dies or DEADLINE passes.
wait_port() {
  local name="$1" pid="$2" port="$3" logfile="$4" deadline="$5"
  until port_open "$port"; do
    pid_alive "$pid" || fail_start "$name" "$logfile" "process $pid exited before opening port $port"
    if (( $(now_s) >= deadline )); then
      stop_pid "$name" "$pid"
      fail_start "$name" "$logfile" "port $port not open after ${READY_TIMEOUT}s (process stopped; raise AUTHORITY_INFRA_TIMEOUT?)"
    fi
    sleep 0.2
  done
}

# wait_probe NAME PID LOGFILE DEADLINE PROBE...: run PROBE (which retries on
# its own until its timeout) in the background; succeed when it exits 0, fail
# if it exits non-zero, if PID dies meanwhile, or at DEADLINE.
wait_probe() {
  local name="$1" pid="$2" logfile="$3" deadline="$4" probe_pid rc=0
  shift 4
  "$@" >&2 9>&- &
  probe_pid=$!
  while pid_alive "$probe_pid"; do
    if ! pid_alive "$pid"; then
      kill "$probe_pid" 2>/dev/null || true
      wait "$probe_pid" 2>/dev/null || true
      fail_start "$name" "$logfile" "process $pid exited during the readiness check"
    fi
    if (( $(now_s) >= deadline + 5 )); then
      kill "$probe_pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$probe_pid" || rc=$?
  if (( rc != 0 )); then
    stop_pid "$name" "$pid"
    fail_start "$name" "$logfile" "readiness probe failed (exit $rc; process stopped; raise AUTHORITY_INFRA_TIMEOUT?)"
  fi
}

#!/usr/bin/env bash
# Make Kafka and a MongoDB-wire server available for tests and local runs
# (ARCHITECTURE.md §8), then print `export KAFKA_BROKERS=...` and
# `export MONGODB_URI=...` on stdout (everything else goes to stderr), so
#   eval "$(scripts/infra/up.sh)"     or     scripts/infra/up.sh && . .infra/env
# Discovery order:
#   1. KAFKA_BROKERS and MONGODB_URI both set -> start nothing, echo them.
#      (Values that up.sh itself wrote to .infra/env don't count: sourcing
#      .infra/env and re-running up.sh still (re)starts the local stack.)
#   2. a Docker engine answers `docker info` -> containers from the images
#      scripts/containers/base-images.sh builds locally (Kafka, FerretDB; never pulled).
#   3. otherwise install (cached) and start on loopback Kafka in KRaft combined
#      mode and FerretDB (SQLite backend) as plain processes; reuse them if
#      already running.
# AUTHORITY_INFRA_MODE=local|docker forces route 3 or 2. See README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "usage: $0 [--help]" ;;
esac

KAFKA_BROKERS_LOCAL="$INFRA_HOST:$KAFKA_PORT"
KAFKA_HEAP_OPTS="${AUTHORITY_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
MONGODB_URI_LOCAL="mongodb://$INFRA_HOST:$MONGO_PORT/"

print_exports() { # print_exports KAFKA_BROKERS MONGODB_URI
  printf 'export KAFKA_BROKERS=%q\nexport MONGODB_URI=%q\n' "$1" "$2"
}

# env_file_value NAME: the value our last run wrote for NAME (empty if none).
env_file_value() {
  [[ -f "$ENV_FILE" ]] || return 0
  sed -n "s/^export $1=//p" "$ENV_FILE" | tail -n1
}

# ---------------------------------------------------------------- route 1
ext_kafka="${KAFKA_BROKERS:-}"
ext_mongo="${MONGODB_URI:-}"
if [[ -n "$ext_kafka" && "$ext_kafka" == "$(env_file_value KAFKA_BROKERS)" ]]; then ext_kafka=""; fi
if [[ -n "$ext_mongo" && "$ext_mongo" == "$(env_file_value MONGODB_URI)" ]]; then ext_mongo=""; fi
if [[ -n "$ext_kafka" && -n "$ext_mongo" ]]; then
  log "KAFKA_BROKERS and MONGODB_URI are set in the environment: using them, starting nothing"
  print_exports "$ext_kafka" "$ext_mongo"
  exit 0
fi
if [[ -n "$ext_kafka" || -n "$ext_mongo" ]]; then
  log "WARNING: only one of KAFKA_BROKERS / MONGODB_URI is set; both are needed to skip the local start. Starting both here; the exports below replace it."
fi

mkdir -p "$RUN_DIR" "$LOG_DIR"
[[ -f "$RUN_DIR/.gitignore" ]] || printf '# runtime state of scripts/infra (logs, data, pids)\n*\n' >"$RUN_DIR/.gitignore"
with_lock "$RUN_DIR/.lock"

write_env() {
  {
    printf '# written by scripts/infra/up.sh (%s route) at %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    print_exports "$KAFKA_BROKERS_LOCAL" "$MONGODB_URI_LOCAL"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  printf '%s\n' "$1" >"$RUN_DIR/mode"
  log "wrote $ENV_FILE"
  print_exports "$KAFKA_BROKERS_LOCAL" "$MONGODB_URI_LOCAL"
}

# ---------------------------------------------------------------- route 2
# Containers from images built on this machine (scripts/containers/base-images.sh: Kafka from the
# same Maven Central jars as route 3, FerretDB from the same binary); `--pull never`, so a machine
# without registry access never tries one. AUTHORITY_KAFKA_IMAGE / AUTHORITY_MONGO_IMAGE name
# other images (which must then exist locally too).
docker_up() {
  local kafka_image="${AUTHORITY_KAFKA_IMAGE:-authority-infra/kafka:$KAFKA_VERSION}"
  local mongo_image="${AUTHORITY_MONGO_IMAGE:-authority-infra/ferretdb:$FERRETDB_VERSION}"
  local deadline
  if [[ -z "${AUTHORITY_KAFKA_IMAGE:-}" || -z "${AUTHORITY_MONGO_IMAGE:-}" ]]; then
    bash "$REPO_ROOT/scripts/containers/base-images.sh" || die "docker: building the local images failed"
  fi
  ensure_container() { # NAME RUN-ARGS...
    local name="$1" running
    shift
    running="$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)"
    if [[ "$running" == "true" ]]; then
      log "docker: $name already running, reusing"
    elif [[ -n "$running" ]]; then
      log "docker: starting existing container $name"
      docker start "$name" >/dev/null
    else
      log "docker: docker run $name"
      docker run -d --pull never --name "$name" --label authority-infra=1 "$@" >/dev/null
    fi
  }
  ensure_container "$DOCKER_KAFKA_NAME" -p "$INFRA_HOST:$KAFKA_PORT:9092" \
    -e "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://$KAFKA_BROKERS_LOCAL" \
    -e "KAFKA_HEAP_OPTS=$KAFKA_HEAP_OPTS" \
    "$kafka_image"
  ensure_container "$DOCKER_MONGO_NAME" -p "$INFRA_HOST:$MONGO_PORT:27017" "$mongo_image"

  deadline=$(( $(now_s) + READY_TIMEOUT ))
  until docker logs "$DOCKER_KAFKA_NAME" 2>&1 | grep -q 'Kafka Server started'; do
    [[ "$(docker inspect -f '{{.State.Running}}' "$DOCKER_KAFKA_NAME")" == true ]] \
      || die "docker: kafka container exited; see: docker logs $DOCKER_KAFKA_NAME"
    (( $(now_s) < deadline )) || die "docker: kafka not ready after ${READY_TIMEOUT}s; see: docker logs $DOCKER_KAFKA_NAME"
    sleep 1
  done
  log "docker: kafka ready"
  node "$INFRA_DIR/mongo-ping.mjs" "$INFRA_HOST" "$MONGO_PORT" "$(( (deadline - $(now_s)) * 1000 ))" >&2 \
    || die "docker: mongo not ready; see: docker logs $DOCKER_MONGO_NAME"
  write_env docker
}

KAFKA_NEEDLE="$KAFKA_STATE/server.properties"
FERRETDB_NEEDLE="--state-dir=$FERRETDB_STATE/state"

write_kafka_config() {
  mkdir -p "$KAFKA_STATE/data"
  cat >"$KAFKA_STATE/server.properties.tmp" <<EOF
# generated by scripts/infra/up.sh: single-node KRaft (combined broker+controller) for tests
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$INFRA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$INFRA_HOST:$KAFKA_PORT,CONTROLLER://$INFRA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$INFRA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_STATE/data
auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.num.partitions=10
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# after a kill -9 the restarted broker waits for its old session to expire
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=104857600
EOF
  mv "$KAFKA_STATE/server.properties.tmp" "$KAFKA_STATE/server.properties"
}

kafka_java() { # kafka_java JVM-OPTS-AND-CLASS-AND-ARGS...
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags.
  printf '%s\0' java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$INFRA_DIR/kafka-log4j2.xml" \
    -cp "$KAFKA_HOME/libs/*" "$@"
}

# Pids started by this invocation: stopped again if up.sh fails half-way.
STARTED_PIDS=()
cleanup_on_failure() {
  local rc=$? entry
  if (( rc != 0 && ${#STARTED_PIDS[@]} > 0 )); then
    log "up.sh failed: stopping what it started (${STARTED_PIDS[*]})"
    for entry in "${STARTED_PIDS[@]}"; do
      if pid_alive "${entry#*:}"; then stop_pid "${entry%%:*}" "${entry#*:}" || true; fi
    done
    rm -f "$KAFKA_PID" "$FERRETDB_PID"
  fi
  exit "$rc"
}

# kafka_check: set KAFKA_STARTED_PID if our broker already runs, else make
# sure its ports are free. Nothing is started yet.
KAFKA_STARTED_PID=""
kafka_check() {
  local pid running_port p
  pid="$(our_pid "$KAFKA_PID" "$KAFKA_NEEDLE")"
  if [[ -n "$pid" ]]; then
    running_port="$(cat "$KAFKA_STATE/port" 2>/dev/null || true)"
    [[ "$running_port" == "$KAFKA_PORT" ]] \
      || die "kafka (pid $pid) is running on port ${running_port:-?}, not $KAFKA_PORT; run scripts/infra/down.sh first"
    log "kafka: already running (pid $pid) on $KAFKA_BROKERS_LOCAL, reusing"
    KAFKA_STARTED_PID="$pid"
    return 0
  fi
  rm -f "$KAFKA_PID"
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    ! port_open "$p" || die "port $INFRA_HOST:$p is in use by a process up.sh did not start; stop it or set AUTHORITY_KAFKA_PORT / AUTHORITY_KAFKA_CONTROLLER_PORT"
  done
}

kafka_start() {
  [[ -z "$KAFKA_STARTED_PID" ]] || return 0
  local cid
  local -a cmd
  write_kafka_config
  printf '%s\n' "$KAFKA_PORT" >"$KAFKA_STATE/port"
  rotate_log "$KAFKA_LOG"
  if [[ ! -f "$KAFKA_STATE/data/meta.properties" ]]; then
    mapfile -d '' cmd < <(kafka_java kafka.tools.StorageTool random-uuid)
    cid="$("${cmd[@]}" 2>>"$KAFKA_LOG" | tail -n1)"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: could not generate a cluster id (got '$cid'); see $KAFKA_LOG"
    printf '%s\n' "$cid" >"$KAFKA_STATE/cluster.id"
    log "kafka: formatting $KAFKA_STATE/data (KRaft, cluster id $cid)"
    mapfile -d '' cmd < <(kafka_java kafka.tools.StorageTool format --cluster-id="$cid" -c "$KAFKA_STATE/server.properties")
    "${cmd[@]}" >>"$KAFKA_LOG" 2>&1 || die "kafka: storage format failed; see $KAFKA_LOG"
  fi
  printf '==== %s scripts/infra/up.sh: starting kafka %s on %s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$KAFKA_VERSION" "$KAFKA_BROKERS_LOCAL" >>"$KAFKA_LOG"
  mapfile -d '' cmd < <(kafka_java kafka.Kafka "$KAFKA_STATE/server.properties")
  start_daemon "$KAFKA_PID" "$KAFKA_LOG" "$KAFKA_STATE" "${cmd[@]}"
  KAFKA_STARTED_PID="$(read_pid "$KAFKA_PID")"
  STARTED_PIDS+=("kafka:$KAFKA_STARTED_PID")
  log "kafka: started pid $KAFKA_STARTED_PID (log $KAFKA_LOG)"
}

kafka_wait() {
  local start deadline
  start="$(now_s)"
  deadline=$(( start + READY_TIMEOUT ))
  wait_port kafka "$KAFKA_STARTED_PID" "$KAFKA_PORT" "$KAFKA_LOG" "$deadline"
  wait_probe kafka "$KAFKA_STARTED_PID" "$KAFKA_LOG" "$deadline" \
    java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j2.level=ERROR \
    -cp "$KAFKA_HOME/libs/*" "$INFRA_DIR/KafkaReady.java" \
    "$KAFKA_BROKERS_LOCAL" "$(( (deadline - $(now_s)) * 1000 ))"
  log "kafka: ready on $KAFKA_BROKERS_LOCAL (waited $(elapsed_since "$start"))"
}

FERRETDB_STARTED_PID=""
ferretdb_check() {
  local pid
  pid="$(our_pid "$FERRETDB_PID" "$FERRETDB_NEEDLE")"
  if [[ -n "$pid" ]]; then
    pid_cmdline_has "$pid" "--listen-addr=$INFRA_HOST:$MONGO_PORT" \
      || die "ferretdb (pid $pid) is running on another port than $MONGO_PORT; run scripts/infra/down.sh first"
    log "ferretdb: already running (pid $pid) on $INFRA_HOST:$MONGO_PORT, reusing"
    FERRETDB_STARTED_PID="$pid"
    return 0
  fi
  rm -f "$FERRETDB_PID"
  ! port_open "$MONGO_PORT" \
    || die "port $INFRA_HOST:$MONGO_PORT is in use by a process up.sh did not start; stop it or set AUTHORITY_MONGO_PORT"
}

ferretdb_start() {
  [[ -z "$FERRETDB_STARTED_PID" ]] || return 0
  mkdir -p "$FERRETDB_STATE/data" "$FERRETDB_STATE/state"
  rotate_log "$FERRETDB_LOG"
  printf '==== %s scripts/infra/up.sh: starting ferretdb %s (sqlite) on %s:%s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$FERRETDB_VERSION" "$INFRA_HOST" "$MONGO_PORT" >>"$FERRETDB_LOG"
  start_daemon "$FERRETDB_PID" "$FERRETDB_LOG" "$FERRETDB_STATE" \
    "$FERRETDB_HOME/bin/ferretdb" \
    --handler=sqlite \
    "--sqlite-url=file:$FERRETDB_STATE/data/" \
    "--state-dir=$FERRETDB_STATE/state" \
    "--listen-addr=$INFRA_HOST:$MONGO_PORT" \
    --debug-addr=- \
    --telemetry=disable \
    --log-level=INFO
  FERRETDB_STARTED_PID="$(read_pid "$FERRETDB_PID")"
  STARTED_PIDS+=("ferretdb:$FERRETDB_STARTED_PID")
  log "ferretdb: started pid $FERRETDB_STARTED_PID (log $FERRETDB_LOG)"
}

ferretdb_wait() {
  local start deadline
  start="$(now_s)"
  deadline=$(( start + READY_TIMEOUT ))
  wait_probe ferretdb "$FERRETDB_STARTED_PID" "$FERRETDB_LOG" "$deadline" \
    node "$INFRA_DIR/mongo-ping.mjs" "$INFRA_HOST" "$MONGO_PORT" "$(( READY_TIMEOUT * 1000 ))"
  log "ferretdb: ready on $INFRA_HOST:$MONGO_PORT (waited $(elapsed_since "$start"))"
}

local_up() {
  require_cmd java node
  "$INFRA_DIR/install-kafka.sh" 9>&-
  "$INFRA_DIR/install-ferretdb.sh" 9>&-
  kafka_check
  ferretdb_check
  trap cleanup_on_failure EXIT
  kafka_start
  ferretdb_start
  ferretdb_wait
  kafka_wait
  write_env local
  trap - EXIT
}

# ---------------------------------------------------------------- main
t0="$(now_s)"
mode="${AUTHORITY_INFRA_MODE:-auto}"
case "$mode" in
  local) route=local ;;
  docker) docker_answers || die "AUTHORITY_INFRA_MODE=docker but 'docker info' does not answer"; route=docker ;;
  auto)
    if docker_answers; then route=docker; else route=local; fi ;;
  *) die "AUTHORITY_INFRA_MODE must be auto, local or docker (got '$mode')" ;;
esac
log "route: $route (state in $RUN_DIR)"
# The compliance report's PDF and its visual test (either route); the services do not need it.
"$INFRA_DIR/install-chromium.sh" 9>&- || log "warning: chromium not installed: the report's PDF (and its test) need it"
if [[ "$route" == docker ]]; then docker_up; else local_up; fi
log "up in $(elapsed_since "$t0")"

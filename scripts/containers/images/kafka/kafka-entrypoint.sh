#!/bin/bash
# Writes server.properties and starts Kafka in KRaft mode. Every environment variable
# KAFKA_<NAME> (except KAFKA_HEAP_OPTS and KAFKA_CLUSTER_ID) sets property <name> with `_` → `.`
# and lower-cased (KAFKA_NODE_ID=2 → node.id=2), over single-node defaults. KAFKA_CLUSTER_ID
# (22 characters) formats the storage on first start; all nodes of one cluster need the same id.
set -euo pipefail
CONFIG=/var/lib/kafka/server.properties
DATA=/var/lib/kafka/data
declare -A props=(
  [process.roles]=broker,controller
  [node.id]=1
  [controller.quorum.voters]=1@localhost:9093
  [listeners]=PLAINTEXT://:9092,CONTROLLER://:9093
  [advertised.listeners]=PLAINTEXT://localhost:9092
  [controller.listener.names]=CONTROLLER
  [inter.broker.listener.name]=PLAINTEXT
  [listener.security.protocol.map]=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
  [log.dirs]=$DATA
  [auto.create.topics.enable]=true
  [num.partitions]=3
  [default.replication.factor]=1
  [min.insync.replicas]=1
  [offsets.topic.replication.factor]=1
  [transaction.state.log.replication.factor]=1
  [transaction.state.log.min.isr]=1
  [share.coordinator.state.topic.replication.factor]=1
  [share.coordinator.state.topic.min.isr]=1
  [group.initial.rebalance.delay.ms]=0
  [broker.heartbeat.interval.ms]=1000
  [broker.session.timeout.ms]=4000
  [num.network.threads]=2
  [num.io.threads]=4
)
while IFS='=' read -r name value; do
  case "$name" in KAFKA_HEAP_OPTS|KAFKA_CLUSTER_ID|KAFKA_JVM_OPTS) continue ;; esac
  key="$(printf '%s' "${name#KAFKA_}" | tr 'A-Z_' 'a-z.')"
  props[$key]="$value"
done < <(env | grep '^KAFKA_' || true)
: >"$CONFIG.tmp"
for key in "${!props[@]}"; do printf '%s=%s\n' "$key" "${props[$key]}" >>"$CONFIG.tmp"; done
mv "$CONFIG.tmp" "$CONFIG"

java_cmd=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml ${KAFKA_JVM_OPTS:-}
  -cp '/opt/kafka/libs/*')
if [[ ! -f "$DATA/meta.properties" ]]; then
  cluster_id="${KAFKA_CLUSTER_ID:-$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid | tail -n1)}"
  "${java_cmd[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$CONFIG" --ignore-formatted
fi
exec "${java_cmd[@]}" kafka.Kafka "$CONFIG"

#!/usr/bin/env bash
# Starts the dev Kafka broker of pod $POD_NAME (StatefulSet ordinal = node id). The config is
# assembled in /tmp (the root filesystem is read-only), the data directory is formatted once
# (KRaft), then the broker replaces this shell.
set -euo pipefail
ordinal="${POD_NAME##*-}"
host="${POD_NAME}.kafka-headless.${POD_NAMESPACE}.svc"
conf=/tmp/server.properties
cp /etc/kafka-config/server.properties "$conf"
{
  echo "node.id=${ordinal}"
  echo "controller.quorum.voters=${ordinal}@${host}:9093"
  echo "advertised.listeners=PLAINTEXT://${host}:9092"
} >>"$conf"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "${KAFKA_CLUSTER_ID}" -c "$conf"
exec /opt/kafka/bin/kafka-server-start.sh "$conf"

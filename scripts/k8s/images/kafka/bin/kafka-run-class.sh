#!/bin/bash
# kafka-run-class.sh CLASS ARGS...: what the apache/kafka image's script of that name does, for
# the local image (JVM options from KAFKA_HEAP_OPTS / KAFKA_LOG4J_OPTS / KAFKA_OPTS).
set -euo pipefail
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.xml} ${KAFKA_OPTS:-} \
  -cp '/opt/kafka/libs/*:/opt/kafka/tools-libs/*' "$@"

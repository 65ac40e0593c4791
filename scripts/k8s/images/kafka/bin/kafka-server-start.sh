#!/bin/bash
# kafka-server-start.sh CONFIG: the broker, logging to stdout.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}" \
KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/log4j2.xml}" \
  exec /opt/kafka/bin/kafka-run-class.sh kafka.Kafka "$@"

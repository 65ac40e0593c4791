#!/usr/bin/env bash
# Creates the Authority topics, or checks and reconciles them when they exist. Idempotent.
#   <prefix>keys, <prefix>policies, <prefix>revocations: compacted state (never deleted by time)
#   <prefix>audit: AUDIT_PARTITIONS partitions (a tenant's events stay on one), AUDIT_RETENTION_MS
#   <prefix>checkpoints: kept forever (restores are verified against them)
#   <prefix>chain: what the auditor chained, AUDIT_PARTITIONS partitions, AUDIT_RETENTION_MS
# Environment: KAFKA_BROKERS (required), AUTHORITY_TOPIC_PREFIX (default "authority."),
# REPLICATION_FACTOR, MIN_INSYNC_REPLICAS, STATE_PARTITIONS, AUDIT_PARTITIONS,
# CHECKPOINT_PARTITIONS, AUDIT_RETENTION_MS, WAIT_FOR_BROKERS_SECONDS, and optionally
# KAFKA_COMMAND_CONFIG (a client properties file for TLS/SASL) and KAFKA_BIN (default /opt/kafka/bin).
set -euo pipefail

: "${KAFKA_BROKERS:?KAFKA_BROKERS is not set}"
prefix="${AUTHORITY_TOPIC_PREFIX-authority.}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
rf="${REPLICATION_FACTOR:-1}"
min_isr="${MIN_INSYNC_REPLICAS:-1}"
state_partitions="${STATE_PARTITIONS:-3}"
audit_partitions="${AUDIT_PARTITIONS:-6}"
checkpoint_partitions="${CHECKPOINT_PARTITIONS:-3}"
audit_retention_ms="${AUDIT_RETENTION_MS:-604800000}"
wait_seconds="${WAIT_FOR_BROKERS_SECONDS:-600}"
client=()
if [[ -n "${KAFKA_COMMAND_CONFIG:-}" ]]; then client=(--command-config "$KAFKA_COMMAND_CONFIG"); fi

log() { printf '%s create-topics: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
kt() { "$bin/kafka-topics.sh" --bootstrap-server "$KAFKA_BROKERS" "${client[@]}" "$@"; }

for n in "$rf" "$min_isr" "$state_partitions" "$audit_partitions" "$checkpoint_partitions" "$wait_seconds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "expected a positive integer, got '$n'"
done
[[ "$audit_retention_ms" =~ ^([1-9][0-9]*|-1)$ ]] || die "AUDIT_RETENTION_MS: expected milliseconds or -1, got '$audit_retention_ms'"
(( min_isr <= rf )) || die "MIN_INSYNC_REPLICAS ($min_isr) exceeds REPLICATION_FACTOR ($rf): every acks=all write would fail"

deadline=$(( $(date +%s) + wait_seconds ))
until existing="$(kt --list 2>/dev/null)"; do
  (( $(date +%s) < deadline )) || die "brokers $KAFKA_BROKERS not reachable after ${wait_seconds}s"
  log "waiting for brokers $KAFKA_BROKERS"
  sleep 5
done

# ensure NAME PARTITIONS CONFIG... : create with the configs, or reconcile an existing topic.
ensure() {
  local topic="$prefix$1" want="$2"
  shift 2
  local configs=("$@") joined current current_rf end_offsets total
  joined="$(IFS=,; echo "${configs[*]}")"
  if ! grep -Fxq -- "$topic" <<<"$existing"; then
    local args=()
    for c in "${configs[@]}"; do args+=(--config "$c"); done
    kt --create --if-not-exists --topic "$topic" --partitions "$want" --replication-factor "$rf" "${args[@]}"
    log "created $topic (partitions $want, replication $rf, $joined)"
    return
  fi
  local described
  described="$(kt --describe --topic "$topic")"
  current="$(sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' <<<"$described" | head -n1)"
  current_rf="$(sed -n 's/.*ReplicationFactor:[[:space:]]*\([0-9][0-9]*\).*/\1/p' <<<"$described" | head -n1)"
  [[ -n "$current" ]] || die "cannot read the partition count of $topic"
  if (( current < want )); then
    # Adding partitions re-maps keys (tenants, ids) to partitions: only safe while nothing was written.
    end_offsets="$("$bin/kafka-get-offsets.sh" --bootstrap-server "$KAFKA_BROKERS" "${client[@]}" --topic "$topic" --time -1)"
    total=0
    while IFS=: read -r _ _ offset; do
      [[ "$offset" =~ ^[0-9]+$ ]] && total=$(( total + offset ))
    done <<<"$end_offsets"
    if (( total == 0 )); then
      kt --alter --topic "$topic" --partitions "$want"
      log "$topic was empty with $current partitions: now $want"
    else
      die "$topic has $current partitions and holds data; $want wanted. Adding partitions would move tenants/keys to other partitions and break their order. Keep $current (set the count to $current here) or migrate (docs/operations.md)."
    fi
  elif (( current > want )); then
    log "WARNING: $topic has $current partitions, more than the $want configured; keeping $current (partitions can never be removed)"
  fi
  if [[ -n "$current_rf" && "$current_rf" != "$rf" ]]; then
    log "WARNING: $topic has replication factor $current_rf, not $rf; change it with kafka-reassign-partitions.sh"
  fi
  "$bin/kafka-configs.sh" --bootstrap-server "$KAFKA_BROKERS" "${client[@]}" \
    --alter --entity-type topics --entity-name "$topic" --add-config "$joined" >/dev/null
  log "checked $topic (partitions $(( current > want ? current : want )), $joined)"
}

state=(cleanup.policy=compact retention.ms=-1 "min.insync.replicas=$min_isr")
ensure keys "$state_partitions" "${state[@]}"
ensure policies "$state_partitions" "${state[@]}"
ensure revocations "$state_partitions" "${state[@]}"
ensure audit "$audit_partitions" cleanup.policy=delete "retention.ms=$audit_retention_ms" "min.insync.replicas=$min_isr"
ensure checkpoints "$checkpoint_partitions" cleanup.policy=delete retention.ms=-1 "min.insync.replicas=$min_isr"
ensure chain "$audit_partitions" cleanup.policy=delete "retention.ms=$audit_retention_ms" "min.insync.replicas=$min_isr"

kt --describe --topic "^${prefix//./\\.}(keys|policies|revocations|audit|checkpoints|chain)\$" || true
log "done"

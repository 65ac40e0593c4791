// What the auditor publishes: signed checkpoints on `<prefix>checkpoints` (key = tenant, proto3 JSON
// `Checkpoint`, CloudEvents binary-mode headers with ce_type authority.checkpoint.v1), and what it
// chained on `<prefix>chain` (key = tenant, `ChainRecord`, ce_type authority.chain.v1).
import { decodeBase64Url, EVENT_TYPES, eventSource, recordKeys, type SignedCheckpoint } from '@authority/core';
import { cloudEventHeaders, type EventBus } from '@authority/platform';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import type { EntryDoc } from './mongo';

export const CE_SOURCE = eventSource('auditor');
export const CE_TYPE_CHECKPOINT = EVENT_TYPES.checkpoint;
export const CE_TYPE_CHAIN = EVENT_TYPES.chain;

/** A signed checkpoint as the `Checkpoint` event message. */
export function checkpointEvent(cp: SignedCheckpoint): pb.Checkpoint {
  return createMessage(pb.CheckpointSchema, {
    tenant: cp.tenant,
    seq: BigInt(cp.seq),
    headHash: cp.headHash,
    time: timestampFromDate(new Date(cp.time * 1000)),
    keyId: cp.keyId,
    signature: decodeBase64Url(cp.signature) ?? new Uint8Array(0),
  });
}

/** Publishes checkpoints (resolves when Kafka acknowledged, acks=all). */
export function checkpointPublisher(
  bus: Pick<EventBus, 'publish'>,
  topic: string,
): (cp: SignedCheckpoint) => Promise<void> {
  return async (cp) => {
    await bus.publish(topic, [
      {
        key: recordKeys.tenant(cp.tenant),
        value: encodeEvent(pb.CheckpointSchema, checkpointEvent(cp)),
        headers: cloudEventHeaders({
          id: `checkpoint/${cp.tenant}/${cp.seq}/${cp.keyId}`,
          type: CE_TYPE_CHECKPOINT,
          source: CE_SOURCE,
          subject: cp.tenant,
          time: new Date(cp.time * 1000),
        }),
      },
    ]);
  };
}

/** A stored chain entry as the `ChainRecord` event message. */
export function chainRecordEvent(e: EntryDoc): pb.ChainRecord {
  return createMessage(pb.ChainRecordSchema, {
    tenant: e.tenant,
    seq: BigInt(e.seq),
    hash: e.hash,
    prevHash: e.prevHash,
    eventId: e.eventId,
    rawEvent: e.raw.buffer.subarray(0, e.raw.position),
    recordedAt: timestampFromDate(e.recordedAt),
  });
}

/** Publishes chained entries on the chain topic, in order (resolves when Kafka acknowledged). */
export function chainPublisher(
  bus: Pick<EventBus, 'publish'>,
  topic: string,
): (entries: readonly EntryDoc[]) => Promise<void> {
  return async (entries) => {
    await bus.publish(
      topic,
      entries.map((e) => ({
        key: recordKeys.tenant(e.tenant),
        value: encodeEvent(pb.ChainRecordSchema, chainRecordEvent(e)),
        headers: cloudEventHeaders({
          id: `chain/${e.tenant}/${e.seq}`,
          type: CE_TYPE_CHAIN,
          source: CE_SOURCE,
          subject: e.tenant,
          time: e.recordedAt,
        }),
      })),
    );
  };
}

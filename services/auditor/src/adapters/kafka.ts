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

const YEAR_1 = Date.parse('0001-01-01T00:00:00Z');
const YEAR_9999 = Date.parse('9999-12-31T23:59:59Z');

/**
 * The proto3 JSON bytes of an entry's ChainRecord, written directly: the same bytes as
 * encodeEvent(ChainRecordSchema, chainRecordEvent(e)) (fields in number order, defaults omitted,
 * int64 as a string, bytes as padded standard base64, the timestamp as protobuf-es writes a
 * millisecond one), proven equal by test/unit/chain-record.test.ts, at a fraction of the cost of
 * building and reflecting a message (the chain feed writes one per chained entry).
 */
export function encodeChainRecord(e: EntryDoc): Buffer {
  const ms = e.recordedAt.getTime();
  // Outside what a Timestamp holds: protobuf-es's own encoder (and its error).
  if (!(ms >= YEAR_1 && ms <= YEAR_9999) || !Number.isSafeInteger(e.seq))
    return encodeEvent(pb.ChainRecordSchema, chainRecordEvent(e));
  const raw = e.raw.buffer.subarray(0, e.raw.position);
  const json: Record<string, string> = {};
  if (e.tenant !== '') json['tenant'] = e.tenant;
  if (e.seq !== 0) json['seq'] = String(e.seq);
  if (e.hash !== '') json['hash'] = e.hash;
  if (e.prevHash !== '') json['prevHash'] = e.prevHash;
  if (e.eventId !== '') json['eventId'] = e.eventId;
  if (raw.length > 0) json['rawEvent'] = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64');
  json['recordedAt'] = e.recordedAt.toISOString().replace('.000Z', 'Z');
  return Buffer.from(JSON.stringify(json));
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
        value: encodeChainRecord(e),
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

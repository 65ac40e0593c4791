// Cheaper kafkajs produce path: the record encoder and the grouping of a batch's messages by
// partition are replaced by an explicit, reviewed patch of kafkajs 2.2.4 (patches/kafkajs+2.2.4.patch,
// applied by patch-package at `npm ci` and in the container build), so every producer of the
// repository runs them; this module checks that the patch is in place and adds a caching
// partitioner for the audit producer thread.
//
// Why: kafkajs encodes each record with one Encoder per record plus one per header (each a
// zero-filled 512-byte Buffer), and every varint through a temporary array and Buffer.from: for an
// audit event with 8 CloudEvents/trace headers that is ~30 allocations and most of the producer's
// CPU (measured: ~28 µs per message, ~33k messages/s per core). The patched encoder writes the same
// bytes into one exactly-sized buffer (kafkajs' own is kept as `.original`, the fallback for
// anything but the common shape; test/unit/kafkajs-fast.test.ts checks byte equality). kafkajs
// also groups messages by partition by copying the partition's array for every message
// (quadratic); the patch groups in linear time with the same result. And its default partitioner
// hashes every message's key (murmur2) and filters the partition list per message;
// cachingDefaultPartitioner remembers the answer per key (tenants are few).
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals */
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

/**
 * The one kafkajs version the patch was written against and checked with. Another version must
 * fail CI (test/unit/kafkajs-fast.test.ts), not silently run kafkajs' slower code.
 */
export const KAFKAJS_FAST_PATH_VERSION = '2.2.4';
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const GROUP_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';

/** The kafkajs Encoder surface the patch relies on. */
export interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

/** What kafkajs passes to the record encoder. */
export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}

export type RecordEncoder = ((args: RecordArgs) => KafkajsEncoder) & {
  original?: (args: RecordArgs) => KafkajsEncoder;
  authorityPatch?: string;
};

/** What kafkajs passes to its grouping function. */
export interface GroupArgs {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}

export type GroupFunction = ((args: GroupArgs) => Record<string, unknown[]>) & {
  original?: (args: GroupArgs) => Record<string, unknown[]>;
  authorityPatch?: string;
};

/** kafkajs' record encoder as installed (patched: with `.original`) and its Encoder class. */
export function kafkajsRecordModules(): { Encoder: new () => KafkajsEncoder; encoder: RecordEncoder } {
  return {
    Encoder: require(ENCODER_MODULE) as new () => KafkajsEncoder,
    encoder: require(RECORD_MODULE) as RecordEncoder,
  };
}

/** kafkajs' grouping function as installed (patched: with `.original`). */
export function kafkajsGroupModule(): GroupFunction {
  return require(GROUP_MODULE) as GroupFunction;
}

/** Whether this kafkajs is the patched version (the producer thread reports it at start). */
export function kafkajsPatchApplied(): boolean {
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    return (
      version === KAFKAJS_FAST_PATH_VERSION &&
      kafkajsRecordModules().encoder.authorityPatch !== undefined &&
      kafkajsGroupModule().authorityPatch !== undefined
    );
  } catch {
    return false;
  }
}

/**
 * kafkajs' DefaultPartitioner (murmur2 of the key, Java-compatible), remembering the partition of
 * each string key for the current partition count. Messages with an explicit partition or no
 * key go to the default partitioner as they are.
 */
export const cachingDefaultPartitioner: ICustomPartitioner = () => {
  const { Partitioners } = require('kafkajs') as typeof import('kafkajs');
  const inner = Partitioners.DefaultPartitioner();
  const cache = new Map<string, { count: number; partition: number }>();
  return (args: PartitionerArgs) => {
    const m = args.message;
    if ((m.partition === null || m.partition === undefined) && typeof m.key === 'string') {
      const count = args.partitionMetadata.length;
      const hit = cache.get(m.key);
      if (hit !== undefined && hit.count === count) return hit.partition;
      const partition = inner(args);
      if (cache.size >= 10_000) cache.clear();
      cache.set(m.key, { count, partition });
      return partition;
    }
    return inner(args);
  };
};

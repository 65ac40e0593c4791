// Cheaper produce path for the audit producer thread (kafkajs 2.2.4 only): record encoding,
// grouping messages by partition, and the partitioner.
//
// kafkajs encodes each record of a produce request with one Encoder per record plus one per header
// (each a zero-filled 512-byte Buffer), and every varint through a temporary array and
// Buffer.from: for an audit event with 8 CloudEvents/trace headers that is ~30 allocations and
// most of the producer's CPU (measured: ~28 µs per message, ~33k messages/s per core). This module
// provides a drop-in replacement for kafkajs' record encoder (`protocol/recordBatch/record/v0`)
// that writes the same bytes into one exactly-sized buffer. It only handles the common shape
// (string or Buffer key and value, string or Buffer header values, small integer deltas) and hands
// anything else to the original. test/unit/kafkajs-fast.test.ts checks byte equality with the
// original encoder over random records.
//
// kafkajs also groups a batch's messages by partition by copying the partition's array for every
// message (quadratic: a 1,000-message batch for one tenant copies ~500,000 elements); a linear
// grouping with the same result replaces `producer/groupMessagesPerPartition`. And its default
// partitioner hashes every message's key (murmur2) and filters the partition list per message;
// cachingDefaultPartitioner remembers the answer per key (tenants are few).
//
// The replacements must be installed before kafkajs is first required in the thread (the modules
// that use them capture them when they load); the producer thread does so first thing. Any other
// kafkajs version, or a thread where kafkajs is already loaded, keeps kafkajs' own code.
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals, loaded in a set order */
// Only types from kafkajs here: importing it would load it before the replacements are installed.
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

/** The kafkajs Encoder surface this module relies on. */
interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

type EncoderClass = new (initialSize?: number) => KafkajsEncoder;

/** What kafkajs passes to the record encoder. */
export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
}

export type RecordEncoder = (args: RecordArgs) => KafkajsEncoder;

/**
 * The one kafkajs version these replacements were written against and checked with. Another
 * version must fail CI (test/unit/kafkajs-fast.test.ts), not silently fall back to the slow path.
 */
export const KAFKAJS_FAST_PATH_VERSION = '2.2.4';
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';

/** Bytes of an unsigned varint (value < 2^32). */
function sizeOfUVarInt(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** ZigZag of a 32-bit signed integer, as an unsigned number. */
function zigzag(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

function writeUVarInt(buf: Buffer, offset: number, v: number): number {
  while (v >= 0x80) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  return offset;
}

/** Small enough that its 64-bit ZigZag varint equals the 32-bit one. */
function isSmallInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > -0x40000000 && n < 0x40000000;
}

function byteLengthOf(v: string | Buffer): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

function writeBytes(buf: Buffer, offset: number, v: string | Buffer, len: number): number {
  offset = writeUVarInt(buf, offset, zigzag(len));
  if (typeof v === 'string') buf.write(v, offset, len, 'utf8');
  else v.copy(buf, offset);
  return offset + len;
}

/**
 * The replacement encoder over kafkajs' Encoder class and its original record encoder (the
 * fallback). Exported for the byte-equality test.
 */
export function fastRecordEncoder(Encoder: EncoderClass, original: RecordEncoder): RecordEncoder {
  const proto = Encoder.prototype as KafkajsEncoder;
  const keys: string[] = [];
  const values: (string | Buffer)[] = [];
  const lengths: number[] = [];
  return (args: RecordArgs): KafkajsEncoder => {
    const offsetDelta = args.offsetDelta ?? 0;
    const timestampDelta = args.timestampDelta ?? 0;
    const { key, value } = args;
    const headers = args.headers ?? {};
    if (
      !isSmallInt(offsetDelta) ||
      !isSmallInt(timestampDelta) ||
      !(key == null || typeof key === 'string' || Buffer.isBuffer(key)) ||
      !(value == null || typeof value === 'string' || Buffer.isBuffer(value))
    ) {
      return original(args);
    }
    keys.length = 0;
    values.length = 0;
    lengths.length = 0;
    let headersSize = 0;
    for (const name of Object.keys(headers)) {
      const v = headers[name];
      if (typeof v !== 'string' && !Buffer.isBuffer(v)) return original(args); // arrays, null, …
      const klen = Buffer.byteLength(name, 'utf8');
      const vlen = byteLengthOf(v);
      keys.push(name);
      values.push(v);
      lengths.push(klen, vlen);
      headersSize += sizeOfUVarInt(zigzag(klen)) + klen + sizeOfUVarInt(zigzag(vlen)) + vlen;
    }
    const count = keys.length;
    headersSize += sizeOfUVarInt(zigzag(count));
    const keyLen = key == null ? -1 : byteLengthOf(key as string | Buffer);
    const valueLen = value == null ? -1 : byteLengthOf(value as string | Buffer);
    const body =
      1 +
      sizeOfUVarInt(zigzag(timestampDelta)) +
      sizeOfUVarInt(zigzag(offsetDelta)) +
      (keyLen < 0 ? 1 : sizeOfUVarInt(zigzag(keyLen)) + keyLen) +
      (valueLen < 0 ? 1 : sizeOfUVarInt(zigzag(valueLen)) + valueLen) +
      headersSize;
    const total = sizeOfUVarInt(zigzag(body)) + body;
    const buf = Buffer.allocUnsafe(total);
    let o = writeUVarInt(buf, 0, zigzag(body));
    buf[o++] = 0; // attributes
    o = writeUVarInt(buf, o, zigzag(timestampDelta));
    o = writeUVarInt(buf, o, zigzag(offsetDelta));
    o = keyLen < 0 ? writeUVarInt(buf, o, 1) : writeBytes(buf, o, key as string | Buffer, keyLen);
    o = valueLen < 0 ? writeUVarInt(buf, o, 1) : writeBytes(buf, o, value as string | Buffer, valueLen);
    o = writeUVarInt(buf, o, zigzag(count));
    for (let i = 0; i < count; i++) {
      o = writeBytes(buf, o, keys[i] as string, lengths[2 * i] as number);
      o = writeBytes(buf, o, values[i] as string | Buffer, lengths[2 * i + 1] as number);
    }
    if (o !== total) return original(args); // cannot happen; never send a wrong record
    const encoder = Object.create(proto) as KafkajsEncoder;
    encoder.buf = buf;
    encoder.offset = total;
    return encoder;
  };
}

/** kafkajs' own Encoder class and record encoder (loads them; for tests and installation). */
export function kafkajsRecordModules(): { Encoder: EncoderClass; original: RecordEncoder; path: string } {
  const path = require.resolve(RECORD_MODULE);
  return {
    Encoder: require(ENCODER_MODULE) as EncoderClass,
    original: require(path) as RecordEncoder,
    path,
  };
}

/** What kafkajs passes to its grouping function. */
export interface GroupArgs {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}

/** kafkajs' groupMessagesPerPartition, in linear time (same result: partition → messages in order). */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupArgs): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current === undefined) result[partition] = [message];
    else current.push(message);
  }
  return result;
}

const GROUP_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';

/** kafkajs' own grouping function (for the equality test). */
export function kafkajsGroupModule(): (args: GroupArgs) => Record<string, unknown[]> {
  return require(GROUP_MODULE) as (args: GroupArgs) => Record<string, unknown[]>;
}

/**
 * Installs the replacements in this thread's module cache. Returns false (and changes nothing)
 * when kafkajs is another version or already loaded in this thread.
 */
export function installFastProducePath(): boolean {
  let version: string;
  try {
    version = (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return false;
  }
  if (version !== KAFKAJS_FAST_PATH_VERSION) return false;
  // The modules that use them must not have captured the originals yet.
  if (require.cache[require.resolve(RECORD_MODULE)] !== undefined) return false;
  if (require.cache[require.resolve(GROUP_MODULE)] !== undefined) return false;
  const { Encoder, original, path } = kafkajsRecordModules();
  kafkajsGroupModule();
  const record = require.cache[path];
  const group = require.cache[require.resolve(GROUP_MODULE)];
  if (record === undefined || group === undefined) return false;
  record.exports = fastRecordEncoder(Encoder, original);
  group.exports = groupMessagesPerPartition;
  return true;
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

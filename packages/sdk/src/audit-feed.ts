// subscribeAudit: the audit feed (docs/audit-topic.md) as an async iterator of typed, verified,
// de-duplicated events. Two feeds:
//  - 'chained' (default): `<prefix>chain`, what the auditor chained, in chain order per tenant.
//    Every record's hash is recomputed from its raw event, its prev_hash must be the previous
//    record's hash, and a jump in seq is reported as a gap (read those entries with QueryEvents).
//  - 'raw': `<prefix>audit`, the producers' events as they arrive. Only records whose
//    `authority-sig` verifies with a trusted producer key allowed their source are yielded.
// Both deliver at least once: repeats (by event id, or tenant and seq) are dropped here.
import { Kafka, logLevel, type Consumer, type KafkaConfig, type KafkaMessage } from 'kafkajs';
import {
  auditGenesisHead,
  chainHash,
  cryptoReady,
  eventKeyScopeProblem,
  parseTrustedEventKeys,
  verifyEventSignature,
  VerifiedBatchRoots,
  type TrustedEventKey,
} from '@authority/core';
import { decodeEvent, encodeEvent, pb } from '@authority/proto';

export interface SubscribeAuditOptions {
  /** Kafka bootstrap brokers: a list or `host:port,host:port`. */
  brokers: string[] | string;
  /** The consumer group: its committed offsets are where a restarted subscriber resumes. */
  groupId: string;
  /** Only this tenant's events (the others are skipped). */
  tenant?: string;
  /** 'chained' (default): what the auditor chained; 'raw': the producers' events. */
  feed?: 'chained' | 'raw';
  /** Topic prefix (AUTHORITY_TOPIC_PREFIX), default `authority.`. */
  topicPrefix?: string;
  /**
   * 'raw' feed (required there): the producers' public keys, as the auditor's
   * AUTHORITY_EVENT_TRUSTED_KEYS (`<kid>=<base64url key>;sources=<source>,…`) or parsed.
   */
  trustedKeys?: string | readonly TrustedEventKey[];
  /** Start at the oldest retained record when the group has no offset yet (default true). */
  fromBeginning?: boolean;
  /** Stops the subscription (the iterator then ends). */
  signal?: AbortSignal;
  /** More kafkajs client settings (ssl, sasl, clientId, ...). */
  kafka?: Omit<KafkaConfig, 'brokers'>;
  /** Event ids remembered to drop repeats (default 100,000). */
  dedupWindow?: number;
  /** Commit the group's offsets (default true; false: a throw-away reader such as `audit tail -f`). */
  commit?: boolean;
  /** Called with each record that is dropped as unverifiable (raw feed), instead of yielding it. */
  onRejected?: (rejected: { partition: number; offset: string; problem: string; message: string }) => void;
}

/** An event of the raw feed: signature verified with `keyId`. */
export interface RawAuditItem {
  kind: 'raw';
  tenant: string;
  eventId: string;
  event: pb.AuditEvent;
  keyId: string;
  partition: number;
  offset: string;
}

/** An entry of the chained feed: its hash recomputed, linked to the previous one seen. */
export interface ChainedAuditItem {
  kind: 'chained';
  tenant: string;
  seq: number;
  hash: string;
  prevHash: string;
  eventId: string;
  event: pb.AuditEvent;
  recordedAt: Date | undefined;
  /** The event bytes the chain hash covers (the record value on the audit topic). */
  rawEvent: Uint8Array;
}

/**
 * Entries `fromSeq`..`toSeq` of a tenant were not on the chain topic (a failed publish, or
 * retention): read them with QueryEvents. The next item is `toSeq + 1`.
 */
export interface ChainGapItem {
  kind: 'gap';
  tenant: string;
  fromSeq: number;
  toSeq: number;
}

export type AuditFeedItem = RawAuditItem | ChainedAuditItem | ChainGapItem;

/** The chained feed broke a rule no redelivery explains: a record altered, or one chain forked. */
export class AuditFeedError extends Error {
  override readonly name = 'AuditFeedError';
  constructor(
    message: string,
    readonly tenant: string,
    readonly seq: number,
  ) {
    super(message);
  }
}

export interface AuditSubscription extends AsyncIterableIterator<AuditFeedItem> {
  /** Stops consuming and disconnects (also on `break` out of a for-await loop). */
  close(): Promise<void>;
}

/** Remembers the last `limit` keys (a Set in insertion order). */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly limit: number) {}
  /** True when `key` was seen; otherwise remembers it. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value as string);
    return false;
  }
}

const headerText = (m: KafkaMessage, name: string): string | undefined => {
  const v = m.headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

/** Verifies and types one raw-feed record, or says why it is dropped. */
function rawItem(
  m: KafkaMessage,
  partition: number,
  keys: ReadonlyMap<string, TrustedEventKey>,
  roots: VerifiedBatchRoots,
): RawAuditItem | { problem: string; message: string } {
  const sig = verifyEventSignature({ key: m.key, value: m.value, headers: m.headers }, (kid) => keys.get(kid), roots);
  if (!sig.ok) return { problem: sig.problem, message: sig.message };
  let event: pb.AuditEvent;
  try {
    event = decodeEvent(pb.AuditEventSchema, m.value ?? Buffer.alloc(0));
  } catch (err) {
    return { problem: 'not_an_event', message: `value is not an AuditEvent: ${(err as Error).message}` };
  }
  const scope = eventKeyScopeProblem(sig.key, { source: event.source, type: headerText(m, 'ce_type') });
  if (scope !== undefined) return { problem: scope.problem, message: scope.message };
  if (m.key?.toString() !== event.tenant)
    return { problem: 'tenant_mismatch', message: `record key does not name the event's tenant '${event.tenant}'` };
  return {
    kind: 'raw',
    tenant: event.tenant,
    eventId: event.eventId,
    event,
    keyId: sig.key.kid,
    partition,
    offset: m.offset,
  };
}

/** Per-tenant chain heads of the chained feed: verification and ordering. */
class ChainFollower {
  private readonly heads = new Map<string, { seq: number; hash: string }>();

  /** The items one chain record yields (a gap first, when seq jumped), or none for a repeat. */
  follow(r: pb.ChainRecord): AuditFeedItem[] {
    const seq = Number(r.seq);
    const head = this.heads.get(r.tenant);
    if (head !== undefined && seq <= head.seq) return []; // redelivery: seen already
    const fail = (what: string) => {
      throw new AuditFeedError(`chain of tenant '${r.tenant}' at seq ${seq}: ${what}`, r.tenant, seq);
    };
    if (!/^[0-9a-f]{64}$/.test(r.prevHash) || !/^[0-9a-f]{64}$/.test(r.hash)) fail('hash is not 64 hex digits');
    const items: AuditFeedItem[] = [];
    const expectedPrev =
      head !== undefined
        ? head.seq + 1 === seq
          ? head.hash
          : undefined
        : seq === 1
          ? Buffer.from(auditGenesisHead(r.tenant).hash).toString('hex')
          : undefined;
    if (expectedPrev !== undefined && r.prevHash !== expectedPrev) fail('prev_hash is not the previous hash (a fork)');
    if (head !== undefined && seq > head.seq + 1)
      items.push({ kind: 'gap', tenant: r.tenant, fromSeq: head.seq + 1, toSeq: seq - 1 });
    if (chainHash(r.tenant, seq, Buffer.from(r.prevHash, 'hex'), r.rawEvent).toString('hex') !== r.hash)
      fail('hash does not recompute from the raw event');
    let event: pb.AuditEvent;
    try {
      event = decodeEvent(pb.AuditEventSchema, Buffer.from(r.rawEvent));
    } catch (err) {
      return fail(`raw event is not an AuditEvent: ${(err as Error).message}`);
    }
    if (event.eventId !== r.eventId || event.tenant !== r.tenant)
      fail("event id or tenant differs from the raw event's");
    this.heads.set(r.tenant, { seq, hash: r.hash });
    items.push({
      kind: 'chained',
      tenant: r.tenant,
      seq,
      hash: r.hash,
      prevHash: r.prevHash,
      eventId: r.eventId,
      event,
      recordedAt: r.recordedAt
        ? new Date(Number(r.recordedAt.seconds) * 1000 + Math.floor(r.recordedAt.nanos / 1e6))
        : undefined,
      rawEvent: r.rawEvent,
    });
    return items;
  }
}

/**
 * Subscribes to the audit feed. Iterate with `for await`; `break`, `close()` or the signal stop it.
 * An AuditFeedError (a chain record that does not verify) ends the iteration with that error.
 */
export function subscribeAudit(opts: SubscribeAuditOptions): AuditSubscription {
  const feed = opts.feed ?? 'chained';
  const prefix = opts.topicPrefix ?? 'authority.';
  const brokers = typeof opts.brokers === 'string' ? opts.brokers.split(',').map((b) => b.trim()) : opts.brokers;
  let keys: Map<string, TrustedEventKey> | undefined;
  if (feed === 'raw') {
    const list =
      typeof opts.trustedKeys === 'string'
        ? parseTrustedEventKeys(opts.trustedKeys)
        : { keys: opts.trustedKeys ?? [], problems: [] };
    if (list.problems.length > 0) throw new TypeError(`trustedKeys: ${list.problems.join('; ')}`);
    if (list.keys.length === 0)
      throw new TypeError("the raw feed needs trustedKeys: the producers' public keys (AUTHORITY_EVENT_TRUSTED_KEYS)");
    keys = new Map(list.keys.map((k) => [k.kid, k]));
  }
  const recent = new RecentKeys(opts.dedupWindow ?? 100_000);
  // Batch signatures already verified (one Ed25519 verify per signed produce request).
  const verifiedRoots = new VerifiedBatchRoots();
  const follower = new ChainFollower();

  // A one-slot hand-off: the consumer waits until the iterator took the item, so an unread
  // feed holds no more than one record in memory and offsets advance only as items are read.
  const ready: { item: AuditFeedItem | Error | null; taken: () => void }[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const push = (item: AuditFeedItem | Error | null) =>
    new Promise<void>((taken) => {
      ready.push({ item, taken });
      wake?.();
    });

  const kafka = new Kafka({ logLevel: logLevel.NOTHING, clientId: 'authority-audit-feed', ...opts.kafka, brokers });
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId });
  const started = (async () => {
    await cryptoReady();
    await consumer.connect();
    await consumer.subscribe({
      topics: [`${prefix}${feed === 'raw' ? 'audit' : 'chain'}`],
      fromBeginning: opts.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: opts.commit ?? true,
      eachMessage: async ({ partition, message }) => {
        if (closed) return;
        if (opts.tenant !== undefined && message.key?.toString() !== opts.tenant) return;
        if (feed === 'raw') {
          const r = rawItem(message, partition, keys as Map<string, TrustedEventKey>, verifiedRoots);
          if (!('kind' in r)) {
            opts.onRejected?.({ partition, offset: message.offset, ...r });
            return;
          }
          if (recent.seen(`${r.tenant}\u0000${r.eventId}`)) return;
          await push(r);
          return;
        }
        let record: pb.ChainRecord;
        try {
          record = decodeEvent(pb.ChainRecordSchema, message.value ?? Buffer.alloc(0));
        } catch (err) {
          await push(
            new AuditFeedError(
              `chain record at offset ${message.offset} does not decode: ${(err as Error).message}`,
              '',
              0,
            ),
          );
          return;
        }
        let items: AuditFeedItem[];
        try {
          items = follower.follow(record);
        } catch (err) {
          await push(err as Error);
          return;
        }
        for (const item of items) await push(item);
      },
    });
  })().catch((err: unknown) => push(err instanceof Error ? err : new Error(String(err))));

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const r of ready.splice(0)) r.taken();
    wake?.();
    await started.catch(() => undefined);
    await consumer.disconnect().catch(() => undefined);
  };
  opts.signal?.addEventListener('abort', () => void close(), { once: true });

  const sub: AuditSubscription = {
    async next(): Promise<IteratorResult<AuditFeedItem>> {
      for (;;) {
        if (closed) return { done: true, value: undefined };
        const r = ready.shift();
        if (r !== undefined) {
          r.taken();
          if (r.item instanceof Error) {
            await close();
            throw r.item;
          }
          if (r.item !== null) return { done: false, value: r.item };
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return(): Promise<IteratorResult<AuditFeedItem>> {
      await close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return sub;
    },
    close,
  };
  return sub;
}

/** A feed item as plain JSON (the event in its proto3 JSON form), e.g. for one JSON line per item. */
export function auditFeedItemJson(item: AuditFeedItem): Record<string, unknown> {
  if (item.kind === 'gap') return { ...item };
  const event = JSON.parse(encodeEvent(pb.AuditEventSchema, item.event).toString('utf8')) as unknown;
  if (item.kind === 'raw') {
    const { event: _event, ...rest } = item;
    return { ...rest, event };
  }
  const { event: _event, rawEvent: _raw, recordedAt, ...rest } = item;
  return { ...rest, ...(recordedAt ? { recordedAt: recordedAt.toISOString() } : {}), event };
}

// The EventBus port in memory: the second adapter (kafkajs-adapter.ts is the first), written
// against port.ts alone. Unit tests of consumers run on it (the auditor's ingest does), and it shows
// that a service's handlers need no broker client. One process, nothing durable, no tracing; what a
// handler relies on is kept: a batch is one partition's records from the group's position, in
// offset order; only BatchContext.commit (or a processed eachMessage record) moves the position; a
// rebalance (a member joins or leaves, or rebalance()) makes in-flight batches stale and restarts
// every member from the committed offsets; a handler that throws is restarted from the committed
// offset, a bounded number of times (as the kafkajs adapter does), then reported fatal.
import { randomId } from '@authority/core';
import { CatchUpProgress } from './catch-up-progress';
import {
  type BatchContext,
  type CatchUpHandle,
  type CatchUpOptions,
  type ConsumeOptions,
  type ConsumedMessage,
  type ConsumerEvent,
  type ConsumerHandle,
  type EventBus,
  type EventHeaders,
  type EventMessage,
  type MessageHandler,
  type PartitionLag,
} from './port';

export interface InMemoryEventBusOptions {
  /** Partitions of every topic (default 1); keyed records go to a partition by a stable key hash. */
  partitions?: number;
  /** Most records in one delivered batch (default 100). */
  maxBatchSize?: number;
  /** A consumer crashed for good (no restart left). Default: rethrown from a macrotask, as an uncaught error. */
  onFatal?: (err: Error) => void;
}

type StoredRecord = Omit<ConsumedMessage, 'topic' | 'partition' | 'offset'>;

interface Group {
  /** `topic:partition` → the next offset to process. */
  committed: Map<string, bigint>;
  members: Member[];
}

interface Member {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  /** Bumped by every rebalance: a batch delivered under an older generation is stale. */
  generation: number;
  assignment: string[];
  position: Map<string, bigint>;
  running: boolean;
  restarts: number[];
  lastFetch: number | undefined;
  listeners: Map<ConsumerEvent, Set<() => void>>;
  emit: (event: ConsumerEvent) => void;
  wake: () => void;
  loop: Promise<void> | undefined;
}

const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

function splitKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

/** FNV-1a over the key bytes: stable across runs (not Kafka's murmur2: partitions are not shared with a broker). */
function keyHash(key: Buffer): number {
  let h = 0x811c9dc5;
  for (const byte of key) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

const asBuffer = (v: Buffer | string): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

export class InMemoryEventBus implements EventBus {
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly handles = new Set<ConsumerHandle>();
  private roundRobin = 0;
  private readonly partitions: number;
  private readonly maxBatchSize: number;
  private readonly onFatal: (err: Error) => void;

  constructor(opts: InMemoryEventBusOptions = {}) {
    this.partitions = opts.partitions ?? 1;
    this.maxBatchSize = opts.maxBatchSize ?? 100;
    this.onFatal =
      opts.onFatal ??
      ((err) =>
        setImmediate(() => {
          throw err;
        }));
  }

  /** Appends at once (nothing to acknowledge); headers, keys and values are stored as bytes, as a broker delivers them. */
  async publish(topic: string, messages: EventMessage[]): Promise<void> {
    const log = this.log(topic);
    for (const m of messages) {
      const key = m.key === null ? null : asBuffer(m.key);
      const partition =
        m.partition ?? (key === null ? this.roundRobin++ % this.partitions : keyHash(key) % this.partitions);
      const records = log[partition];
      if (records === undefined) throw new RangeError(`publish: ${topic} has no partition ${partition}`);
      const headers: EventHeaders = {};
      for (const [name, v] of Object.entries(m.headers ?? {})) headers[name] = asBuffer(v);
      records.push({
        key,
        value: m.value === null ? null : asBuffer(m.value),
        headers,
        timestamp: String(Date.now()),
      });
    }
    for (const group of this.groups.values()) {
      for (const member of group.members) if (member.topics.includes(topic)) member.wake();
    }
  }

  async consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
    if (!opts.eachMessage === !opts.eachBatch) throw new Error('consume: pass exactly one of eachMessage or eachBatch');
    const eachMessage = opts.eachMessage;
    const handler = eachMessage
      ? async (ctx: BatchContext) => {
          for (const m of ctx.batch.messages) {
            await eachMessage(m);
            if (ctx.isStale()) return;
            await ctx.commit(m.offset);
          }
        }
      : opts.eachBatch!;
    return this.join(opts.groupId, opts.topics, opts.fromBeginning ?? false, handler, {
      maxRestarts: opts.maxRestarts ?? 5,
      restartWindowMs: opts.restartWindowMs ?? 5 * 60_000,
    });
  }

  async catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle> {
    const targets = new Map<string, string>();
    for (const topic of opts.topics) {
      this.log(topic).forEach((records, p) => {
        if (records.length > 0) targets.set(partitionKey(topic, p), String(records.length));
      });
    }
    const progress = new CatchUpProgress(targets);
    const handle = await this.join(
      opts.groupId ?? `memory.catchup.${randomId(6)}`,
      opts.topics,
      true,
      async (ctx) => {
        for (const m of ctx.batch.messages) {
          await handler(m);
          if (ctx.isStale()) return;
          await ctx.commit(m.offset);
          progress.processed(m.topic, m.partition, m.offset);
        }
      },
      { maxRestarts: 5, restartWindowMs: 5 * 60_000, onCrash: (err) => progress.crashed(err) },
    );
    return { ...handle, caughtUp: progress.caughtUp, isCaughtUp: () => progress.isCaughtUp(), targets };
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([...this.handles].map((h) => h.disconnect()));
  }

  /** Reassigns the group's partitions now, as a broker does when a member joins, leaves or times out. */
  rebalance(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group !== undefined) this.assign(group);
  }

  /** The group's committed offset of one partition (the next record it will process), if any. */
  committed(groupId: string, topic: string, partition = 0): string | undefined {
    return this.groups.get(groupId)?.committed.get(partitionKey(topic, partition))?.toString();
  }

  /** The records of one partition as a consumer gets them. */
  records(topic: string, partition = 0): ConsumedMessage[] {
    return (this.log(topic)[partition] ?? []).map((r, i) => ({ ...r, topic, partition, offset: String(i) }));
  }

  private log(topic: string): StoredRecord[][] {
    let log = this.logs.get(topic);
    if (log === undefined) {
      log = Array.from({ length: this.partitions }, () => []);
      this.logs.set(topic, log);
    }
    return log;
  }

  private async join(
    groupId: string,
    topics: string[],
    fromBeginning: boolean,
    handler: (ctx: BatchContext) => Promise<void>,
    limits: { maxRestarts: number; restartWindowMs: number; onCrash?: (err: Error) => void },
  ): Promise<ConsumerHandle> {
    for (const topic of topics) this.log(topic);
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { committed: new Map(), members: [] };
      this.groups.set(groupId, group);
    }
    let wakeUp: (() => void) | undefined;
    let woken = false;
    const member: Member = {
      groupId,
      topics,
      fromBeginning,
      generation: 0,
      assignment: [],
      position: new Map(),
      running: true,
      restarts: [],
      lastFetch: undefined,
      listeners: new Map(),
      emit: (event) => member.listeners.get(event)?.forEach((listener) => listener()),
      wake: () => {
        woken = true;
        wakeUp?.();
      },
      loop: undefined,
    };
    const sleep = () =>
      woken
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            wakeUp = resolve;
          });
    group.members.push(member);

    member.loop = (async () => {
      // Join on a later turn, as a broker client does: the caller gets the handle (and registers its
      // listeners) before the first 'rebalanced' and the first batch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (member.running) this.assign(group);
      while (member.running) {
        woken = false;
        wakeUp = undefined;
        member.lastFetch = Date.now();
        member.emit('fetch');
        let progressed = false;
        const generation = member.generation;
        for (const key of member.assignment) {
          // Stopped or rebalanced: the assignment (and positions) this pass read are gone.
          if (!member.running || member.generation !== generation) {
            progressed = true;
            break;
          }
          const { topic, partition } = splitKey(key);
          const records = this.log(topic)[partition]!;
          const from = member.position.get(key) ?? 0n;
          if (from >= BigInt(records.length)) continue;
          const messages = records
            .slice(Number(from), Number(from) + this.maxBatchSize)
            .map((r, i) => ({ ...r, topic, partition, offset: String(from + BigInt(i)) }));
          const ctx: BatchContext = {
            batch: { topic, partition, messages, highWatermark: String(records.length) },
            heartbeat: async () => undefined,
            isStale: () => !member.running || member.generation !== generation,
            commit: async (offset) => {
              if (ctx.isStale()) throw new Error(`commit: the batch of ${key} is stale (rebalanced or stopped)`);
              const next = BigInt(offset) + 1n;
              group.committed.set(key, next);
              member.position.set(key, next);
              progressed = true;
            },
          };
          try {
            await handler(ctx);
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err));
            if (!this.restart(member, group, error, limits)) return;
            progressed = true;
            break;
          }
        }
        // Nothing moved (no new records, or a handler that did not commit): wait for a publish or a rebalance.
        if (!progressed) await sleep();
      }
    })();

    const handle: ConsumerHandle = {
      groupId,
      on: (event, listener) => {
        let set = member.listeners.get(event);
        if (set === undefined) member.listeners.set(event, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
      lastFetchAt: () => member.lastFetch,
      lag: async (): Promise<PartitionLag[]> =>
        member.running
          ? member.assignment.map((key) => {
              const { topic, partition } = splitKey(key);
              const high = BigInt(this.log(topic)[partition]!.length);
              const position = member.position.get(key) ?? 0n;
              return {
                topic,
                partition,
                group: groupId.startsWith('memory.catchup.') ? 'memory.catchup' : groupId,
                highWatermark: high.toString(),
                position: position.toString(),
                lag: Number(high > position ? high - position : 0n),
              };
            })
          : [],
      disconnect: async () => {
        if (!this.handles.delete(handle)) return;
        member.running = false;
        member.wake();
        await member.loop;
        group.members = group.members.filter((m) => m !== member);
        this.assign(group);
        member.emit('stop');
        member.emit('disconnect');
      },
    };
    this.handles.add(handle);
    return handle;
  }

  /** A handler threw: restart from the committed offsets while the bound allows, else stop and report fatal. */
  private restart(
    member: Member,
    group: Group,
    err: Error,
    limits: { maxRestarts: number; restartWindowMs: number; onCrash?: (err: Error) => void },
  ): boolean {
    const now = Date.now();
    while (member.restarts.length > 0 && member.restarts[0]! < now - limits.restartWindowMs) member.restarts.shift();
    member.restarts.push(now);
    member.emit('crash');
    if (member.restarts.length <= limits.maxRestarts) {
      this.assign(group);
      return true;
    }
    member.running = false;
    group.members = group.members.filter((m) => m !== member);
    this.assign(group);
    member.emit('stop');
    limits.onCrash?.(err);
    this.onFatal(err);
    return false;
  }

  /** A new generation: partitions spread over the running members, each restarting from the committed offsets. */
  private assign(group: Group): void {
    const live = group.members.filter((m) => m.running);
    const topics = [...new Set(live.flatMap((m) => m.topics))];
    for (const m of live) {
      m.generation++;
      m.assignment = [];
    }
    for (const topic of topics) {
      const subscribed = live.filter((m) => m.topics.includes(topic));
      for (let p = 0; p < this.log(topic).length; p++)
        subscribed[p % subscribed.length]!.assignment.push(partitionKey(topic, p));
    }
    for (const m of live) {
      m.position = new Map(
        m.assignment.map((key) => {
          const committed = group.committed.get(key);
          if (committed !== undefined) return [key, committed];
          const { topic, partition } = splitKey(key);
          return [key, m.fromBeginning ? 0n : BigInt(this.log(topic)[partition]!.length)];
        }),
      );
      m.emit('rebalanced');
      m.wake();
    }
  }
}

// Consumer lag: per-partition lag from committed offsets and high-water marks, as a gauge.
import { type Admin } from 'kafkajs';
import { retryKafka } from '../kafka-retry';
import { type PartitionLag } from './port';

interface LagTrackerOptions {
  groupId: string;
  /** The group label of PartitionLag (catchUp's generated groups share one). */
  group: string;
  fromBeginning: boolean;
  /** A connected admin client (shared by the bus). */
  admin: () => Promise<Admin>;
  /** High-water marks older than this are fetched from the broker (default 5 s). */
  maxAgeMs?: number;
}

/**
 * Follows one consumer's progress from kafkajs instrumentation events (GROUP_JOIN: the assigned
 * partitions; END_BATCH_PROCESS: the batch's high-water mark and last offset; COMMIT_OFFSETS) and
 * fills the gaps from the broker when asked (lag()).
 */
export class ConsumerLagTracker {
  private assignment: Map<string, number[]> | undefined;
  private readonly high = new Map<string, { offset: bigint; low?: bigint; at: number }>();
  private readonly position = new Map<string, bigint>();
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: LagTrackerOptions) {}

  /** The consumer (re)joined its group with this assignment. */
  joined(assignment: Record<string, number[]>): void {
    this.assignment = new Map(Object.entries(assignment));
    // A partition that left this member may have moved on elsewhere: forget where we were.
    for (const key of [...this.position.keys()]) {
      const i = key.lastIndexOf(':');
      if (!this.assignment.get(key.slice(0, i))?.includes(Number(key.slice(i + 1)))) this.position.delete(key);
    }
  }

  /** A batch was processed up to `lastOffset`; the partition's high-water mark was `highWatermark`. */
  processed(topic: string, partition: number, lastOffset: string, highWatermark: string): void {
    const key = `${topic}:${partition}`;
    this.advance(key, BigInt(lastOffset) + 1n);
    const hw = BigInt(highWatermark);
    if (hw >= 0n) this.high.set(key, { offset: hw, at: Date.now() });
  }

  /** Offsets committed (the next offsets to consume). */
  committed(topicOffsets: { topic: string; partitions: { partition: number; offset: string }[] }[]): void {
    for (const t of topicOffsets)
      for (const p of t.partitions) {
        const o = BigInt(p.offset);
        if (o >= 0n) this.advance(`${t.topic}:${p.partition}`, o);
      }
  }

  close(): void {
    this.closed = true;
  }

  private advance(key: string, next: bigint): void {
    const cur = this.position.get(key);
    if (cur === undefined || next > cur) this.position.set(key, next);
  }

  async lag(): Promise<PartitionLag[]> {
    if (this.closed || this.assignment === undefined) return [];
    const maxAge = this.opts.maxAgeMs ?? 5_000;
    const now = Date.now();
    const stale = new Set<string>();
    for (const [topic, partitions] of this.assignment) {
      for (const p of partitions) {
        const key = `${topic}:${p}`;
        const h = this.high.get(key);
        if (h === undefined || now - h.at > maxAge || !this.position.has(key)) stale.add(topic);
      }
    }
    if (stale.size > 0) {
      this.refreshing ??= this.refresh([...stale]).finally(() => (this.refreshing = undefined));
      // Whatever the broker answered (or not): report what is known.
      await this.refreshing.catch(() => undefined);
    }
    const out: PartitionLag[] = [];
    for (const [topic, partitions] of this.assignment) {
      for (const partition of partitions) {
        const key = `${topic}:${partition}`;
        const h = this.high.get(key);
        const pos = this.position.get(key);
        if (h === undefined || pos === undefined) continue;
        const lag = h.offset > pos ? Number(h.offset - pos) : 0;
        out.push({
          topic,
          partition,
          group: this.opts.group,
          highWatermark: h.offset.toString(),
          position: pos.toString(),
          lag,
        });
      }
    }
    return out;
  }

  private async refresh(topicList: string[]): Promise<void> {
    const admin = await this.opts.admin();
    const at = Date.now();
    for (const topic of topicList) {
      // A leader change during the fetch is retriable: retry it (kafkajs refreshes metadata).
      for (const p of await retryKafka(() => admin.fetchTopicOffsets(topic), { attempts: 4 })) {
        this.high.set(`${topic}:${p.partition}`, { offset: BigInt(p.high), low: BigInt(p.low), at });
      }
    }
    const unknown = topicList.filter((topic) =>
      (this.assignment?.get(topic) ?? []).some((p) => !this.position.has(`${topic}:${p}`)),
    );
    if (unknown.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: unknown });
    for (const t of committed) {
      for (const p of t.partitions) {
        const key = `${t.topic}:${p.partition}`;
        if (this.position.has(key) || !(this.assignment?.get(t.topic) ?? []).includes(p.partition)) continue;
        const o = BigInt(p.offset);
        const h = this.high.get(key);
        // Nothing committed: the consumer starts at the beginning (low) or the end (high).
        const start = o >= 0n ? o : this.opts.fromBeginning ? (h?.low ?? 0n) : (h?.offset ?? 0n);
        this.position.set(key, start);
      }
    }
  }
}

// The chain feed: every entry the auditor appends, published on `<prefix>chain` as a ChainRecord
// (tenant, seq, hash, previous hash, event id, the raw event bytes), in chain order per tenant,
// so a subscriber can check gap-free order and verify heads against the signed checkpoints
// without MongoDB access. The chain in MongoDB stays the record: publishing runs off the append
// path, one chunk after the other (so order holds), and a publish that fails is logged and
// counted while ingest goes on (a subscriber sees the gap in seq and reads the missing entries
// with QueryEvents). Only when many chunks wait does chaining wait for them (bounded memory).
import type { Logger } from '@authority/platform';
import type { EntryDoc } from './adapters/mongo';

export interface ChainFeedOptions {
  /** Publishes one stored chunk's records in order (resolves when Kafka acknowledged). */
  publish: (entries: readonly EntryDoc[]) => Promise<void>;
  logger: Logger;
  /** Chunks that may wait to be published before chaining waits for them (default 64). */
  maxPending?: number;
}

export class ChainFeed {
  readonly stats = { published: 0, failed: 0 };
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly opts: ChainFeedOptions) {}

  /**
   * Queues the entries of a stored chunk for publishing, after every chunk queued before. Resolves
   * at once, or, when too many chunks wait, once they are published. Never rejects.
   */
  published(entries: readonly EntryDoc[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const chunk = [...entries];
    this.pending++;
    this.tail = this.tail.then(() => this.publishNow(chunk)).finally(() => this.pending--);
    return this.pending > (this.opts.maxPending ?? 64) ? this.tail : Promise.resolve();
  }

  /** Waits until everything queued is published (or failed): graceful shutdown. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async publishNow(entries: readonly EntryDoc[]): Promise<void> {
    try {
      await this.opts.publish(entries);
      this.stats.published += entries.length;
    } catch (err) {
      this.stats.failed += entries.length;
      const first = entries[0] as EntryDoc;
      this.opts.logger.warn(
        { err, tenant: first.tenant, first_seq: first.seq, count: entries.length },
        'chained entries not published on the chain topic (subscribers see a gap and can read them with QueryEvents)',
      );
    }
  }
}

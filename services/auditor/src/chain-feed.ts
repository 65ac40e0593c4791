// The chain feed: every entry the auditor appends, published on `<prefix>chain` as a ChainRecord
// (tenant, seq, hash, previous hash, event id, the raw event bytes), in chain order per tenant,
// so a subscriber can check gap-free order and verify heads against the signed checkpoints
// without MongoDB access. The chain in MongoDB stays the record: a publish that fails is logged
// and counted, and ingest goes on (a subscriber sees the gap in seq and reads the missing
// entries with QueryEvents); it never holds up chaining.
import type { Logger } from '@authority/platform';
import type { EntryDoc } from './adapters/mongo';

export interface ChainFeedOptions {
  /** Publishes one stored chunk's records in order (resolves when Kafka acknowledged). */
  publish: (entries: readonly EntryDoc[]) => Promise<void>;
  logger: Logger;
}

export class ChainFeed {
  readonly stats = { published: 0, failed: 0 };

  constructor(private readonly opts: ChainFeedOptions) {}

  /** Publishes the entries of a stored chunk; a failure is logged and counted, never thrown. */
  async published(entries: readonly EntryDoc[]): Promise<void> {
    if (entries.length === 0) return;
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

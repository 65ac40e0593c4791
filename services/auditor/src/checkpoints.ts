// Signed checkpoints: every N new entries of a tenant (checked after each appended chunk) and every
// T for each tenant with new entries (those a rebalance made the appender forget included), the
// auditor signs (tenant, seq, head hash, time) with its Ed25519 key (core signCheckpoint), stores
// it in `checkpoints` and publishes it on `<prefix>checkpoints` (key = tenant). A checkpoint stored
// but not yet published (a crash in between, Kafka down) is published again at start and after a
// failed publish.
import { signCheckpoint, type SignedCheckpoint } from '@authority/core';
import type { Logger } from '@authority/platform';
import { toCheckpoint, type ChainStore } from './adapters/mongo';
import type { ChainAppender, TenantState } from './appender';
import type { AuditorKeys } from './keys';

export interface CheckpointerOptions {
  store: ChainStore;
  keys: AuditorKeys;
  appender: ChainAppender;
  /** Publishes a checkpoint on `<prefix>checkpoints`; resolves when acknowledged. */
  publish: (cp: SignedCheckpoint) => Promise<void>;
  logger: Logger;
  /** Sign at least every this many new entries. */
  every: number;
  now?: () => Date;
}

export class Checkpointer {
  private readonly now: () => Date;
  private publishBacklog = true; // check the store once at start
  private readonly taintLogged = new Set<string>();
  private readonly publishing = new Set<Promise<void>>();
  /** Checkpoints (`<tenant>/<seq>`) being published now. */
  private readonly inFlight = new Set<string>();
  /** Each running publishPending's set of checkpoints acknowledged since it started. */
  private readonly republishRuns = new Set<Set<string>>();

  constructor(private readonly opts: CheckpointerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Entries that may still be appended before a checkpoint is due (at least 1). */
  entriesUntilDue(state: TenantState): number {
    return Math.max(1, this.opts.every - (state.head.seq - state.lastCheckpointSeq));
  }

  /** After a chunk was appended: sign when N entries accumulated since the last checkpoint. */
  async afterAppend(state: TenantState): Promise<void> {
    if (state.head.seq - state.lastCheckpointSeq < this.opts.every) return;
    if (state.unverified !== undefined) {
      // A head loaded from a hint: verify what it claims first, off the ingest path; the timer signs.
      this.verifyInBackground(state);
      return;
    }
    try {
      await this.sign(state);
    } catch (err) {
      // The entries are stored; the checkpoint is retried by the next append or the timer.
      this.opts.logger.warn({ err, tenant: state.tenant }, 'checkpoint failed; will retry');
    }
  }

  private verifyInBackground(state: TenantState): void {
    if (state.verifying) return;
    this.opts.appender
      .verifyTail(state)
      .catch((err: unknown) =>
        this.opts.logger.warn({ err, tenant: state.tenant }, 'verifying the chain tail failed; will retry'),
      );
  }

  /**
   * The periodic pass: sign every known tenant with entries since its last checkpoint, including
   * those a rebalance made the appender forget (their head reloaded, verified, from the store: a
   * checkpoint states what is stored, whichever replica appends to the tenant now).
   */
  async tick(): Promise<number> {
    const { appender } = this.opts;
    for (const tenant of appender.takeForgotten()) {
      try {
        await appender.withTenantLock(tenant, async () => {
          if (!appender.isCached(tenant)) await appender.reload(tenant);
        });
      } catch (err) {
        this.opts.logger.warn({ err, tenant }, 'reloading a forgotten tenant head failed; its next event signs');
      }
    }
    let signed = 0;
    for (const state of this.opts.appender.knownStates()) {
      if (state.head.seq <= state.lastCheckpointSeq || state.tainted !== undefined) continue;
      try {
        if (!(await this.opts.appender.verifyTail(state))) continue;
        const cp = await this.opts.appender.withTenantLock(state.tenant, () => this.sign(state));
        if (cp) signed++;
      } catch (err) {
        this.opts.logger.warn({ err, tenant: state.tenant }, 'checkpoint failed; retrying at the next interval');
      }
    }
    await this.opts.appender.saveHints();
    if (this.publishBacklog)
      await this.publishPending().catch((err: unknown) =>
        this.opts.logger.warn({ err }, 'republishing checkpoints failed'),
      );
    return signed;
  }

  /** Signs, stores and publishes a checkpoint of the tenant's current head (if it has new entries). */
  async sign(state: TenantState): Promise<SignedCheckpoint | undefined> {
    const { store, keys, logger } = this.opts;
    if (state.tainted !== undefined) {
      if (!this.taintLogged.has(state.tenant)) {
        this.taintLogged.add(state.tenant);
        logger.error(
          { tenant: state.tenant, problem: state.tainted },
          'not signing checkpoints over a chain tail that does not verify',
        );
      }
      return undefined;
    }
    if (state.unverified !== undefined) return undefined; // verifyTail() first
    const head = state.head;
    if (head.seq <= state.lastCheckpointSeq) return undefined;
    // An aggregate ends at every checkpoint: readers sum aggregates up to it without reading entries.
    try {
      await this.opts.appender.flushAggregate(state);
    } catch (err) {
      logger.warn({ err, tenant: state.tenant }, 'aggregate not stored; readers recompute it from the entries');
    }
    const cp = signCheckpoint(
      {
        tenant: state.tenant,
        seq: head.seq,
        headHash: head.hash.toString('hex'),
        time: Math.floor(this.now().getTime() / 1000),
      },
      keys.secretKey(),
      keys.keyId,
    );
    const stored = await store.insertCheckpoint({ ...cp, createdAt: this.now(), published: false });
    if (head.seq > state.lastCheckpointSeq) {
      state.lastCheckpointSeq = head.seq;
      // Signed here, or (not stored) by another replica over the same head at about this time.
      state.lastCheckpointTime = cp.time;
    }
    if (!stored) return undefined; // another replica signed this very head already
    // Published off the append path; flush() waits for it (shutdown), a failure is republished.
    const publishing = this.publishOne(cp).catch((err: unknown) => {
      this.publishBacklog = true;
      logger.warn({ err, tenant: cp.tenant, seq: cp.seq }, 'checkpoint stored but not published; will republish');
    });
    this.publishing.add(publishing);
    void publishing.finally(() => this.publishing.delete(publishing));
    logger.debug({ tenant: cp.tenant, seq: cp.seq, key_id: cp.keyId }, 'checkpoint signed');
    return cp;
  }

  /** Waits for checkpoint publications in flight. */
  async flush(): Promise<void> {
    while (this.publishing.size > 0) await Promise.allSettled([...this.publishing]);
  }

  /**
   * Publishes a stored checkpoint and records that Kafka acknowledged it. While it is in flight,
   * and once acknowledged during a republish run, that run skips it: its marker stays stored
   * until the acknowledgement, and reading the markers meanwhile published it a second time (seen
   * in CI: the first timer pass after start, with the checkpoint it had just signed in flight).
   */
  private async publishOne(cp: SignedCheckpoint): Promise<void> {
    const key = `${cp.tenant}/${cp.seq}`;
    this.inFlight.add(key);
    try {
      await this.opts.publish(cp);
      await this.opts.store.markPublished(cp.tenant, cp.seq);
      for (const run of this.republishRuns) run.add(key);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Publishes checkpoints stored but never acknowledged by Kafka; returns how many. */
  async publishPending(): Promise<number> {
    this.publishBacklog = false;
    const acknowledged = new Set<string>();
    this.republishRuns.add(acknowledged);
    let count = 0;
    try {
      for (const doc of await this.opts.store.unpublishedCheckpoints()) {
        const key = `${doc.tenant}/${doc.seq}`;
        if (this.inFlight.has(key) || acknowledged.has(key)) continue;
        await this.publishOne(toCheckpoint(doc));
        count++;
      }
    } catch (err) {
      this.publishBacklog = true;
      throw err;
    } finally {
      this.republishRuns.delete(acknowledged);
    }
    return count;
  }
}

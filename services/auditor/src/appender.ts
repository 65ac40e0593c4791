// Appends events to tenant chains: at most one writer per tenant at a time in this process, the
// head of each chain cached in memory, and every conflict resolved through the unique indexes:
//
// - (tenant, eventId) duplicate: the event is already chained (a redelivery) → it is skipped;
// - (tenant, seq) duplicate: another replica appended (a rebalance in progress) → the head is
//   reloaded and the remaining events are appended after it.
//
// FerretDB's duplicate-key error does not say which index it was, so both cases take the same
// path: reload the head from the store (verified: the newest valid checkpoint, then every entry
// after it), drop the events whose ids are already in the chain, and append the rest after the
// new head. The chain can therefore never fork, and an event is in it at most once, whatever the
// interleaving of replicas and redeliveries.
//
// When a tenant is first seen, its head comes from the `heads` hint (one _id lookup) or, without
// a hint, the newest valid checkpoint or genesis. A hint is never trusted: if the chain is longer,
// the first insert hits a duplicate key and takes the verified path above. What the hint claims
// (entries after the last checkpoint that this process did not append) is verified before the
// auditor signs a checkpoint over it; a tail that does not verify makes the tenant "tainted":
// appends continue, no checkpoint is signed, VerifyChain reports the fault.
import { auditGenesisHead, nextAuditChainEntry, verifyCheckpoint, type SignedCheckpoint } from '@authority/core';
import { isDuplicateKeyError, type Logger } from '@authority/platform';
import { entryId, storedBytes, toCheckpoint, type ChainStore, type EntryDoc } from './adapters/mongo';
import { agentPath, type AdmittedEvent } from './event-fields';
import type { AuditorKeys } from './keys';
import { verifyStored } from './verify';
import { AGGREGATE_SPAN, AggregateBuilder } from './aggregates';

export interface TenantState {
  tenant: string;
  /** The newest entry this process knows is stored (seq 0 + genesis hash for an empty chain). */
  head: { seq: number; hash: Buffer };
  /** Seq of the newest checkpoint known (signed here or found valid in the store). */
  lastCheckpointSeq: number;
  /** Signing time (Unix s) of that checkpoint, when known (metrics: checkpoint age). */
  lastCheckpointTime?: number;
  /** The newest valid checkpoint found when the state was loaded (the anchor for verification). */
  anchor?: SignedCheckpoint;
  /**
   * A head taken from the hint, not yet verified: entries up to it came from elsewhere. No
   * checkpoint is signed until verifyTail() confirmed them.
   */
  unverified?: { seq: number; hash: Buffer };
  /** Set when the stored tail does not verify: no checkpoint is signed for this tenant. */
  tainted?: string;
  /** Ids of the entries read by a verified reload, until the next append (skips a redelivery cheaply). */
  recentIds?: Set<string>;
  /** A running tail verification. */
  verifying?: Promise<boolean>;
  /** The head seq last written to the `heads` hint. */
  hintSeq?: number;
  /**
   * The aggregate of the entries appended since the last one stored (aggregates.ts); lost with
   * the state (a reload, a crash): readers recompute that range from the entries.
   */
  aggregate?: AggregateBuilder;
}

export interface AppendHooks {
  /** Runs after each stored chunk (heartbeats, checkpoints, the chain feed), with its entries. */
  afterChunk?: (state: TenantState, chunk: readonly EntryDoc[]) => Promise<void> | void;
  /**
   * Runs between the steps of a conflict's resolution (every read batch of the verified reload, every
   * id lookup): the ingest path heartbeats its consumer group there, because on FerretDB these steps
   * can outlast the session timeout (issue 14: partitions moving back and forth between replicas).
   */
  heartbeat?: () => Promise<void>;
  /**
   * Sees each insertMany (tracing): the events it held (the very objects passed to append), their
   * documents, when it ran (epoch ms) and its error (a duplicate key is then resolved and retried).
   */
  onInsert?: (
    events: readonly AdmittedEvent[],
    docs: readonly EntryDoc[],
    startMs: number,
    endMs: number,
    err?: unknown,
  ) => void;
  /** Most entries the next chunk may hold (so a checkpoint can fall exactly every N entries). */
  chunkLimit?: (state: TenantState) => number;
}

export interface AppendResult {
  appended: number;
  /** Events that were already chained (redelivered) or repeated within the batch. */
  skipped: number;
}

export interface AppenderOptions {
  store: ChainStore;
  keys: AuditorKeys;
  logger: Logger;
  now?: () => Date;
  /** Reload-and-retry rounds after duplicate-key conflicts before giving up (default 20). */
  maxAttempts?: number;
  /**
   * Store each chunk's aggregate after the chunk (default true; aggregates.ts). Off only to measure
   * ingest without them: readers recompute missing aggregates from the entries.
   */
  aggregates?: boolean;
}

/** Most event ids kept from a reloaded tail to filter a redelivered batch without a query. */
const RECENT_IDS_LIMIT = 20_000;

function genesisHead(tenant: string): { seq: number; hash: Buffer } {
  const g = auditGenesisHead(tenant);
  return { seq: g.seq, hash: Buffer.from(g.hash) };
}

const HEX_HASH = /^[0-9a-f]{64}$/;

export class ChainAppender {
  private readonly states = new Map<string, TenantState>();
  private readonly loading = new Map<string, Promise<TenantState>>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly forgotten = new Set<string>();
  private readonly now: () => Date;
  /** Loads and reloads (for logs, tests and benchmarks). */
  readonly stats = { hintLoads: 0, verifiedReloads: 0, tailVerifications: 0, conflicts: 0 };

  constructor(private readonly opts: AppenderOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Tenants whose head is cached (the checkpoint timer walks these). */
  knownStates(): TenantState[] {
    return [...this.states.values()];
  }

  /**
   * Forgets every cached head (after a rebalance another replica may have appended). Tenants with
   * entries no checkpoint covers yet are remembered for the checkpoint timer (takeForgotten):
   * otherwise, with no further event for them, their last entries would never be signed.
   */
  invalidateAll(): void {
    for (const s of this.states.values()) if (s.head.seq > s.lastCheckpointSeq) this.forgotten.add(s.tenant);
    this.states.clear();
  }

  /** The tenants invalidateAll() forgot with unsigned entries, once each. */
  takeForgotten(): string[] {
    const out = [...this.forgotten];
    this.forgotten.clear();
    return out;
  }

  /** Has the tenant's head in the cache? */
  isCached(tenant: string): boolean {
    return this.states.has(tenant);
  }

  /** Runs `fn` with the tenant's lock held (appends and checkpoints of one tenant never interleave). */
  withTenantLock<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(tenant) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(tenant, tail);
    void tail.then(() => {
      if (this.locks.get(tenant) === tail) this.locks.delete(tenant);
    });
    return run;
  }

  /** The cached state, loading it (hint, checkpoint or genesis) on first use. */
  async state(tenant: string): Promise<TenantState> {
    const cached = this.states.get(tenant);
    if (cached) return cached;
    let loading = this.loading.get(tenant);
    if (!loading) {
      loading = this.load(tenant).finally(() => this.loading.delete(tenant));
      this.loading.set(tenant, loading);
    }
    return loading;
  }

  /** The newest checkpoint of the tenant whose signature verifies (bad ones are logged and skipped). */
  private async newestValidCheckpoint(tenant: string): Promise<SignedCheckpoint | undefined> {
    // The newest first (two _id lookups); the 50 newest only when it does not verify.
    const [newest] = await this.opts.store.checkpointsDesc(tenant, 1);
    const candidates =
      newest !== undefined && verifyCheckpoint(toCheckpoint(newest), this.opts.keys.resolve).ok
        ? [newest]
        : await this.opts.store.checkpointsDesc(tenant, 50);
    for (const doc of candidates) {
      const cp = toCheckpoint(doc);
      const check = verifyCheckpoint(cp, this.opts.keys.resolve);
      if (check.ok && cp.tenant === tenant && HEX_HASH.test(cp.headHash)) return cp;
      this.opts.logger.error(
        { tenant, seq: doc.seq, problem: check.ok ? 'wrong tenant' : check.message },
        'stored checkpoint does not verify; ignoring it',
      );
    }
    return undefined;
  }

  /** First sight of a tenant: the head from the hint (or the newest valid checkpoint, or genesis). */
  private async load(tenant: string): Promise<TenantState> {
    const { store } = this.opts;
    this.stats.hintLoads++;
    const [hint, checkpoint] = await Promise.all([store.headHint(tenant), this.newestValidCheckpoint(tenant)]);
    const state: TenantState = {
      tenant,
      head: checkpoint ? { seq: checkpoint.seq, hash: Buffer.from(checkpoint.headHash, 'hex') } : genesisHead(tenant),
      lastCheckpointSeq: checkpoint?.seq ?? 0,
      ...(checkpoint ? { anchor: checkpoint, lastCheckpointTime: checkpoint.time } : {}),
    };
    if (
      hint &&
      typeof hint.seq === 'number' &&
      hint.seq > state.head.seq &&
      typeof hint.hash === 'string' &&
      HEX_HASH.test(hint.hash)
    ) {
      state.head = { seq: hint.seq, hash: Buffer.from(hint.hash, 'hex') };
      state.unverified = { ...state.head };
    }
    if (hint && typeof hint.seq === 'number') state.hintSeq = hint.seq;
    this.states.set(tenant, state);
    return state;
  }

  /** Loads the tenant's head from the store, verified: newest valid checkpoint, then the tail after it. */
  async reload(tenant: string, onProgress?: () => Promise<void>): Promise<TenantState> {
    const { store, keys, logger } = this.opts;
    this.stats.verifiedReloads++;
    const checkpoint = await this.newestValidCheckpoint(tenant);
    const recent: string[] = [];
    const result = await verifyStored(store, {
      tenant,
      ...(checkpoint ? { from: { seq: checkpoint.seq + 1, prevHash: Buffer.from(checkpoint.headHash, 'hex') } } : {}),
      checkpoints: [],
      keys: keys.resolve,
      scanToEnd: true,
      ...(onProgress !== undefined ? { onProgress } : {}),
      onEntry: (s) => {
        recent.push(s.entry.eventId);
        if (recent.length > RECENT_IDS_LIMIT * 2) recent.splice(0, recent.length - RECENT_IDS_LIMIT);
      },
    });
    const state: TenantState = {
      tenant,
      head: checkpoint ? { seq: checkpoint.seq, hash: Buffer.from(checkpoint.headHash, 'hex') } : genesisHead(tenant),
      lastCheckpointSeq: checkpoint?.seq ?? 0,
      ...(checkpoint ? { anchor: checkpoint, lastCheckpointTime: checkpoint.time } : {}),
      recentIds: new Set(recent.slice(-RECENT_IDS_LIMIT)),
    };
    if (result.ok) {
      if (result.head.seq > state.head.seq) state.head = { seq: result.head.seq, hash: Buffer.from(result.head.hash) };
    } else {
      this.taint(state, `${result.fault ?? 'fault'} at seq ${result.firstBadSeq ?? '?'}: ${result.message ?? ''}`);
      const last = await store.lastEntry(tenant);
      if (last && typeof last.seq === 'number' && last.seq > state.head.seq) {
        const hash =
          typeof last.hash === 'string' && HEX_HASH.test(last.hash) ? Buffer.from(last.hash, 'hex') : Buffer.alloc(32);
        state.head = { seq: last.seq, hash };
      }
    }
    logger.debug(
      { tenant, head: state.head.seq, checkpoint: checkpoint?.seq ?? 0, ok: result.ok },
      'chain head reloaded',
    );
    this.states.set(tenant, state);
    await this.saveHint(state);
    return state;
  }

  private taint(state: TenantState, problem: string): void {
    state.tainted = problem;
    this.opts.logger.error(
      { tenant: state.tenant, problem },
      'stored chain tail does not verify: appending continues after the newest entry, but no checkpoint will be signed for this tenant',
    );
  }

  /**
   * Verifies what a hinted head claims (the entries after the load-time checkpoint up to it) before
   * anything is signed over them. Resolves true when there is nothing left to verify.
   */
  verifyTail(state: TenantState): Promise<boolean> {
    if (state.tainted !== undefined) return Promise.resolve(false);
    const base = state.unverified;
    if (base === undefined) return Promise.resolve(true);
    state.verifying ??= (async () => {
      this.stats.tailVerifications++;
      const anchor = state.anchor;
      const result = await verifyStored(this.opts.store, {
        tenant: state.tenant,
        ...(anchor ? { from: { seq: anchor.seq + 1, prevHash: Buffer.from(anchor.headHash, 'hex') } } : {}),
        toSeq: base.seq,
        checkpoints: [],
        keys: this.opts.keys.resolve,
      });
      if (!result.ok) {
        this.taint(state, `${result.fault ?? 'fault'} at seq ${result.firstBadSeq ?? '?'}: ${result.message ?? ''}`);
        return false;
      }
      if (result.head.seq !== base.seq || !result.head.hash.equals(base.hash)) {
        this.taint(
          state,
          `the stored chain does not reach the recorded head (seq ${base.seq}); it ends at seq ${result.head.seq}`,
        );
        return false;
      }
      if (state.unverified === base) delete state.unverified;
      return true;
    })().finally(() => {
      delete state.verifying;
    });
    return state.verifying;
  }

  /**
   * Records the head hint when it moved since the last save. Called by the checkpoint timer and at
   * shutdown, not per batch: a stale hint only costs one verified reload.
   */
  async saveHint(state: TenantState): Promise<void> {
    const { seq } = state.head;
    if (state.hintSeq === seq) return;
    try {
      await this.opts.store.saveHeadHint(state.tenant, seq, state.head.hash.toString('hex'), this.now());
      state.hintSeq = seq;
    } catch (err) {
      this.opts.logger.debug({ err, tenant: state.tenant }, 'head hint not saved');
    }
  }

  /** Saves the hints of every cached tenant whose head moved. */
  async saveHints(): Promise<void> {
    for (const state of this.knownStates()) await this.saveHint(state);
  }

  /** The documents that append `events` after `head`. */
  buildDocs(tenant: string, head: { seq: number; hash: Buffer }, events: readonly AdmittedEvent[]): EntryDoc[] {
    const recordedAt = this.now();
    let h: { seq: number; hash: Uint8Array } = head;
    return events.map((e) => {
      const entry = nextAuditChainEntry(tenant, h, e.eventId, e.raw);
      h = { seq: entry.seq, hash: entry.hash };
      const f = e.fields;
      return {
        _id: entryId(entry.seq),
        tenant,
        seq: entry.seq,
        eventId: e.eventId,
        raw: storedBytes(e.raw),
        hash: Buffer.from(entry.hash).toString('hex'),
        prevHash: Buffer.from(entry.prevHash).toString('hex'),
        time: f.timeMs === undefined ? null : new Date(f.timeMs),
        agent: f.agent,
        agents: agentPath(f),
        action: f.action,
        resource: f.resource,
        decision: f.decision,
        reason: f.reason,
        traceId: f.traceId,
        recordedAt,
      };
    });
  }

  /** Stores the tenant's open aggregate, if any (the tenant's lock is held: before a checkpoint, at a span's end). */
  async flushAggregate(state: TenantState): Promise<void> {
    const b = state.aggregate;
    if (b === undefined || b.size === 0) return;
    delete state.aggregate;
    await this.opts.store.putAggregates([b.build()], this.opts.keys);
  }

  /** Appends a tenant's events (in order) to its chain. Events already in the chain are skipped. */
  append(tenant: string, events: readonly AdmittedEvent[], hooks: AppendHooks = {}): Promise<AppendResult> {
    return this.withTenantLock(tenant, () => this.appendLocked(tenant, events, hooks));
  }

  private async appendLocked(
    tenant: string,
    events: readonly AdmittedEvent[],
    hooks: AppendHooks,
  ): Promise<AppendResult> {
    const { store, logger } = this.opts;
    const maxAttempts = this.opts.maxAttempts ?? 20;
    const seen = new Set<string>();
    let pending: AdmittedEvent[] = [];
    for (const e of events) {
      if (seen.has(e.eventId)) continue;
      seen.add(e.eventId);
      pending.push(e);
    }
    let skipped = events.length - pending.length;
    let state = await this.state(tenant);
    if (state.recentIds !== undefined) {
      const known = state.recentIds;
      const before = pending.length;
      pending = pending.filter((e) => !known.has(e.eventId));
      skipped += before - pending.length;
      delete state.recentIds;
    }
    let appended = 0;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const docs = this.buildDocs(tenant, state.head, pending);
      try {
        await store.insertEntries(
          docs,
          async (chunk) => {
            const last = chunk[chunk.length - 1] as EntryDoc;
            state.head = { seq: last.seq, hash: Buffer.from(last.hash, 'hex') };
            appended += chunk.length;
            const stored = pending.slice(0, chunk.length);
            pending = pending.slice(chunk.length);
            // The chunk joins the tenant's open aggregate, stored every AGGREGATE_SPAN entries and
            // before each checkpoint: a crash in between leaves a range that readers recompute
            // from the entries (aggregate-walk.ts), never a count without its entries.
            if (this.opts.aggregates !== false) {
              let b = state.aggregate;
              if (b !== undefined && b.nextSeq !== chunk[0]!.seq) b = undefined; // not contiguous: a hole
              const builder = b ?? new AggregateBuilder(tenant);
              chunk.forEach((d, k) =>
                builder.add({
                  seq: d.seq,
                  hash: d.hash,
                  prevHash: d.prevHash,
                  fields: stored[k]!.fields,
                  raw: stored[k]!.raw,
                }),
              );
              state.aggregate = builder;
              if (builder.size >= AGGREGATE_SPAN) await this.flushAggregate(state);
            }
            await hooks.afterChunk?.(state, chunk);
          },
          hooks.chunkLimit ? () => hooks.chunkLimit!(state) : undefined,
          // The chunk is always the head of `pending` (stored chunks are sliced off in onChunk).
          hooks.onInsert
            ? (chunk, startMs, endMs, err) =>
                hooks.onInsert!(pending.slice(0, chunk.length), chunk, startMs, endMs, err)
            : undefined,
        );
      } catch (err) {
        if (!isDuplicateKeyError(err) || attempt >= maxAttempts) throw err;
        // Already chained (redelivery) or another replica appended: reload, drop what is in, retry.
        this.stats.conflicts++;
        await hooks.heartbeat?.();
        state = await this.reload(tenant, hooks.heartbeat);
        delete state.recentIds;
        await hooks.heartbeat?.();
        const existing = await store.existingEventIds(
          tenant,
          pending.map((e) => e.eventId),
          hooks.heartbeat,
        );
        await hooks.heartbeat?.();
        const before = pending.length;
        pending = pending.filter((e) => !existing.has(e.eventId));
        skipped += before - pending.length;
        logger.debug(
          {
            tenant,
            head: state.head.seq,
            already_chained: before - pending.length,
            remaining: pending.length,
            attempt,
          },
          'append conflict resolved',
        );
      }
    }
    return { appended, skipped };
  }
}

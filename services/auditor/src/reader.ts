// The read side of the auditor, behind the gRPC handlers: queries, verification, checkpoints,
// attestations and compliance reports over one tenant's chain. Requests arrive validated as plain
// values; every call is scoped to the one tenant the caller was authorized for.
// Size: one AuditReader; query, verify, attest and report share its bounded chain walk (archive
// boundary, scan limit, aggregates then verified entries), which is the part a change must see whole.
import {
  globMatch,
  MAX_GLOB_PATTERN_LENGTH,
  signAttestation,
  type SignedAttestation,
  type SignedCheckpoint,
} from '@authority/core';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type Logger } from '@authority/platform';
import { genesisHash } from '@authority/core';
import { compactionRuns, walkAggregates, type WalkResult, type WalkSegment } from './aggregate-walk';
import {
  decodeAggregateEvents,
  mergeAggregates,
  rawDigest,
  restrictAggregate,
  rowEventFields,
  type ChunkAggregate,
} from './aggregates';
import { eventFields } from './event-fields';
import { rawBytes } from './adapters/mongo';
import type { PolicyView } from '@authority/views';
import { toCheckpoint, type ChainStore, type EntryDoc, type EntryPrefilter } from './adapters/mongo';
import { agentRole, type EventFields } from './event-fields';
import type { AuditorKeys } from './keys';
import {
  buildComplianceReport,
  ReportAggregator,
  type ComplianceReport,
  type ReportScope,
  type ReportWindow,
} from './report/model';
import type {
  AttestInput,
  QueriedEntry,
  QueryInput,
  QueryOutput,
  TimeWindow,
  VerifyInput,
  VerifyOutput,
} from './read-types';
import { decodePageToken, encodePageToken } from './tokens';
import { AggregateRecheck } from './aggregate-walk';
import {
  ScanLimitError,
  type StoredEntry,
  toStoredEntry,
  verifyStored,
  type VerifyStoredOptions,
  type VerifyStoredResult,
} from './verify';

export type {
  AttestInput,
  QueriedEntry,
  QueryInput,
  QueryOutput,
  TimeWindow,
  VerifyInput,
  VerifyOutput,
} from './read-types';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** Default bound of the entries one VerifyChain, Attest or report call reads. */
export const DEFAULT_MAX_SCAN_ENTRIES = 1_000_000;
/** Reason code of a call refused because it would read more than the bound. */
export const SCAN_LIMIT_EXCEEDED = 'SCAN_LIMIT_EXCEEDED';

export interface ReaderOptions {
  store: ChainStore;
  keys: AuditorKeys;
  policies: Pick<PolicyView, 'get'>;
  /** Most entries one QueryEvents call examines. */
  scanLimit: number;
  /**
   * Most entries one VerifyChain, Attest or report call reads (default DEFAULT_MAX_SCAN_ENTRIES);
   * a call that would read more is refused before it reads anything.
   */
  maxScanEntries?: number;
  now?: () => Date;
  /** Where the aggregate path says what it repaired or could not use. */
  logger?: Logger;
  /**
   * Attest and the report read incremental aggregates (default true); false: they verify and scan
   * every entry, as before aggregates (benchmarks compare the two; tests check they agree).
   */
  useAggregates?: boolean;
  /**
   * Entries one merged aggregate counts (DEFAULT_COMPACT_SPAN; 0: no merging). After a walk, runs
   * of consecutive shorter aggregates that add up to it are merged into one, in the background.
   */
  compactSpan?: number;
}

/**
 * Entries a merged aggregate counts: 1,000,000 entries are then 40 documents whose groups are
 * deduplicated, and a window that cuts one reads its events (about 10 bytes per entry) once.
 */
export const DEFAULT_COMPACT_SPAN = 25_000;

/**
 * Does an event match a query's filters (all read from the raw event)? An agent matches when it
 * is anywhere on the event's delegation path: it acted, or it delegated to the agent that did.
 */
export function matchesQuery(f: EventFields | undefined, q: QueryInput): boolean {
  if (f === undefined) return false;
  if (q.agentId !== '' && agentRole(f, q.agentId) === undefined) return false;
  if (q.action !== '' && f.action !== q.action) return false;
  if (q.decision !== '' && q.decision !== 'DECISION_UNSPECIFIED' && f.decision !== q.decision) return false;
  if (q.reason !== '' && q.reason !== 'REASON_CODE_UNSPECIFIED' && f.reason !== q.reason) return false;
  if (q.startMs !== undefined || q.endMs !== undefined) {
    if (f.timeMs === undefined) return false;
    if (q.startMs !== undefined && f.timeMs < q.startMs) return false;
    if (q.endMs !== undefined && f.timeMs > q.endMs) return false;
  }
  if (q.resourceGlob !== '' && !globMatch(q.resourceGlob, f.resource)) return false;
  return true;
}

/**
 * Is this event an access by or through `agent` to a resource matching `pattern` in the window
 * (an attestation counts these)? Its role: ACTED when the agent made the call itself, DELEGATED
 * when an agent it delegated to made it; undefined when the event is not such an access.
 */
export function accessRole(
  f: EventFields,
  agent: string,
  pattern: string,
  window: TimeWindow,
): 'ACTED' | 'DELEGATED' | undefined {
  if (
    f.action !== 'check' ||
    f.timeMs === undefined ||
    f.timeMs < window.startMs ||
    f.timeMs > window.endMs ||
    !globMatch(pattern, f.resource)
  )
    return undefined;
  return agentRole(f, agent);
}

export class AuditReader {
  /** Attest and report calls served from aggregates, and those that verified and scanned every entry. */
  readonly stats = {
    fromAggregates: 0,
    fullScans: 0,
    entriesRead: 0,
    aggregatesRepaired: 0,
    /** Aggregates merged into others by compactions (and deleted), and the merged ones stored. */
    aggregatesCompacted: 0,
    mergedStored: 0,
    /** What the last walk read: aggregate documents, their body bytes, events details and their bytes. */
    lastWalk: { docsRead: 0, storedBytes: 0, bodyBytes: 0, detailsRead: 0, detailBytes: 0, headCheckMs: 0 },
    /**
     * Where the last report from aggregates spent its time (ms): the head and checkpoint lookups
     * before the walk, the walk, the tail, the listed events, building the report.
     */
    lastReportMs: { lookups: 0, walk: 0, tail: 0, listed: 0, build: 0 },
  };
  private readonly now: () => Date;
  private readonly maxScan: number;
  /** Tenants being compacted, and every compaction started (compacted() waits for them). */
  private readonly compacting = new Set<string>();
  private compaction: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ReaderOptions) {
    this.now = opts.now ?? (() => new Date());
    this.maxScan = opts.maxScanEntries ?? DEFAULT_MAX_SCAN_ENTRIES;
  }

  /**
   * verifyStored reading at most the bound: the callers check the range from its seqs first; a
   * store holding more documents than its seqs say (forks, duplicates) is stopped here too.
   */
  private async verifyBounded(
    options: VerifyStoredOptions,
    refuse: (read: string) => Error,
  ): Promise<VerifyStoredResult> {
    try {
      return await verifyStored(this.opts.store, { ...options, maxDocs: this.maxScan });
    } catch (err) {
      if (err instanceof ScanLimitError) throw refuse(`more than ${this.maxScan} documents`);
      throw err;
    }
  }

  /**
   * The refusal of an Attest or report call whose verification would read more than the bound.
   * Narrowing the window would not help: entries are chained in arrival order, so an event of
   * any time may sit anywhere in the chain, and both verify it from seq 1.
   */
  private chainTooLong(what: string, tenant: string, entries: string): FailedPreconditionError {
    return new FailedPreconditionError(
      `${what} verifies the chain of tenant '${tenant}' from seq 1, which would read ${entries}: more than the ${this.maxScan} entries one call may read (AUTHORITY_MAX_SCAN_ENTRIES). A narrower time window does not help (events are chained in arrival order); the operator must raise the bound`,
      SCAN_LIMIT_EXCEEDED,
    );
  }

  /**
   * Where verification of a tenant's chain starts: after its archive boundary (the archived
   * prefix is deleted from the store; chain-admin.ts), else at seq 1.
   */
  private async chainStart(tenant: string): Promise<{ seq: number; prevHash: Uint8Array } | undefined> {
    const b = await this.opts.store.archiveBoundary(tenant);
    return b ? { seq: b.throughSeq + 1, prevHash: Buffer.from(b.headHash, 'hex') } : undefined;
  }

  // --- QueryEvents -------------------------------------------------------------------------------

  async query(q: QueryInput): Promise<QueryOutput> {
    if (q.pageSize > MAX_PAGE_SIZE) throw new InvalidArgumentError('page_size', `page_size: at most ${MAX_PAGE_SIZE}`);
    if (q.resourceGlob.length > MAX_GLOB_PATTERN_LENGTH) {
      throw new InvalidArgumentError(
        'resource_glob',
        `resource_glob: longer than ${MAX_GLOB_PATTERN_LENGTH} characters`,
      );
    }
    if (q.startMs !== undefined && q.endMs !== undefined && q.startMs > q.endMs) {
      throw new InvalidArgumentError('end_time', 'end_time: before start_time');
    }
    const pageSize = q.pageSize === 0 ? DEFAULT_PAGE_SIZE : q.pageSize;
    const afterSeq = q.pageToken === '' ? 0 : decodePageToken('q', q.tenant, q.pageToken);
    // A prefilter on the indexed copies (cheap where MongoDB has indexes); every candidate is then
    // matched again against its raw bytes, which are the evidence.
    const prefilter: EntryPrefilter = {};
    if (q.agentId !== '') prefilter.agent = q.agentId;
    if (q.action !== '') prefilter.action = q.action;
    if (q.decision !== '' && q.decision !== 'DECISION_UNSPECIFIED') prefilter.decision = q.decision;
    if (q.reason !== '' && q.reason !== 'REASON_CODE_UNSPECIFIED') prefilter.reason = q.reason;
    if (q.startMs !== undefined) prefilter.fromTimeMs = q.startMs;
    if (q.endMs !== undefined) prefilter.toTimeMs = q.endMs;
    const entries: QueriedEntry[] = [];
    if (Object.keys(prefilter).length === 0 && q.resourceGlob === '') {
      // No filter: the page is the next entries by seq, read by _id (FerretDB pushes down nothing
      // else), so its cost does not grow with the chain. One more tells whether there is a next page.
      let docs = await this.opts.store.entriesFrom(q.tenant, afterSeq + 1, pageSize + 1);
      if (docs.length === 0) {
        // Entries up to an archive boundary were deleted: the page starts after it.
        const start = await this.chainStart(q.tenant);
        if (start && start.seq > afterSeq + 1)
          docs = await this.opts.store.entriesFrom(q.tenant, start.seq, pageSize + 1);
      }
      for (const doc of docs.slice(0, pageSize)) entries.push(toStoredEntry(doc));
      const last = entries[entries.length - 1];
      return {
        entries,
        nextPageToken: docs.length > pageSize && last ? encodePageToken('q', q.tenant, last.entry.seq) : '',
        scanned: entries.length,
      };
    }
    const cursor = this.opts.store.entriesCursor(
      q.tenant,
      afterSeq + 1,
      undefined,
      prefilter,
      Math.min(1000, Math.max(pageSize * 2, 100)),
    );
    let scanned = 0;
    let lastScanned = afterSeq;
    let more = false;
    try {
      while (await cursor.hasNext()) {
        const doc = (await cursor.next()) as EntryDoc;
        scanned++;
        if (typeof doc.seq === 'number' && doc.seq > lastScanned) lastScanned = doc.seq;
        const s = toStoredEntry(doc);
        if (matchesQuery(s.fields, q)) {
          const role = q.agentId !== '' && s.fields ? agentRole(s.fields, q.agentId) : undefined;
          entries.push(role ? { ...s, agentRole: role } : s);
        }
        if (entries.length >= pageSize || scanned >= this.opts.scanLimit) {
          more = await cursor.hasNext();
          break;
        }
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    return { entries, nextPageToken: more ? encodePageToken('q', q.tenant, lastScanned) : '', scanned };
  }

  // --- checkpoints -------------------------------------------------------------------------------

  async latestCheckpoint(tenant: string): Promise<SignedCheckpoint | undefined> {
    const [doc] = await this.opts.store.checkpointsDesc(tenant, 1);
    return doc ? toCheckpoint(doc) : undefined;
  }

  async getCheckpoint(tenant: string, seq: number): Promise<SignedCheckpoint> {
    if (seq < 0) throw new InvalidArgumentError('seq', 'seq: must not be negative');
    if (seq === 0) {
      const cp = await this.latestCheckpoint(tenant);
      if (!cp) throw new NotFoundError(`tenant '${tenant}' has no checkpoint yet`, 'tenant', 'CHECKPOINT_NOT_FOUND');
      return cp;
    }
    const doc = await this.opts.store.checkpointAt(tenant, seq);
    if (!doc)
      throw new NotFoundError(`tenant '${tenant}' has no checkpoint at seq ${seq}`, 'seq', 'CHECKPOINT_NOT_FOUND');
    return toCheckpoint(doc);
  }

  async listCheckpoints(
    tenant: string,
    pageSize: number,
    pageToken: string,
  ): Promise<{ checkpoints: SignedCheckpoint[]; nextPageToken: string }> {
    if (pageSize > MAX_PAGE_SIZE) throw new InvalidArgumentError('page_size', `page_size: at most ${MAX_PAGE_SIZE}`);
    const size = pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
    const before = pageToken === '' ? undefined : decodePageToken('c', tenant, pageToken);
    const docs = await this.opts.store.checkpointsDesc(tenant, size + 1, before);
    const page = docs.slice(0, size).map(toCheckpoint);
    const last = page[page.length - 1];
    return {
      checkpoints: page,
      nextPageToken: docs.length > size && last ? encodePageToken('c', tenant, last.seq) : '',
    };
  }

  // --- VerifyChain -------------------------------------------------------------------------------

  async verify(v: VerifyInput, signal?: AbortSignal): Promise<VerifyOutput> {
    const { tenant, fromSeq, toSeq, checkpointSeq } = v;
    if (fromSeq < 0) throw new InvalidArgumentError('from_seq', 'from_seq: must not be negative');
    if (toSeq < 0) throw new InvalidArgumentError('to_seq', 'to_seq: must not be negative');
    if (checkpointSeq < 0) throw new InvalidArgumentError('checkpoint_seq', 'checkpoint_seq: must not be negative');
    if (toSeq > 0 && fromSeq > toSeq) throw new InvalidArgumentError('to_seq', 'to_seq: before from_seq');
    if (toSeq > 0 && checkpointSeq > toSeq) {
      throw new InvalidArgumentError(
        'checkpoint_seq',
        'checkpoint_seq: beyond to_seq (a checkpoint is checked at its own seq)',
      );
    }
    let requested: SignedCheckpoint | undefined;
    if (checkpointSeq > 0) requested = await this.getCheckpoint(tenant, checkpointSeq);
    // Checkpoints up to the requested one (or to_seq, or all).
    const upTo = checkpointSeq > 0 ? checkpointSeq : toSeq > 0 ? toSeq : undefined;
    const all = (await this.opts.store.checkpointsAsc(tenant, 0, upTo)).map(toCheckpoint);
    // A range starts at the newest checkpoint before it (or genesis), so it rests on a signed head.
    let from: { seq: number; prevHash: Uint8Array } | undefined;
    let anchorSeq = 0;
    if (fromSeq > 1) {
      const anchor = [...all].reverse().find((cp) => cp.seq <= fromSeq - 1 && cp.seq > 0);
      if (anchor) {
        anchorSeq = anchor.seq;
        from = {
          seq: anchor.seq + 1,
          prevHash: Buffer.from(/^[0-9a-f]{64}$/.test(anchor.headHash) ? anchor.headHash : '', 'hex'),
        };
        if (from.prevHash.length !== 32) from.prevHash = new Uint8Array(32);
      }
    }
    const start = await this.chainStart(tenant);
    const archived = (start?.seq ?? 1) - 1;
    for (const [field, seq] of [
      ['to_seq', toSeq],
      ['checkpoint_seq', checkpointSeq],
    ] as const) {
      if (seq > 0 && seq <= archived)
        throw new InvalidArgumentError(
          field,
          `${field}: seqs 1-${archived} are archived (deleted from the store); verify their archive file offline (authority audit archive verify)`,
        );
    }
    if (start && start.seq - 1 >= anchorSeq) {
      // The archived prefix is gone: the range starts at the archive boundary.
      from = start;
      anchorSeq = start.seq - 1;
    }
    const checkpoints = all.filter((cp) => cp.seq >= anchorSeq);
    // The range read: from the anchor to to_seq, or to the chain's head.
    const storedHead = (await this.opts.store.lastEntry(tenant))?.seq ?? 0;
    const endSeq = toSeq > 0 ? Math.min(toSeq, storedHead) : storedHead;
    const tooWide = (read: string) =>
      new InvalidArgumentError(
        'to_seq',
        `to_seq: VerifyChain reads at most ${this.maxScan} entries per call (AUTHORITY_MAX_SCAN_ENTRIES), and this range would read ${read} (seqs ${anchorSeq + 1}-${endSeq}, from ${anchorSeq > 0 ? `the checkpoint at seq ${anchorSeq}` : 'the start of the chain'}): verify the chain in smaller ranges (to_seq at most ${anchorSeq + this.maxScan}, then from_seq after it)`,
        SCAN_LIMIT_EXCEEDED,
      );
    if (endSeq - anchorSeq > this.maxScan) throw tooWide(`${endSeq - anchorSeq} entries`);
    // The aggregates of the verified range are recomputed from its entries as they verify.
    const aggregates = this.opts.useAggregates === false ? undefined : await this.opts.store.aggregates(tenant);
    const recheck = aggregates ? new AggregateRecheck(tenant, aggregates) : undefined;
    const result = await this.verifyBounded(
      {
        tenant,
        ...(from ? { from } : {}),
        ...(toSeq > 0 ? { toSeq } : {}),
        checkpoints,
        keys: this.opts.keys.resolve,
        ...(signal ? { signal } : {}),
        scanToEnd: true,
        ...(recheck ? { onEntry: (s: StoredEntry) => recheck.add(s) } : {}),
      },
      tooWide,
    );
    let headSeq = result.lastSeqSeen;
    if (toSeq > 0) headSeq = storedHead;
    const restsOn = requested ?? checkpoints[checkpoints.length - 1];
    const out = verifyOutput(result, restsOn, headSeq);
    const bad = recheck?.mismatch;
    if (out.ok && bad !== undefined) {
      return { ...out, ok: false, fault: 'aggregate_mismatch', firstBadSeq: bad.seq, message: bad.message };
    }
    return out;
  }

  // --- Attest ------------------------------------------------------------------------------------

  async attest(a: AttestInput, signal?: AbortSignal): Promise<SignedAttestation> {
    if (a.agentId === '') throw new InvalidArgumentError('agent_id', 'agent_id: required');
    if (a.resourcePattern === '') throw new InvalidArgumentError('resource_pattern', 'resource_pattern: required');
    if (a.resourcePattern.length > MAX_GLOB_PATTERN_LENGTH) {
      throw new InvalidArgumentError(
        'resource_pattern',
        `resource_pattern: longer than ${MAX_GLOB_PATTERN_LENGTH} characters`,
      );
    }
    if (a.fromSec < 0) throw new InvalidArgumentError('start_time', 'start_time: before 1970');
    if (a.toSec < a.fromSec) throw new InvalidArgumentError('end_time', 'end_time: before start_time');
    const latest = await this.latestCheckpoint(a.tenant);
    if (!latest) {
      throw new FailedPreconditionError(
        `tenant '${a.tenant}' has no checkpoint yet; an attestation must be bound to one`,
        'NO_CHECKPOINT',
      );
    }
    if (latest.seq > this.maxScan) {
      throw this.chainTooLong('Attest', a.tenant, `${latest.seq} entries (to its latest checkpoint)`);
    }
    const window: TimeWindow = { startMs: a.fromSec * 1000, endMs: a.toSec * 1000 + 999 };
    let allowedActed = 0;
    let allowedDelegated = 0;
    let denied = 0;
    const countEvent = (f: EventFields, n: number) => {
      const role = accessRole(f, a.agentId, a.resourcePattern, window);
      if (role === undefined) return;
      if (f.decision === 'ALLOW') {
        if (role === 'ACTED') allowedActed += n;
        else allowedDelegated += n;
      } else if (f.decision === 'DENY') denied += n;
    };
    const walked = await this.walk(a.tenant, latest, { fromMs: window.startMs, toMs: window.endMs }, signal, (seg) => {
      if (seg.kind === 'entries') {
        for (const e of seg.entries) if (e.fields) countEvent(e.fields, 1);
        return;
      }
      const { minMs, maxMs } = seg.aggregate;
      if (minMs === null || maxMs === null || maxMs < window.startMs || minMs > window.endMs) return;
      // A window that cuts the aggregate counts only its events inside.
      const inside = minMs >= window.startMs && maxMs <= window.endMs;
      const g = inside ? seg.aggregate : restrictAggregate(seg.aggregate, window.startMs, window.endMs);
      for (const row of g.rows) countEvent(rowEventFields(row), row.count);
    });
    if (walked !== undefined) return this.signAttest(a, latest, allowedActed, allowedDelegated, denied);
    // What the walk handed on before it failed is dropped: every entry is counted again below.
    allowedActed = allowedDelegated = denied = 0;
    const start = await this.chainStart(a.tenant);
    const checkpoints = (await this.opts.store.checkpointsAsc(a.tenant, start ? start.seq - 1 : 0, latest.seq)).map(
      toCheckpoint,
    );
    const refuse = (read: string) => this.chainTooLong('Attest', a.tenant, read);
    const result = await this.verifyBounded(
      {
        tenant: a.tenant,
        ...(start ? { from: start } : {}),
        toSeq: latest.seq,
        checkpoints,
        keys: this.opts.keys.resolve,
        ...(signal ? { signal } : {}),
        onEntry: (s) => {
          if (s.fields !== undefined) countEvent(s.fields, 1);
        },
      },
      refuse,
    );
    if (!result.ok) {
      throw new FailedPreconditionError(
        `the chain does not verify up to its latest checkpoint (seq ${latest.seq}): ${(result.fault ?? 'fault').toUpperCase()} at seq ${result.firstBadSeq}: ${result.message}`,
        'CHAIN_NOT_VERIFIED',
      );
    }
    return this.signAttest(a, latest, allowedActed, allowedDelegated, denied);
  }

  /**
   * The chain from its start to the checkpoint `end` as aggregates (whole where `window` holds
   * all of an aggregate's events or none, else its entries); undefined when aggregates are off
   * or something does not verify (the caller then verifies and scans every entry).
   */
  private async walk(
    tenant: string,
    end: SignedCheckpoint,
    window: { fromMs: number; toMs: number },
    signal: AbortSignal | undefined,
    onSegment: (segment: WalkSegment) => void,
    endEntry?: { seq: number; hash: string },
  ): Promise<WalkResult | undefined> {
    if (this.opts.useAggregates === false) return undefined;
    const start = (await this.chainStart(tenant)) ?? { seq: 1, prevHash: genesisHash(tenant) };
    const walked = await walkAggregates(
      this.opts.store,
      {
        tenant,
        start,
        end,
        keys: this.opts.keys.resolve,
        sealer: this.opts.keys,
        // Only an aggregate the window cuts needs its events' seqs and times.
        withEvents: (minMs, maxMs) =>
          minMs !== null &&
          maxMs !== null &&
          maxMs >= window.fromMs &&
          minMs <= window.toMs &&
          (minMs < window.fromMs || maxMs > window.toMs),
        ...(endEntry ? { endEntry } : {}),
        ...(this.opts.logger ? { logger: this.opts.logger } : {}),
        ...(signal ? { signal } : {}),
      },
      onSegment,
    );
    if (walked !== undefined) {
      this.stats.fromAggregates++;
      this.stats.entriesRead += walked.entriesRead;
      this.stats.aggregatesRepaired += walked.repaired;
      const { docsRead, storedBytes, bodyBytes, detailsRead, detailBytes, headCheckMs } = walked;
      this.stats.lastWalk = { docsRead, storedBytes, bodyBytes, detailsRead, detailBytes, headCheckMs };
      this.scheduleCompaction(tenant, walked.used);
    } else this.stats.fullScans++;
    if (walked === undefined)
      this.opts.logger?.warn(
        { tenant, checkpoint: end.seq },
        'aggregates do not lead to the checkpoint; reading every entry',
      );
    return walked;
  }

  /** Resolves when every compaction started so far has ended (tests and benchmarks wait on it). */
  async compacted(): Promise<void> {
    await this.compaction;
  }

  /**
   * Merges runs of the walked aggregates in the background: one compaction at a time for the whole
   * auditor (queued; at most one queued per tenant), so reports of many tenants in a row cannot start
   * as many store-wide merges at once (a 1,000,000-entry merge took minutes of FerretDB work).
   */
  private scheduleCompaction(tenant: string, used: readonly ChunkAggregate[]): void {
    const span = this.opts.compactSpan ?? DEFAULT_COMPACT_SPAN;
    if (span <= 0 || this.compacting.has(tenant)) return;
    const runs = compactionRuns(used, span);
    if (runs.length === 0) return;
    this.compacting.add(tenant);
    this.compaction = this.compaction
      .then(() => this.compact(tenant, runs))
      .catch((err: unknown) => this.opts.logger?.warn({ err, tenant }, 'aggregate compaction failed; retried later'))
      .finally(() => this.compacting.delete(tenant));
  }

  /**
   * Merges each run into one aggregate stored under the run's first seq (replacing the first
   * part), then deletes the other parts: a walk between the two sees the merged one and skips
   * the parts that start inside it, so no entry is counted twice nor missed. A part whose events
   * do not match its sealed body leaves its run as it is (a walk recomputes that part).
   */
  private async compact(tenant: string, runs: readonly ChunkAggregate[][]): Promise<void> {
    for (const run of runs) {
      const full: ChunkAggregate[] = [];
      let firstListed = new Map<number, Uint8Array>();
      for (let i = 0; i < run.length; i += LISTED_LOOKUPS) {
        const batch = run.slice(i, i + LISTED_LOOKUPS);
        const details = await Promise.all(batch.map((a) => this.opts.store.aggregateDetail(tenant, a.firstSeq)));
        if (i === 0) firstListed = details[0]?.listed ?? firstListed;
        batch.forEach((a, k) => {
          const events = details[k]?.events;
          const decoded = a.rows.every((r) => r.seqs !== undefined)
            ? a
            : events
              ? decodeAggregateEvents(a, events)
              : undefined;
          if (decoded !== undefined) full.push(decoded);
        });
      }
      if (full.length !== run.length) {
        this.opts.logger?.warn({ tenant, seq: run[0]?.firstSeq }, 'aggregate events missing or edited; not merged');
        continue;
      }
      // The merged detail replaces the first part's (under the same _id): it keeps its listed events.
      const parts = full.flatMap((a) => a.parts ?? [a.firstSeq]);
      await this.opts.store.putAggregates([mergeAggregates(full)], this.opts.keys, { parts, listed: firstListed });
      this.stats.mergedStored++;
      for (const a of full.slice(1)) await this.opts.store.deleteAggregate(tenant, a.firstSeq);
      this.stats.aggregatesCompacted += full.length - 1;
    }
  }

  private signAttest(
    a: AttestInput,
    latest: SignedCheckpoint,
    allowedActed: number,
    allowedDelegated: number,
    denied: number,
  ): SignedAttestation {
    return signAttestation(
      {
        tenant: a.tenant,
        agent: a.agentId,
        resourcePattern: a.resourcePattern,
        from: a.fromSec,
        to: a.toSec,
        allowedCount: allowedActed + allowedDelegated,
        allowedActedCount: allowedActed,
        allowedDelegatedCount: allowedDelegated,
        deniedCount: denied,
        checkpoint: { seq: latest.seq, headHash: latest.headHash },
        issuedAt: Math.floor(this.now().getTime() / 1000),
      },
      this.opts.keys.secretKey(),
      this.opts.keys.keyId,
    );
  }

  /** The checkpoint an attestation was bound to (for the response), from the store. */
  async checkpointOf(att: SignedAttestation): Promise<SignedCheckpoint | undefined> {
    const doc = await this.opts.store.checkpointAt(att.tenant, att.checkpoint.seq);
    return doc ? toCheckpoint(doc) : undefined;
  }

  // --- GetComplianceReport -----------------------------------------------------------------------

  async report(
    tenant: string,
    window: ReportWindow,
    signal?: AbortSignal,
    scope: ReportScope = {},
  ): Promise<ComplianceReport> {
    if (window.startMs !== undefined && window.startMs > window.endMs)
      throw new InvalidArgumentError('end_time', 'end_time: before start_time');
    if ((scope.resourceGlob ?? '').length > MAX_GLOB_PATTERN_LENGTH) {
      throw new InvalidArgumentError(
        'resource_glob',
        `resource_glob: longer than ${MAX_GLOB_PATTERN_LENGTH} characters`,
      );
    }
    const tStart = performance.now();
    const headDoc = await this.opts.store.lastEntry(tenant);
    const head = headDoc?.seq ?? 0;
    const start = await this.chainStart(tenant);
    const fromSeq = start?.seq ?? 1;
    if (head - fromSeq + 1 > this.maxScan)
      throw this.chainTooLong('The compliance report', tenant, `${head - fromSeq + 1} entries`);
    const policy = this.opts.policies.get(tenant);
    const fast = await this.reportFromAggregates(tenant, window, scope, policy, headDoc, fromSeq, tStart, signal);
    if (fast !== undefined) return fast;
    const checkpoints = (await this.opts.store.checkpointsAsc(tenant, fromSeq - 1)).map(toCheckpoint);
    const agg = new ReportAggregator(window, policy?.policy, scope);
    const result = await this.verifyBounded(
      {
        tenant,
        ...(start ? { from: start } : {}),
        checkpoints,
        keys: this.opts.keys.resolve,
        ...(signal ? { signal } : {}),
        scanToEnd: true,
        onEntry: (s) => agg.add({ seq: s.entry.seq, fields: s.fields, raw: s.entry.raw }),
      },
      (read) => this.chainTooLong('The compliance report', tenant, read),
    );
    const latest = checkpoints[checkpoints.length - 1];
    return buildComplianceReport({
      tenant,
      window,
      generatedAt: this.now(),
      policy,
      aggregate: agg,
      verification: verifyOutput(result, latest, result.lastSeqSeen),
      verifiedThroughSeq: result.head.seq,
      fromSeq,
    });
  }

  /**
   * The report from aggregates up to the latest checkpoint (aggregate-walk.ts) and the entries
   * after it, verified; undefined when aggregates are off or do not lead to the checkpoint.
   */
  private async reportFromAggregates(
    tenant: string,
    window: ReportWindow,
    scope: ReportScope,
    policy: ReturnType<ReaderOptions['policies']['get']>,
    headDoc: { seq: number; hash: string } | undefined,
    fromSeq: number,
    tStart: number,
    signal?: AbortSignal,
  ): Promise<ComplianceReport | undefined> {
    const latest = await this.latestCheckpoint(tenant);
    if (latest === undefined || latest.seq < fromSeq) return undefined;
    const agg = new ReportAggregator(window, policy?.policy, scope);
    const from = window.startMs ?? Number.NEGATIVE_INFINITY;
    const t0 = performance.now();
    const usedAggregates: ChunkAggregate[] = [];
    const walked = await this.walk(
      tenant,
      latest,
      { fromMs: from, toMs: window.endMs },
      signal,
      (seg) => {
        if (seg.kind === 'aggregate') usedAggregates.push(seg.aggregate);
        if (seg.kind === 'entries') {
          for (const s of seg.entries) agg.add({ seq: s.entry.seq, fields: s.fields, raw: s.entry.raw });
          return;
        }
        const g = seg.aggregate;
        if (g.minMs === null || g.maxMs === null || g.maxMs < from || g.minMs > window.endMs) agg.skipAggregate(g);
        else if (g.minMs >= from && g.maxMs <= window.endMs) agg.addAggregate(g);
        else agg.addAggregate(restrictAggregate(g, from, window.endMs)); // the window cuts it
      },
      headDoc,
    );
    if (walked === undefined) return undefined;
    const t1 = performance.now();
    // The entries after the checkpoint, verified from its head (bounded by the checkpoint interval).
    const head = headDoc?.seq ?? 0;
    const tailDocs =
      head > latest.seq ? await this.opts.store.entriesFrom(tenant, latest.seq + 1, head - latest.seq) : [];
    const tail = await this.verifyBounded(
      {
        tenant,
        from: { seq: latest.seq + 1, prevHash: Buffer.from(latest.headHash, 'hex') },
        checkpoints: [],
        keys: this.opts.keys.resolve,
        docs: tailDocs,
        ...(signal ? { signal } : {}),
        scanToEnd: true,
        onEntry: (s) => agg.add({ seq: s.entry.seq, fields: s.fields, raw: s.entry.raw }),
      },
      (read) => this.chainTooLong('The compliance report', tenant, read),
    );
    const t2 = performance.now();
    // The rows of the listed events counted by aggregates: their raw events are stored beside
    // the aggregate (one _id lookup per aggregate that holds some); by _id lookups of the entries
    // for an aggregate stored without them.
    // Each raw event must match the digest its sealed aggregate holds (neither the listed copies
    // nor an entry read alone is verified otherwise); one that does not is missing, and a missing
    // one sends the report to the full verified scan.
    const seqs = agg.listedSeqs();
    const listed = new Map<number, { seq: number; fields: EventFields | undefined; raw: Uint8Array }>();
    const holderOf = (q: number) => usedAggregates.find((r) => r.firstSeq <= q && q <= r.lastSeq);
    // The listed digests of each holder come from its events bytes (checked against its sealed
    // body), read with the listed raw events in one _id lookup.
    const digests = new Map<number, Map<number, string>>();
    const accept = (seq: number, raw: Uint8Array) => {
      const h = holderOf(seq);
      const sealed = h ? digests.get(h.firstSeq)?.get(seq) : undefined;
      if (sealed !== undefined && sealed === rawDigest(raw)) listed.set(seq, { seq, fields: eventFields(raw), raw });
    };
    const holders = [...new Set(seqs.map(holderOf))].filter((h): h is ChunkAggregate => h !== undefined);
    for (let i = 0; i < holders.length; i += LISTED_LOOKUPS) {
      const batch = holders.slice(i, i + LISTED_LOOKUPS);
      const details = await Promise.all(batch.map((h) => this.opts.store.aggregateDetail(tenant, h.firstSeq)));
      batch.forEach((h, k) => {
        const d = details[k];
        const full = d?.events ? decodeAggregateEvents(h, d.events) : undefined;
        if (full?.listedDigests) digests.set(h.firstSeq, full.listedDigests);
        for (const [seq, raw] of d?.listed ?? []) accept(seq, raw);
      });
    }
    // A merged aggregate's other listed events are in the details of its parts (one lookup each).
    const partOf = (q: number) => {
      const parts = holderOf(q)?.parts ?? [];
      let p: number | undefined;
      for (const x of parts) if (x <= q) p = x;
      return p;
    };
    const parts = [...new Set(seqs.filter((q) => !listed.has(q)).map(partOf))].filter(
      (p): p is number => p !== undefined,
    );
    for (let i = 0; i < parts.length; i += LISTED_LOOKUPS) {
      const details = await Promise.all(
        parts.slice(i, i + LISTED_LOOKUPS).map((p) => this.opts.store.aggregateDetail(tenant, p)),
      );
      for (const d of details) for (const [seq, raw] of d.listed) accept(seq, raw);
    }
    const missing = seqs.filter((q) => !listed.has(q));
    for (let i = 0; i < missing.length; i += LISTED_LOOKUPS) {
      const docs = await Promise.all(
        missing.slice(i, i + LISTED_LOOKUPS).map((q) => this.opts.store.entryAt(tenant, q)),
      );
      for (const doc of docs) {
        const raw = doc ? rawBytes(doc.raw) : undefined;
        if (doc && raw) accept(doc.seq, raw);
      }
    }
    const t3 = performance.now();
    try {
      agg.resolveListed(listed);
    } catch (err) {
      this.opts.logger?.warn({ err, tenant }, 'a listed entry is missing; reading every entry');
      return undefined;
    }
    const covered = latest.seq - fromSeq + 1;
    const result: VerifyStoredResult = {
      ...tail,
      checked: covered + tail.checked,
      lastSeqSeen: Math.max(latest.seq, tail.lastSeqSeen),
    };
    const verification = verifyOutput(result, latest, result.lastSeqSeen);
    if (result.ok) {
      verification.message = `seqs ${fromSeq}-${latest.seq} counted from aggregates linked by chain hashes to the checkpoint at seq ${latest.seq} (${walked.entriesRead} of their entries read and verified), and ${tail.checked} entries after it verified; VerifyChain checks every entry and recomputes the aggregates`;
    }
    const built = buildComplianceReport({
      tenant,
      window,
      generatedAt: this.now(),
      policy,
      aggregate: agg,
      verification,
      verifiedThroughSeq: result.head.seq,
      fromSeq,
    });
    this.stats.lastReportMs = {
      lookups: t0 - tStart,
      walk: t1 - t0,
      tail: t2 - t1,
      listed: t3 - t2,
      build: performance.now() - t3,
    };
    return built;
  }
}

/** How many _id lookups of listed entries are in flight at once. */
const LISTED_LOOKUPS = 16;

function verifyOutput(
  result: VerifyStoredResult,
  checkpoint: SignedCheckpoint | undefined,
  headSeq: number,
): VerifyOutput {
  return {
    ok: result.ok,
    firstBadSeq: result.ok ? 0 : (result.firstBadSeq ?? 0),
    fault: result.ok ? 'none' : (result.fault ?? 'modified'),
    message: result.ok
      ? `verified ${result.checked} entries${checkpoint ? ` against the checkpoint at seq ${checkpoint.seq}` : ' (no checkpoint: truncation and rewrites cannot be detected)'}`
      : (result.message ?? ''),
    checked: result.checked,
    ...(checkpoint ? { checkpoint } : {}),
    headSeq,
  };
}

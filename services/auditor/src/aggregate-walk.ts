// Reading a range of a tenant's chain through its aggregates (aggregates.ts): the stored
// aggregates are walked in seq order from the range's start, each one linked to the one before
// by chain hashes (its prevHash is the previous one's endHash, the first one's the start's), and
// the last one must end on the hash the caller expects (a checkpoint's head). Where an aggregate
// is missing (a crash between a chunk and its aggregate, entries stored before aggregates
// existed) or unusable (does not link, unknown format), the entries of the hole are read and
// verified instead, and their aggregates stored (the repair: next time the walk reads them).
// An aggregate the range's end cuts is read from its entries, verified against its hashes (a
// window that cuts one is resolved from its events' times: aggregates.ts restrictAggregate).
// Entries are read by _id lookups (FerretDB pushes nothing else
// down), or by a cursor for a long hole.
import { verifyCheckpoint, type CheckpointKeyResolver, type SignedCheckpoint } from '@authority/core';
import type { Logger } from '@authority/platform';
import {
  AGGREGATE_FORMAT,
  AGGREGATE_SPAN,
  aggregateMismatch,
  aggregateSealInput,
  type AggregateInput,
  type AggregateSealer,
  buildChunkAggregate,
  decodeAggregateBody,
  decodeAggregateEvents,
  inflateStored,
  type ChunkAggregate,
} from './aggregates';
import { rawBytes, type AggregateDoc, type ChainStore } from './adapters/mongo';
import { verifyStored, type StoredEntry } from './verify';

/** A piece of the walked range, in chain order: an aggregate, or verified entries. */
export type WalkSegment =
  | { kind: 'aggregate'; aggregate: ChunkAggregate }
  | { kind: 'entries'; entries: StoredEntry[] };

export interface WalkOptions {
  tenant: string;
  /** The first seq and the chain hash before it (after genesis or an archive boundary). */
  start: { seq: number; prevHash: Uint8Array };
  /** The signed checkpoint the range ends at (its signature and head are checked). */
  end: SignedCheckpoint;
  keys: CheckpointKeyResolver;
  /** Checks the aggregates' seals, and seals the recomputed ones. */
  sealer: AggregateSealer;
  /**
   * Which aggregates (by their time range) the caller needs with their events' seqs and times (a
   * window cuts them): those are read with their events bytes (one _id lookup each).
   */
  withEvents?: (minMs: number | null, maxMs: number | null) => boolean;
  /**
   * The entry at the checkpoint's seq when the caller has already read it from the store in this
   * call (the report's head lookup): not looked up again (on unpatched FerretDB 1.24 a lookup of
   * a new entry costs a scan up to it: docs/operations.md, Auditor storage layout).
   */
  endEntry?: { seq: number; hash: string };
  logger?: Logger;
  signal?: AbortSignal;
}

export interface WalkResult {
  /** Entries read and verified (holes and cut aggregates). */
  entriesRead: number;
  /** Aggregates recomputed and stored. */
  repaired: number;
  /**
   * Aggregate documents read, the bytes of their bodies as stored (deflated) and inflated, and the
   * events details read (bytes).
   */
  docsRead: number;
  storedBytes: number;
  bodyBytes: number;
  detailsRead: number;
  detailBytes: number;
  /** The aggregates handed on whole, in chain order (what a compaction may merge). */
  used: ChunkAggregate[];
  /**
   * Time (ms) of the lookup of the entry at the checkpoint: an index search on MongoDB and on the
   * FerretDB scripts/infra builds; on unpatched FerretDB 1.24 a scan that grows with the chain
   * (docs/auditor.md, Aggregates).
   */
  headCheckMs: number;
}

/** Holes longer than this are read with a cursor rather than by _id lookups. */
const LOOKUP_MAX = 2_000;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The range [start.seq, end.seq] as aggregates and verified entries, handed to `onSegment` in
 * chain order; undefined when something does not verify (the caller then drops what it was handed
 * and reads the whole range the way it did before aggregates, which reports what is wrong).
 */
export async function walkAggregates(
  store: ChainStore,
  o: WalkOptions,
  onSegment: (segment: WalkSegment) => void,
): Promise<WalkResult | undefined> {
  const { tenant, end } = o;
  if (!verifyCheckpoint(end, o.keys).ok || end.tenant !== tenant || end.seq < o.start.seq - 1) return undefined;
  // A document whose range is not two seqs in order is left out: its range is a hole, repaired.
  const docs = (await store.aggregates(tenant)).filter(
    (d) =>
      Number.isSafeInteger(d.firstSeq) &&
      Number.isSafeInteger(d.lastSeq) &&
      d.lastSeq >= d.firstSeq &&
      d.lastSeq >= o.start.seq &&
      d.firstSeq <= end.seq,
  );
  const out: WalkResult = {
    entriesRead: 0,
    repaired: 0,
    docsRead: docs.length,
    storedBytes: 0,
    bodyBytes: 0,
    detailsRead: 0,
    detailBytes: 0,
    used: [],
    headCheckMs: 0,
  };
  let cursor = o.start.seq;
  let hash = hex(o.start.prevHash);
  let i = 0;
  /**
   * Reads and verifies [from, to] after `hash`, handing the entries on as they verify,
   * AGGREGATE_SPAN at a time (a long hole is never held in memory), and with `repair` stores
   * their aggregates; the new hash, or undefined on a fault.
   */
  const read = async (from: number, to: number, repair: boolean): Promise<string | undefined> => {
    const count = to - from + 1;
    const docsRead = count <= LOOKUP_MAX ? await store.entriesFrom(tenant, from, count) : undefined;
    let buf: StoredEntry[] = [];
    let writes: Promise<void> = Promise.resolve();
    const flush = () => {
      if (buf.length === 0) return;
      const entries = buf;
      buf = [];
      out.entriesRead += entries.length;
      onSegment({ kind: 'entries', entries });
      if (!repair) return;
      const agg = buildChunkAggregate(
        tenant,
        entries.map((s) => ({
          seq: s.entry.seq,
          hash: hex(s.entry.hash),
          prevHash: hex(s.entry.prevHash),
          fields: s.fields,
          raw: rawBytes(s.doc.raw) ?? new Uint8Array(0),
        })),
      );
      writes = writes.then(async () => {
        try {
          await store.putAggregates([agg], o.sealer);
          out.repaired++;
        } catch (err) {
          // The counts stand (read from verified entries); the next reader repairs again.
          o.logger?.warn({ err, tenant, seq: agg.firstSeq }, 'recomputed aggregate not stored');
        }
      });
    };
    const r = await verifyStored(store, {
      tenant,
      from: { seq: from, prevHash: Buffer.from(hash, 'hex') },
      toSeq: to,
      checkpoints: [],
      keys: o.keys,
      ...(docsRead ? { docs: docsRead } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onEntry: (s) => {
        buf.push(s);
        if (buf.length >= AGGREGATE_SPAN) flush();
      },
    });
    // Only a complete, verified piece is stored as an aggregate.
    if (r.ok && r.head.seq === to) flush();
    else repair = false;
    await writes;
    if (!r.ok || r.head.seq !== to) return undefined;
    return hex(r.head.hash);
  };
  while (cursor <= end.seq) {
    if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
    // Aggregates that start before the cursor overlap what is counted (or lie before an archive
    // boundary): skipped, never counted twice.
    while (i < docs.length && (docs[i] as AggregateDoc).firstSeq < cursor) i++;
    const d = docs[i];
    if (d === undefined || d.firstSeq > cursor) {
      // A hole: no aggregate starts here.
      const to = Math.min(end.seq, d === undefined ? end.seq : d.firstSeq - 1);
      const next = await read(cursor, to, true);
      if (next === undefined) return undefined;
      hash = next;
      cursor = to + 1;
      continue;
    }
    i++;
    const to = Math.min(d.lastSeq, end.seq);
    const minMs = typeof d.minMs === 'number' ? d.minMs : null;
    const maxMs = typeof d.maxMs === 'number' ? d.maxMs : null;
    // The seal covers the body as stored (deflated): checked before anything is inflated, so an
    // edited document cannot make the reader inflate (or parse) what the auditor did not write.
    const stored = d.v === AGGREGATE_FORMAT ? rawBytes(d.body) : undefined;
    out.storedBytes += stored?.byteLength ?? 0;
    const sealed =
      stored !== undefined &&
      d.keyId === o.sealer.keyId &&
      o.sealer.sealMatches(
        aggregateSealInput(
          { tenant, firstSeq: d.firstSeq, lastSeq: d.lastSeq, prevHash: d.prevHash, endHash: d.endHash, minMs, maxMs },
          d.v,
          stored,
        ),
        d.seal,
      );
    const body = sealed ? inflateStored(stored, d.z) : undefined;
    out.bodyBytes += body?.byteLength ?? 0;
    const decoded = body ? decodeAggregateBody({ firstSeq: d.firstSeq, lastSeq: d.lastSeq, minMs }, body) : undefined;
    if (decoded === undefined || !sealed || d.prevHash !== hash || typeof d.endHash !== 'string') {
      // Edited, sealed by a previous key (after a rotation), or not linked: its entries decide.
      o.logger?.warn(
        { tenant, seq: d.firstSeq, sealed },
        'aggregate not sealed by the active key or not linked to the chain; recomputing it from its entries',
      );
      const next = await read(cursor, to, d.lastSeq <= end.seq);
      if (next === undefined) return undefined;
      hash = next;
      cursor = to + 1;
      continue;
    }
    let aggregate: ChunkAggregate | undefined = {
      tenant,
      firstSeq: d.firstSeq,
      lastSeq: d.lastSeq,
      prevHash: d.prevHash,
      endHash: d.endHash,
      minMs,
      maxMs,
      ...decoded,
      ...(Array.isArray(d.parts) && d.parts.every((q) => Number.isSafeInteger(q)) ? { parts: d.parts } : {}),
    };
    if (d.lastSeq > end.seq) {
      // Cut by the range's end: its entries, verified.
      const next = await read(cursor, to, false);
      if (next === undefined || (to === d.lastSeq && next !== d.endHash)) return undefined;
      hash = next;
      cursor = to + 1;
      continue;
    }
    if (o.withEvents?.(minMs, maxMs) === true) {
      const events = (await store.aggregateDetail(tenant, d.firstSeq)).events;
      out.detailsRead++;
      out.detailBytes += events?.byteLength ?? 0;
      aggregate = events ? decodeAggregateEvents(aggregate, events) : undefined;
      if (aggregate === undefined) {
        // Its events bytes are missing or not the ones it was sealed with: its entries decide
        // (and the recomputed aggregate is stored with its events again).
        o.logger?.warn({ tenant, seq: d.firstSeq }, 'aggregate events missing or edited; recomputing it');
        const next = await read(cursor, to, true);
        if (next === undefined || next !== d.endHash) return undefined;
        hash = next;
        cursor = to + 1;
        continue;
      }
    }
    onSegment({ kind: 'aggregate', aggregate });
    out.used.push(aggregate);
    hash = d.endHash;
    cursor = to + 1;
  }
  if (hash !== end.headHash) return undefined;
  // The entry at the checkpoint must still be there with its hash: deleted newest entries are
  // refused as before aggregates (the full verification then names the fault).
  const t0 = performance.now();
  const last =
    end.seq < o.start.seq ? undefined : o.endEntry?.seq === end.seq ? o.endEntry : await store.entryAt(tenant, end.seq);
  out.headCheckMs = performance.now() - t0;
  if (end.seq >= o.start.seq && (last === undefined || last.hash !== end.headHash)) return undefined;
  return out;
}

/**
 * The runs of consecutive aggregates worth merging into one (mergeAggregates): each part shorter
 * than `span` entries, together at least `span`; what is left over (the newest) waits for more.
 */
export function compactionRuns(used: readonly ChunkAggregate[], span: number): ChunkAggregate[][] {
  const runs: ChunkAggregate[][] = [];
  let run: ChunkAggregate[] = [];
  let size = 0;
  for (const a of used) {
    const n = a.lastSeq - a.firstSeq + 1;
    const prev = run[run.length - 1];
    if (n >= span || (prev !== undefined && (prev.lastSeq + 1 !== a.firstSeq || prev.endHash !== a.prevHash))) {
      run = [];
      size = 0;
      if (n >= span) continue;
    }
    run.push(a);
    size += n;
    if (size >= span) {
      if (run.length > 1) runs.push(run);
      run = [];
      size = 0;
    }
  }
  return runs;
}

/**
 * VerifyChain's check of the aggregates: fed the verified entries in seq order, it recomputes
 * every stored aggregate that starts and ends inside them and remembers the first that differs
 * (an edited count, a built-wrong aggregate). Aggregates the verified range only cuts, and holes,
 * are not faults (readers read those entries).
 */
export class AggregateRecheck {
  private readonly byFirst = new Map<number, AggregateDoc>();
  private open: { doc: AggregateDoc; entries: AggregateInput[] } | undefined;
  private expected = 0;
  mismatch: { seq: number; message: string } | undefined;

  constructor(
    private readonly tenant: string,
    docs: readonly AggregateDoc[],
  ) {
    for (const d of docs) if (Number.isSafeInteger(d.firstSeq)) this.byFirst.set(d.firstSeq, d);
  }

  add(s: StoredEntry): void {
    if (this.mismatch !== undefined) return;
    const seq = s.entry.seq;
    if (this.open !== undefined && seq !== this.expected) this.open = undefined; // not consecutive
    if (this.open === undefined) {
      const doc = this.byFirst.get(seq);
      if (doc === undefined) return;
      this.open = { doc, entries: [] };
    }
    this.expected = seq + 1;
    const o = this.open;
    o.entries.push({
      seq,
      hash: hex(s.entry.hash),
      prevHash: hex(s.entry.prevHash),
      fields: s.fields,
      raw: s.entry.raw,
    });
    if (!(seq >= o.doc.lastSeq)) return;
    this.open = undefined;
    const d = o.doc;
    const problem = aggregateMismatch(
      {
        firstSeq: d.firstSeq,
        lastSeq: d.lastSeq,
        prevHash: d.prevHash,
        endHash: d.endHash,
        minMs: d.minMs,
        maxMs: d.maxMs,
        // Inflated unauthenticated (VerifyChain reads everything anyway), within inflateStored's bound.
        body: d.v === AGGREGATE_FORMAT ? inflateStored(rawBytes(d.body), d.z) : undefined,
      },
      buildChunkAggregate(this.tenant, o.entries),
    );
    if (problem !== undefined) this.mismatch = { seq: d.firstSeq, message: problem };
  }
}

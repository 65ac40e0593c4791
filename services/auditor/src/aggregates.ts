// Incremental per-tenant aggregates (issue 17, "compliance at scale"): as it appends entries, the
// auditor stores aggregate documents, each counting a run of consecutive entries (up to
// AGGREGATE_SPAN, and one ends at every checkpoint) grouped by everything Attest and the compliance
// report look at, so both read aggregates instead of rescanning the chain. This module is the pure
// part: building an aggregate from its entries, its storage encoding and seal input, and comparing
// it with a recomputation (VerifyChain).
//
// A group ("row") is keyed by exactly the event fields the report and Attest use (acting agent,
// delegation chain, chain_unverified, action, resource, decision, reason), so a sum over rows is
// the same as the sum over their events: no approximation. Rows keep the order in which their key
// first appeared in the run, so capped sets (the report tracks the first 10,000 resources, 20
// lineages per agent) fill in chain order as a scan would. A row also carries its events' time
// range, and the seqs of the events the report lists one by one (denials, approvals,
// revocations), whose details are read from those entries. Mints and delegations keep their
// envelope id and agent (the report names a revoked envelope's agent with them).
//
// Events without a readable time are in no row: Attest and the report skip them too.
import { createHash } from 'node:crypto';
import { actingAgent, type EventFields } from './event-fields';

/**
 * Most entries one aggregate counts. Every stored document costs FerretDB about as much as a third
 * of an insert of 100 entries, so one per chunk would slow ingest by a quarter; readers read the
 * entries of an aggregate a window cuts, so a longer span costs them more at the edges.
 */
export const AGGREGATE_SPAN = 500;

/** Format of the encoded rows (stored as `v`; another value is recomputed from entries). */
export const AGGREGATE_FORMAT = 3;

/** One group of a chunk's events with the same key. */
export interface AggregateRow
  extends Pick<
    EventFields,
    'agent' | 'agentChain' | 'chainUnverified' | 'action' | 'resource' | 'decision' | 'reason'
  > {
  count: number;
  /** Earliest and latest event time of the group, ms since the epoch. */
  firstMs: number;
  lastMs: number;
  /** Seqs of the group's events that the report lists (denials, approvals, revocations), ascending. */
  listed: number[];
  /**
   * Seq and time of each of the group's events, in chain order: a window that cuts the aggregate
   * is resolved from these (restrictAggregate) without reading the entries.
   */
  seqs: number[];
  times: number[];
}

/** A mint or delegation of the chunk: the envelope id and the agent it was issued to. */
export interface AggregateMint {
  seq: number;
  jti: string;
  agent: string;
}

/** The aggregate of a run of consecutive entries [firstSeq, lastSeq] of one tenant's chain. */
export interface ChunkAggregate {
  tenant: string;
  firstSeq: number;
  lastSeq: number;
  /** Chain hash before firstSeq and at lastSeq (hex): aggregates link like the entries they count. */
  prevHash: string;
  endHash: string;
  /** Time range of the events that have a time (null when none has). */
  minMs: number | null;
  maxMs: number | null;
  rows: AggregateRow[];
  mints: AggregateMint[];
  /**
   * The raw bytes of the events the report lists one by one (stored beside the rows, read only
   * for the few aggregates whose listed events a report shows; absent when read without them).
   */
  listedRaw?: { seq: number; raw: Uint8Array }[];
  /**
   * SHA-256 (hex) of each listed event's raw bytes, by seq: part of the sealed body, so the raw
   * events read for the report's listed rows (kept apart, unsealed) are checked against it.
   */
  listedDigests?: Map<number, string>;
}

/** SHA-256 of an event's raw bytes, hex (what listedDigests holds). */
export function rawDigest(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** What the aggregate needs of one entry. */
export interface AggregateInput {
  seq: number;
  /** Chain hash of the entry and of the one before it (hex). */
  hash: string;
  prevHash: string;
  fields: EventFields | undefined;
  raw: Uint8Array;
}

/** Is the event one of those the report lists one by one? */
export function isListed(f: Pick<EventFields, 'action' | 'decision'>): boolean {
  return (
    f.decision === 'DENY' ||
    f.action.startsWith('approval.') ||
    f.action === 'envelope.revoke' ||
    f.action === 'agent.revoke'
  );
}

/** IssuanceDetail.jti of a mint or delegation's raw proto3 JSON ('' when absent). */
function issuanceJti(raw: Uint8Array): string {
  try {
    const o: unknown = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    const issuance = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)['issuance'] : undefined;
    const jti = typeof issuance === 'object' && issuance !== null ? (issuance as Record<string, unknown>)['jti'] : '';
    return typeof jti === 'string' ? jti : '';
  } catch {
    return '';
  }
}

function rowKey(f: EventFields): string {
  return JSON.stringify([f.agent, f.agentChain, f.chainUnverified, f.action, f.resource, f.decision, f.reason]);
}

/**
 * Builds the aggregate of consecutive entries one at a time (the appender keeps one per tenant
 * across chunks: memory grows with distinct groups, not with entries).
 */
export class AggregateBuilder {
  private readonly rows = new Map<string, AggregateRow>();
  private readonly mints: AggregateMint[] = [];
  private readonly listedRaw: { seq: number; raw: Uint8Array }[] = [];
  private minMs: number | null = null;
  private maxMs: number | null = null;
  private first: AggregateInput | undefined;
  private last: AggregateInput | undefined;
  /** Entries added. */
  size = 0;

  constructor(readonly tenant: string) {}

  /** The seq after the last entry added (the next one must be it). */
  get nextSeq(): number | undefined {
    return this.last === undefined ? undefined : this.last.seq + 1;
  }

  add(e: AggregateInput): void {
    if (this.last !== undefined && e.seq !== this.last.seq + 1)
      throw new Error(`aggregate: seq ${e.seq} does not follow ${this.last.seq}`);
    this.first ??= e;
    this.last = e;
    this.size++;
    const f = e.fields;
    if (f === undefined || f.timeMs === undefined) return;
    const t = f.timeMs;
    if (this.minMs === null || t < this.minMs) this.minMs = t;
    if (this.maxMs === null || t > this.maxMs) this.maxMs = t;
    const key = rowKey(f);
    let row = this.rows.get(key);
    if (row === undefined) {
      row = {
        agent: f.agent,
        agentChain: [...f.agentChain],
        chainUnverified: f.chainUnverified,
        action: f.action,
        resource: f.resource,
        decision: f.decision,
        reason: f.reason,
        count: 0,
        firstMs: t,
        lastMs: t,
        listed: [],
        seqs: [],
        times: [],
      };
      this.rows.set(key, row);
    }
    row.count++;
    if (t < row.firstMs) row.firstMs = t;
    if (t > row.lastMs) row.lastMs = t;
    if (isListed(f)) {
      row.listed.push(e.seq);
      this.listedRaw.push({ seq: e.seq, raw: e.raw });
    }
    row.seqs.push(e.seq);
    row.times.push(t);
    if (f.action === 'envelope.mint' || f.action === 'envelope.delegate') {
      const jti = issuanceJti(e.raw);
      const agent = actingAgent(f);
      if (jti !== '' && agent !== '') this.mints.push({ seq: e.seq, jti, agent });
    }
  }

  build(): ChunkAggregate {
    const { first, last } = this;
    if (first === undefined || last === undefined) throw new Error('aggregate: no entries');
    return {
      tenant: this.tenant,
      firstSeq: first.seq,
      lastSeq: last.seq,
      prevHash: first.prevHash,
      endHash: last.hash,
      minMs: this.minMs,
      maxMs: this.maxMs,
      rows: [...this.rows.values()],
      mints: [...this.mints],
      listedRaw: [...this.listedRaw],
    };
  }
}

/** The aggregate of consecutive entries (in seq order, at least one). */
export function buildChunkAggregate(tenant: string, entries: readonly AggregateInput[]): ChunkAggregate {
  const b = new AggregateBuilder(tenant);
  for (const e of entries) b.add(e);
  return b.build();
}

/**
 * The part of an aggregate inside [fromMs, toMs]: each row with only its events in the window,
 * rows ordered by their first event in it (the order a scan of the entries meets them), time
 * range and issued envelopes of the whole aggregate (a report counts those whatever the window).
 */
export function restrictAggregate(a: ChunkAggregate, fromMs: number, toMs: number): ChunkAggregate {
  const rows: { first: number; row: AggregateRow }[] = [];
  for (const r of a.rows) {
    const seqs: number[] = [];
    const times: number[] = [];
    r.times.forEach((t, k) => {
      if (t < fromMs || t > toMs) return;
      seqs.push(r.seqs[k] as number);
      times.push(t);
    });
    if (seqs.length === 0) continue;
    const listed = new Set(r.listed);
    rows.push({
      first: seqs[0] as number,
      row: {
        ...r,
        count: seqs.length,
        firstMs: Math.min(...times),
        lastMs: Math.max(...times),
        listed: seqs.filter((q) => listed.has(q)),
        seqs,
        times,
      },
    });
  }
  rows.sort((x, y) => x.first - y.first);
  return { ...a, rows: rows.map((x) => x.row) };
}

/** The fields of an aggregate's row, as those of each of its events (times: the row's first). */
export function rowEventFields(row: AggregateRow): EventFields {
  return {
    eventId: '',
    tenant: '',
    timeMs: row.firstMs,
    agent: row.agent,
    agentChain: row.agentChain,
    chainUnverified: row.chainUnverified,
    action: row.action,
    resource: row.resource,
    decision: row.decision,
    reason: row.reason,
    traceId: '',
    purpose: '',
    source: '',
  };
}

// --- storage encoding -------------------------------------------------------------------------
// Rows and mints are stored as one JSON byte string: FerretDB reads one binary field far faster
// than hundreds of nested documents, and the bytes are what VerifyChain compares.

// A row: agent, chain, unverified, action, resource, decision, reason, then its events' seqs
// (relative to the aggregate's first) and times (relative to the row's first), in chain order.
type EncodedRow = [string, string[], 0 | 1, string, string, string, string, number[], number[]];

/**
 * The rows, mints and listed-event digests of an aggregate as stored (compact JSON; seqs relative
 * to firstSeq). The digests come from `listedRaw` when the aggregate was built from entries.
 */
export function encodeAggregateBody(
  a: Pick<ChunkAggregate, 'firstSeq' | 'rows' | 'mints' | 'listedRaw' | 'listedDigests'>,
): Buffer {
  const rows: EncodedRow[] = a.rows.map((r) => [
    r.agent,
    r.agentChain,
    r.chainUnverified ? 1 : 0,
    r.action,
    r.resource,
    r.decision,
    r.reason,
    r.seqs.map((s) => s - a.firstSeq),
    [r.times[0] ?? 0, ...r.times.slice(1).map((t) => t - (r.times[0] ?? 0))],
  ]);
  const mints = a.mints.map((m) => [m.seq - a.firstSeq, m.jti, m.agent]);
  const digests =
    a.listedRaw !== undefined
      ? a.listedRaw.map((x) => [x.seq - a.firstSeq, rawDigest(x.raw)])
      : [...(a.listedDigests ?? new Map<number, string>())].map(([seq, d]) => [seq - a.firstSeq, d]);
  return Buffer.from(JSON.stringify({ r: rows, m: mints, l: digests }), 'utf8');
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** The rows and mints of stored bytes; undefined when they are not what encodeAggregateBody writes. */
export function decodeAggregateBody(
  firstSeq: number,
  body: Uint8Array,
): Pick<ChunkAggregate, 'rows' | 'mints' | 'listedDigests'> | undefined {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const { r, m, l } = o as { r?: unknown; m?: unknown; l?: unknown };
  if (!Array.isArray(r) || !Array.isArray(m) || !Array.isArray(l)) return undefined;
  const rows: AggregateRow[] = [];
  for (const x of r as unknown[]) {
    if (!Array.isArray(x) || x.length !== 9) return undefined;
    const [agent, chain, unv, action, resource, decision, reason, seqs, times] = x as unknown[];
    if (
      !isStr(agent) ||
      !Array.isArray(chain) ||
      !chain.every(isStr) ||
      (unv !== 0 && unv !== 1) ||
      !isStr(action) ||
      !isStr(resource) ||
      !isStr(decision) ||
      !isStr(reason) ||
      !Array.isArray(seqs) ||
      seqs.length < 1 ||
      !seqs.every(isInt) ||
      !Array.isArray(times) ||
      times.length !== seqs.length ||
      !times.every(isInt)
    )
      return undefined;
    const t0 = times[0] as number;
    const abs = (times as number[]).map((t, k) => (k === 0 ? t0 : t0 + t));
    const seqAbs = (seqs as number[]).map((d) => d + firstSeq);
    const row: AggregateRow = {
      agent,
      agentChain: chain as string[],
      chainUnverified: unv === 1,
      action,
      resource,
      decision,
      reason,
      count: seqAbs.length,
      firstMs: Math.min(...abs),
      lastMs: Math.max(...abs),
      listed: [],
      seqs: seqAbs,
      times: abs,
    };
    if (isListed(row)) row.listed = [...seqAbs];
    rows.push(row);
  }
  const mints: AggregateMint[] = [];
  for (const x of m as unknown[]) {
    if (!Array.isArray(x) || x.length !== 3 || !isInt(x[0]) || !isStr(x[1]) || !isStr(x[2])) return undefined;
    mints.push({ seq: (x[0] as number) + firstSeq, jti: x[1] as string, agent: x[2] as string });
  }
  const listedDigests = new Map<number, string>();
  for (const x of l as unknown[]) {
    if (!Array.isArray(x) || x.length !== 2 || !isInt(x[0]) || !isStr(x[1]) || !/^[0-9a-f]{64}$/.test(x[1]))
      return undefined;
    listedDigests.set((x[0] as number) + firstSeq, x[1]);
  }
  return { rows, mints, listedDigests };
}

/** The bytes an aggregate's seal covers: its range, hashes, time range, format and encoded rows. */
export function aggregateSealInput(
  a: Pick<ChunkAggregate, 'tenant' | 'firstSeq' | 'lastSeq' | 'prevHash' | 'endHash' | 'minMs' | 'maxMs'>,
  format: number,
  body: Uint8Array,
): Buffer {
  const head = JSON.stringify([a.tenant, a.firstSeq, a.lastSeq, a.prevHash, a.endHash, a.minMs, a.maxMs, format]);
  return Buffer.concat([Buffer.from(`${head}\n`, 'utf8'), body]);
}

/** Seals aggregates (the auditor's keys). */
export interface AggregateSealer {
  readonly keyId: string;
  seal(bytes: Uint8Array): string;
  sealMatches(bytes: Uint8Array, seal: unknown): boolean;
}

/** How a stored aggregate differs from a recomputation over the same entries; undefined when it does not. */
export function aggregateMismatch(
  stored: Pick<ChunkAggregate, 'firstSeq' | 'lastSeq' | 'prevHash' | 'endHash' | 'minMs' | 'maxMs'> & {
    body: Uint8Array | undefined;
  },
  recomputed: ChunkAggregate,
): string | undefined {
  const range = `the aggregate of seqs ${stored.firstSeq}-${stored.lastSeq}`;
  if (stored.lastSeq !== recomputed.lastSeq) return `${range} does not end where its entries do`;
  if (stored.prevHash !== recomputed.prevHash || stored.endHash !== recomputed.endHash)
    return `${range} names chain hashes that are not the entries'`;
  if (stored.minMs !== recomputed.minMs || stored.maxMs !== recomputed.maxMs)
    return `${range} has a time range that is not its entries'`;
  if (stored.body === undefined || !Buffer.from(encodeAggregateBody(recomputed)).equals(Buffer.from(stored.body)))
    return `${range} does not count what its entries hold (its rows were edited or it was built wrongly)`;
  return undefined;
}

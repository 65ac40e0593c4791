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
//
// Size: one encoding (build, merge, dictionary body, detail, seal input, compare); the reader
// and the verifier must agree on every byte of it, so it is kept in one file.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { actingAgent, type EventFields } from './event-fields';

/**
 * Most entries one aggregate counts. Every stored document costs FerretDB about as much as a third
 * of an insert of 100 entries, so one per chunk would slow ingest by a quarter; readers read the
 * entries of an aggregate a window cuts, so a longer span costs them more at the edges.
 */
export const AGGREGATE_SPAN = 500;

/** Format of the encoded rows (stored as `v`; another value is recomputed from entries). */
export const AGGREGATE_FORMAT = 4;

/**
 * How the body and the events bytes are stored (`z` of their documents): raw DEFLATE (RFC 1951) of
 * the bytes encodeAggregate gives. FerretDB reads a document at a few MB/s, and the JSON deflates
 * about 4.4x (a 25,000-entry merged aggregate of the benchmark's mix: 430 KB to 97 KB; 40 of them
 * read in 505 ms plain, 110 ms deflated). The seal covers the body as stored, so a reader checks it
 * before inflating anything; the events digest and VerifyChain's comparison are over the inflated
 * bytes, so another zlib build cannot change what a recomputation is compared with. A document
 * without `z` (stored before) is read as it is (its seal covers those bytes too).
 */
export const STORED_COMPRESSION = 'deflate-raw';

/**
 * Largest inflated body or events bytes accepted: an edited document must not make the reader
 * allocate without bound. A stored document is at most 16 MiB (MongoDB's limit) and this JSON
 * deflates 4-5x, so what the auditor stores inflates to far less (25,000 entries of distinct
 * events: ~2 MB).
 */
const INFLATED_MAX = 128 * 1024 * 1024;

/** The stored form of body or events bytes (STORED_COMPRESSION). */
export function deflateStored(bytes: Uint8Array): Buffer {
  return deflateRawSync(bytes);
}

/**
 * Body or events bytes as encodeAggregate gave them, from their stored form and its `z`;
 * undefined when they do not inflate (edited) or the compression is unknown.
 */
export function inflateStored(stored: Uint8Array | undefined, z: unknown): Uint8Array | undefined {
  if (stored === undefined) return undefined;
  if (z === undefined || z === null) return stored;
  if (z !== STORED_COMPRESSION) return undefined;
  try {
    return inflateRawSync(stored, { maxOutputLength: INFLATED_MAX });
  } catch {
    return undefined;
  }
}

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
   * is resolved from these (restrictAggregate) without reading the entries. Stored apart from the
   * rows (the events bytes): absent on an aggregate read without them.
   */
  seqs?: number[];
  times?: number[];
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
  /** SHA-256 (hex) of the stored events bytes (seqs, times, listed digests), from the sealed body. */
  eventsDigest?: string;
  /** A merged aggregate's parts (their first seqs): where its raw listed events are kept. */
  parts?: number[];
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

function rowKey(
  f: Pick<EventFields, 'agent' | 'agentChain' | 'chainUnverified' | 'action' | 'resource' | 'decision' | 'reason'>,
): string {
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
    (row.seqs as number[]).push(e.seq);
    (row.times as number[]).push(t);
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
 * One aggregate of consecutive aggregates (each read with its events: decodeAggregateEvents), the
 * same as buildChunkAggregate over all their entries (rows in order of first appearance, counts
 * summed, events and listed digests concatenated in chain order), so its stored bytes are those a
 * recomputation from the entries gives (VerifyChain compares them). The listed raw events are not
 * carried: a report reads those of a merged aggregate by _id, checked against its digests.
 */
export function mergeAggregates(parts: readonly ChunkAggregate[]): ChunkAggregate {
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (first === undefined || last === undefined) throw new Error('aggregate: nothing to merge');
  const rows = new Map<string, AggregateRow>();
  const mints: AggregateMint[] = [];
  const listedDigests = new Map<number, string>();
  let minMs: number | null = null;
  let maxMs: number | null = null;
  let prev: ChunkAggregate | undefined;
  for (const p of parts) {
    if (prev !== undefined && (p.firstSeq !== prev.lastSeq + 1 || p.prevHash !== prev.endHash))
      throw new Error(`aggregate: seqs ${p.firstSeq}-${p.lastSeq} do not follow ${prev.firstSeq}-${prev.lastSeq}`);
    prev = p;
    if (p.minMs !== null && (minMs === null || p.minMs < minMs)) minMs = p.minMs;
    if (p.maxMs !== null && (maxMs === null || p.maxMs > maxMs)) maxMs = p.maxMs;
    for (const r of p.rows) {
      if (r.seqs === undefined || r.times === undefined) throw new Error('aggregate: merged without its events');
      const key = rowKey(r);
      const m = rows.get(key);
      if (m === undefined) {
        rows.set(key, {
          ...r,
          agentChain: [...r.agentChain],
          listed: [...r.listed],
          seqs: [...r.seqs],
          times: [...r.times],
        });
        continue;
      }
      m.count += r.count;
      if (r.firstMs < m.firstMs) m.firstMs = r.firstMs;
      if (r.lastMs > m.lastMs) m.lastMs = r.lastMs;
      m.listed.push(...r.listed);
      (m.seqs as number[]).push(...r.seqs);
      (m.times as number[]).push(...r.times);
    }
    mints.push(...p.mints);
    for (const [q, d] of p.listedDigests ?? []) listedDigests.set(q, d);
  }
  return {
    tenant: first.tenant,
    firstSeq: first.firstSeq,
    lastSeq: last.lastSeq,
    prevHash: first.prevHash,
    endHash: last.endHash,
    minMs,
    maxMs,
    rows: [...rows.values()],
    mints,
    listedDigests,
  };
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
    if (r.seqs === undefined || r.times === undefined) throw new Error('aggregate: restricted without its events');
    const all = r.seqs;
    r.times.forEach((t, k) => {
      if (t < fromMs || t > toMs) return;
      seqs.push(all[k] as number);
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
// An aggregate is stored as two byte strings (compact JSON; FerretDB reads one binary field far
// faster than hundreds of nested documents):
// - the body, read for every aggregate of a walk: per group its key (strings as indexes into the
//   body's dictionary: a run repeats agents, actions, reasons and resources), count, time range and
//   listed seqs; the mints; and the SHA-256 of the events bytes. Its size grows with groups, not
//   events (format 3 kept every event's seq and time here, about 108 bytes per entry).
// - the events bytes, read only for an aggregate a window cuts (and for the digests of the listed
//   events a report shows): each group's seqs and times, and the SHA-256 of each listed event's
//   raw bytes. Sealed through the body's digest of them.
// The body is what VerifyChain compares (its digest covers the events bytes).

// A row: agent, chain, unverified, action, resource, decision, reason (dictionary indexes), count,
// first time (relative to the aggregate's minMs), last time (relative to the row's first), listed
// seqs (relative to the aggregate's first).
type EncodedRow = [number, number[], 0 | 1, number, number, number, number, number, number, number, number[]];

/** An aggregate's stored bytes. */
export interface EncodedAggregate {
  body: Buffer;
  events: Buffer;
}

/**
 * The body and events bytes of an aggregate built from entries (every row with its seqs and
 * times). The listed digests come from `listedRaw` when the aggregate was built from entries.
 */
export function encodeAggregate(
  a: Pick<ChunkAggregate, 'firstSeq' | 'minMs' | 'rows' | 'mints' | 'listedRaw' | 'listedDigests'>,
): EncodedAggregate {
  const dict: string[] = [];
  const index = new Map<string, number>();
  const ix = (v: string) => {
    let k = index.get(v);
    if (k === undefined) {
      k = dict.length;
      dict.push(v);
      index.set(v, k);
    }
    return k;
  };
  const base = a.minMs ?? 0;
  const seqs: number[][] = [];
  const times: number[][] = [];
  const rows: EncodedRow[] = a.rows.map((r) => {
    if (r.seqs === undefined || r.times === undefined) throw new Error('aggregate: a row without its events');
    // Seqs ascend: stored as gaps. Times relative to the row's first.
    seqs.push(r.seqs.map((q, k) => (k === 0 ? q - a.firstSeq : q - (r.seqs as number[])[k - 1]!)));
    times.push(r.times.map((t) => t - r.firstMs));
    return [
      ix(r.agent),
      r.agentChain.map(ix),
      r.chainUnverified ? 1 : 0,
      ix(r.action),
      ix(r.resource),
      ix(r.decision),
      ix(r.reason),
      r.count,
      r.firstMs - base,
      r.lastMs - r.firstMs,
      r.listed.map((q) => q - a.firstSeq),
    ];
  });
  const digests =
    a.listedRaw !== undefined
      ? a.listedRaw.map((x) => [x.seq - a.firstSeq, rawDigest(x.raw)])
      : [...(a.listedDigests ?? new Map<number, string>())].map(([seq, d]) => [seq - a.firstSeq, d]);
  const events = Buffer.from(JSON.stringify({ s: seqs, t: times, l: digests }), 'utf8');
  const mints = a.mints.map((m) => [m.seq - a.firstSeq, m.jti, ix(m.agent)]);
  const e = createHash('sha256').update(events).digest('hex');
  return { body: Buffer.from(JSON.stringify({ d: dict, r: rows, m: mints, e }), 'utf8'), events };
}

/** The stored body of an aggregate built from entries (what VerifyChain compares). */
export function encodeAggregateBody(
  a: Pick<ChunkAggregate, 'firstSeq' | 'minMs' | 'rows' | 'mints' | 'listedRaw' | 'listedDigests'>,
): Buffer {
  return encodeAggregate(a).body;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isNat = (v: unknown): v is number => isInt(v) && v >= 0;

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The rows (without their events' seqs and times: decodeAggregateEvents adds them), mints and
 * events digest of a stored body; undefined when it is not what encodeAggregate writes.
 */
export function decodeAggregateBody(
  a: Pick<ChunkAggregate, 'firstSeq' | 'lastSeq' | 'minMs'>,
  body: Uint8Array,
): Pick<ChunkAggregate, 'rows' | 'mints' | 'eventsDigest'> | undefined {
  const o = parseJson(body);
  if (typeof o !== 'object' || o === null) return undefined;
  const { d, r, m, e } = o as { d?: unknown; r?: unknown; m?: unknown; e?: unknown };
  if (!Array.isArray(d) || !d.every(isStr) || !Array.isArray(r) || !Array.isArray(m)) return undefined;
  if (!isStr(e) || !/^[0-9a-f]{64}$/.test(e)) return undefined;
  const dict = d as string[];
  const str = (v: unknown) => (isNat(v) && v < dict.length ? dict[v] : undefined);
  const span = a.lastSeq - a.firstSeq;
  const base = a.minMs ?? 0;
  const rows: AggregateRow[] = [];
  for (const x of r as unknown[]) {
    if (!Array.isArray(x) || x.length !== 11) return undefined;
    const [agentI, chainI, unv, actionI, resourceI, decisionI, reasonI, count, first, width, listed] = x as unknown[];
    const agent = str(agentI);
    const action = str(actionI);
    const resource = str(resourceI);
    const decision = str(decisionI);
    const reason = str(reasonI);
    const chain = Array.isArray(chainI) ? chainI.map(str) : undefined;
    if (
      agent === undefined ||
      action === undefined ||
      resource === undefined ||
      decision === undefined ||
      reason === undefined ||
      chain === undefined ||
      !chain.every(isStr) ||
      (unv !== 0 && unv !== 1) ||
      !isNat(count) ||
      count < 1 ||
      !isInt(first) ||
      !isNat(width) ||
      !Array.isArray(listed) ||
      listed.length > count ||
      !listed.every((q) => isNat(q) && q <= span)
    )
      return undefined;
    const row: AggregateRow = {
      agent,
      agentChain: chain,
      chainUnverified: unv === 1,
      action,
      resource,
      decision,
      reason,
      count,
      firstMs: base + first,
      lastMs: base + first + width,
      listed: (listed as number[]).map((q) => q + a.firstSeq),
    };
    if (row.listed.length > 0 && !isListed(row)) return undefined;
    rows.push(row);
  }
  const mints: AggregateMint[] = [];
  for (const x of m as unknown[]) {
    if (!Array.isArray(x) || x.length !== 3 || !isNat(x[0]) || x[0] > span || !isStr(x[1])) return undefined;
    const agent = str(x[2]);
    if (agent === undefined) return undefined;
    mints.push({ seq: (x[0] as number) + a.firstSeq, jti: x[1] as string, agent });
  }
  return { rows, mints, eventsDigest: e };
}

/**
 * The aggregate with its events' seqs and times and its listed digests, from its stored events
 * bytes; undefined when they are not the bytes its body names (edited, missing) or malformed.
 */
export function decodeAggregateEvents(a: ChunkAggregate, events: Uint8Array): ChunkAggregate | undefined {
  if (a.eventsDigest === undefined || createHash('sha256').update(events).digest('hex') !== a.eventsDigest)
    return undefined;
  const o = parseJson(events);
  if (typeof o !== 'object' || o === null) return undefined;
  const { s, t, l } = o as { s?: unknown; t?: unknown; l?: unknown };
  if (!Array.isArray(s) || !Array.isArray(t) || !Array.isArray(l)) return undefined;
  if (s.length !== a.rows.length || t.length !== a.rows.length) return undefined;
  const rows: AggregateRow[] = [];
  for (let k = 0; k < a.rows.length; k++) {
    const row = a.rows[k] as AggregateRow;
    const gaps: unknown = s[k];
    const rel: unknown = t[k];
    if (!Array.isArray(gaps) || !Array.isArray(rel) || gaps.length !== row.count || rel.length !== row.count)
      return undefined;
    if (!gaps.every(isNat) || !rel.every(isInt)) return undefined;
    let q = a.firstSeq;
    const seqs = (gaps as number[]).map((g) => (q += g));
    if (seqs.some((x) => x > a.lastSeq)) return undefined;
    rows.push({ ...row, seqs, times: (rel as number[]).map((x) => row.firstMs + x) });
  }
  const listedDigests = new Map<number, string>();
  for (const x of l as unknown[]) {
    if (!Array.isArray(x) || x.length !== 2 || !isNat(x[0]) || !isStr(x[1]) || !/^[0-9a-f]{64}$/.test(x[1]))
      return undefined;
    listedDigests.set((x[0] as number) + a.firstSeq, x[1]);
  }
  return { ...a, rows, listedDigests };
}

/** The bytes an aggregate's seal covers: its range, hashes, time range, format and encoded rows as stored. */
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

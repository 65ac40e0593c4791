// Verifies a tenant's stored chain as it streams out of MongoDB in seq order, batch by batch,
// with core's verifyAuditChain. Every signed checkpoint in the range is applied where it falls:
// the entries up to a checkpoint are verified together with it (its signature, and its head
// against the chain's hash at its seq), so a rewrite is caught at the first checkpoint after it,
// and a checkpoint beyond the last entry means the newest entries were deleted.
//
// On top of the chain, each entry's indexed fields (agent, agents, action, resource, decision,
// reason, time, trace id) and its key (_id, the zero-padded seq) must agree with its raw bytes: they are what queries filter on, so an
// edited index is reported as MODIFIED too. An entry without `agents` (stored before delegation
// paths were recorded) is found by its `agent` alone, so its event must name no other agent.
// Entries reach `onEntry` only once they verified, in order.
import {
  genesisHash,
  verifyAuditChain,
  type AuditChainEntry,
  type AuditChainFaultKind,
  type CheckpointKeyResolver,
  type SignedCheckpoint,
} from '@authority/core';
import { entryId, rawBytes, type ChainStore, type EntryDoc } from './adapters/mongo';
import { agentPath, eventFields, type EventFields } from './event-fields';

/** Entries read between two `onProgress` calls. */
const PROGRESS_EVERY = 100;

export interface StoredEntry {
  entry: AuditChainEntry;
  doc: EntryDoc;
  /** The event's fields read from the raw bytes (undefined when they are not JSON). */
  fields: EventFields | undefined;
}

export interface VerifyStoredOptions {
  tenant: string;
  /** Where to start: the first seq and the hash it must follow (default: seq 1 after genesis). */
  from?: { seq: number; prevHash: Uint8Array };
  /** Last seq to verify (default: to the end of the chain). */
  toSeq?: number;
  /** Signed checkpoints to hold the chain to (any order); those before `from` or after `toSeq` are ignored. */
  checkpoints: readonly SignedCheckpoint[];
  keys: CheckpointKeyResolver;
  /** Called for every verified entry, in seq order. */
  onEntry?: (e: StoredEntry) => void;
  /**
   * Awaited after every PROGRESS_EVERY entries read (the ingest path heartbeats its consumer group
   * here; the heartbeat itself is throttled to the heartbeat interval). Not tied to `batchSize`: a
   * read batch of a slow store can outlast the consumer session.
   */
  onProgress?: () => Promise<void>;
  /** Entries per read batch (default 1000). */
  batchSize?: number;
  /** Keep reading after a fault to learn the highest stored seq (default false). */
  scanToEnd?: boolean;
  /**
   * Most documents to read; one more throws ScanLimitError (the caller checks the range before
   * reading, so this only trips when the store holds more documents than its seqs say).
   */
  maxDocs?: number;
  signal?: AbortSignal;
  /**
   * The entries of the range, already read (by _id lookups: on FerretDB a range query reads the
   * tenant's whole collection); without it the range is read with a cursor.
   */
  docs?: readonly EntryDoc[];
}

/** verifyStored read more documents than it was allowed to. */
export class ScanLimitError extends Error {
  override readonly name = 'ScanLimitError';
  constructor(readonly limit: number) {
    super(`read more than ${limit} chain entries`);
  }
}

export interface VerifyStoredResult {
  ok: boolean;
  firstBadSeq?: number;
  fault?: AuditChainFaultKind;
  message?: string;
  /** Entries verified. */
  checked: number;
  /** The last verified position (seq 0 and the genesis hash when nothing verified from seq 1). */
  head: { seq: number; hash: Buffer };
  /** Highest seq read from the store (0 when none; complete only with scanToEnd or on success). */
  lastSeqSeen: number;
  /** The newest checkpoint whose head matched the chain. */
  matchedCheckpoint?: SignedCheckpoint;
}

function hashBytes(hex: unknown): Uint8Array {
  // Anything but 64 hex digits becomes a wrong-length value, which core reports as malformed
  // (Buffer.from stops at the first non-hex character).
  if (typeof hex !== 'string' || hex.length !== 64) return new Uint8Array(0);
  const b = Buffer.from(hex, 'hex');
  return b.length === 32 ? b : new Uint8Array(0);
}

/** A stored document as core's entry, plus its parsed event fields. */
export function toStoredEntry(doc: EntryDoc): StoredEntry {
  const raw = rawBytes(doc.raw);
  const entry: AuditChainEntry = {
    tenant: doc.tenant,
    seq: typeof doc.seq === 'number' ? doc.seq : Number.NaN,
    eventId: typeof doc.eventId === 'string' ? doc.eventId : String(doc.eventId),
    raw: raw as Uint8Array, // undefined (not bytes) is reported by core as a malformed entry
    prevHash: hashBytes(doc.prevHash),
    hash: hashBytes(doc.hash),
  };
  return { entry, doc, fields: raw === undefined ? undefined : eventFields(raw) };
}

function sameStrings(a: readonly unknown[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Why an entry's indexed fields disagree with its raw event, or undefined when they agree. */
export function indexMismatch(s: StoredEntry): string | undefined {
  const { doc, fields } = s;
  const seq = s.entry.seq;
  if (fields === undefined) return `entry ${seq}'s raw bytes are not a JSON event`;
  // The key reads and pages go by: an entry filed under another seq would be served for that seq.
  if (doc._id !== entryId(seq)) {
    return `entry ${seq} is stored under _id '${String(doc._id)}', not '${entryId(seq)}' (the stored key was edited)`;
  }
  const checks: [string, unknown, unknown][] = [
    ['eventId', fields.eventId, s.entry.eventId],
    ['tenant', fields.tenant, doc.tenant],
    ['agent', fields.agent, doc.agent],
    ['action', fields.action, doc.action],
    ['resource', fields.resource, doc.resource],
    ['decision', fields.decision, doc.decision],
    ['reason', fields.reason, doc.reason],
    ['traceId', fields.traceId, doc.traceId],
    ['time', fields.timeMs ?? null, doc.time instanceof Date ? doc.time.getTime() : (doc.time ?? null)],
  ];
  for (const [name, fromRaw, indexed] of checks) {
    if (fromRaw !== indexed) {
      return name === 'eventId'
        ? `entry ${seq}'s eventId '${String(indexed)}' is not the id in its raw bytes (${String(fromRaw)})`
        : `entry ${seq}'s indexed field '${name}' does not match its raw event (the stored index was edited)`;
    }
  }
  const path = agentPath(fields);
  if (doc.agents === undefined) {
    if (path.length > 1 || (path.length === 1 && path[0] !== fields.agent)) {
      return `entry ${seq} has no indexed field 'agents' but its raw event names the delegation path [${path.join(', ')}] (the stored index was edited)`;
    }
  } else if (!Array.isArray(doc.agents) || !sameStrings(doc.agents, path)) {
    return `entry ${seq}'s indexed field 'agents' does not match its raw event (the stored index was edited)`;
  }
  return undefined;
}

export async function verifyStored(store: ChainStore, opts: VerifyStoredOptions): Promise<VerifyStoredResult> {
  const { tenant } = opts;
  const batchSize = opts.batchSize ?? 1000;
  let expected = opts.from?.seq ?? 1;
  let prevHash: Buffer = Buffer.from(opts.from?.prevHash ?? genesisHash(tenant));
  let checked = 0;
  let lastSeqSeen = 0;
  let matched: SignedCheckpoint | undefined;
  let failure: { firstBadSeq: number; fault: AuditChainFaultKind; message: string } | undefined;
  const toSeq = opts.toSeq;
  const cps = [...opts.checkpoints]
    .filter((cp) => cp.seq >= expected - 1 && (toSeq === undefined || cp.seq <= toSeq))
    .sort((a, b) => a.seq - b.seq);
  let cpIdx = 0;
  let pending: StoredEntry[] = [];

  const runCore = (list: StoredEntry[], cp?: SignedCheckpoint, rest: readonly StoredEntry[] = []): boolean => {
    // (Each entry's event id is checked against its raw bytes with the other indexed fields below.)
    let res = verifyAuditChain(
      list.map((s) => s.entry),
      {
        tenant,
        from: { seq: expected, prevHash },
        ...(cp ? { checkpoint: cp, checkpointKeys: opts.keys } : {}),
      },
    );
    if (!res.ok && res.kind === 'modified' && rest.length > 0) {
      // The segment ends at a checkpoint; an entry moved here from further on is only recognised
      // as moved when core sees where it belongs: classify again over the entries read so far.
      const wide = verifyAuditChain(
        [...list, ...rest].map((s) => s.entry),
        { tenant, from: { seq: expected, prevHash } },
      );
      if (!wide.ok && wide.kind === 'reordered' && wide.firstBadSeq === res.firstBadSeq) {
        res = { ...res, kind: wide.kind, message: wide.message };
      }
    }
    const bad = res.ok ? Number.POSITIVE_INFINITY : res.firstBadSeq;
    let lastGood = expected - 1;
    for (const s of list) {
      const seq = s.entry.seq;
      if (!(seq < bad)) break;
      if (seq <= lastGood) continue; // an identical duplicate core skipped
      const mismatch = indexMismatch(s);
      if (mismatch !== undefined) {
        checked += seq - expected;
        failure = { firstBadSeq: seq, fault: 'modified', message: mismatch };
        return false;
      }
      lastGood = seq;
      opts.onEntry?.(s);
    }
    if (!res.ok) {
      checked += res.checked;
      let message = res.message;
      if (res.kind === 'forked' && cp !== undefined && res.firstBadSeq === cp.seq) {
        const since = matched !== undefined ? matched.seq + 1 : (opts.from?.seq ?? 1);
        message +=
          matched !== undefined
            ? ` (the checkpoint at seq ${matched.seq} still matches: the rewrite lies in seqs ${since}-${res.firstBadSeq})`
            : ` (the rewrite lies in seqs ${since}-${res.firstBadSeq})`;
      }
      failure = { firstBadSeq: res.firstBadSeq, fault: res.kind, message };
      return false;
    }
    checked += res.checked;
    if (cp !== undefined && res.checkpointMatched) matched = cp;
    prevHash = Buffer.from(res.head.hash);
    expected = res.head.seq + 1;
    return true;
  };

  const drain = (final: boolean): boolean => {
    for (;;) {
      const cp = cps[cpIdx];
      if (cp === undefined) {
        if (pending.length === 0) return true;
        const list = pending;
        pending = [];
        return runCore(list);
      }
      if (cp.seq <= expected - 1) {
        // A checkpoint at the verified head (e.g. the one the range starts from): signature and head.
        cpIdx++;
        if (!runCore([], cp)) return false;
        continue;
      }
      const i = pending.findIndex((s) => !(s.entry.seq < cp.seq));
      if (i === -1) {
        if (!final) {
          if (pending.length === 0) return true;
          const list = pending;
          pending = [];
          return runCore(list);
        }
        const list = pending;
        pending = [];
        cpIdx++;
        if (!runCore(list, cp)) return false; // the chain ends before the checkpoint: truncated
        continue;
      }
      const list = pending.slice(0, i + 1);
      pending = pending.slice(i + 1);
      cpIdx++;
      if (!runCore(list, cp, pending)) return false;
    }
  };

  const given = opts.docs;
  const cursor: AsyncIterable<EntryDoc> & { close(): Promise<void> } =
    given !== undefined
      ? {
          async *[Symbol.asyncIterator]() {
            yield* given;
          },
          close: async () => undefined,
        }
      : store.entriesCursor(tenant, expected, opts.toSeq, {}, batchSize);
  try {
    let batch: StoredEntry[] = [];
    let stopped = false;
    let read = 0;
    const maxDocs = opts.maxDocs ?? Number.POSITIVE_INFINITY;
    for await (const doc of cursor) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      if (++read > maxDocs) throw new ScanLimitError(maxDocs);
      if (typeof doc.seq === 'number' && doc.seq > lastSeqSeen) lastSeqSeen = doc.seq;
      if (opts.onProgress !== undefined && read % PROGRESS_EVERY === 0) await opts.onProgress();
      if (stopped) continue;
      batch.push(toStoredEntry(doc));
      if (batch.length >= batchSize) {
        pending.push(...batch);
        batch = [];
        if (!drain(false)) {
          stopped = true;
          if (!opts.scanToEnd) break;
        }
      }
    }
    if (!stopped) {
      pending.push(...batch);
      drain(true);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }

  const head = { seq: expected - 1, hash: prevHash };
  if (failure !== undefined) {
    return { ok: false, ...failure, checked, head, lastSeqSeen, ...(matched ? { matchedCheckpoint: matched } : {}) };
  }
  return { ok: true, checked, head, lastSeqSeen, ...(matched ? { matchedCheckpoint: matched } : {}) };
}

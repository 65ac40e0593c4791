/**
 * verifyAuditChain: walks a tenant's stored entries and names the first sequence number at which the
 * stored chain stops being the history that was appended, and what is wrong there.
 *
 * The rule: entries are verified in the order given, each against the position it should fill
 * (`expected` = previous seq + 1, starting at `from.seq`, default 1). The first position that
 * fails is reported, classified by what the hashes prove about it:
 *
 * - `modified`: the entry at `expected` is not authentic there: wrong tenant, a hash that does not
 *   match its own contents (raw bytes, seq, prevHash), a prevHash that is not the predecessor's
 *   hash (it was hashed after a different predecessor: one of the two was rewritten), or an event
 *   id that differs from the one in its raw bytes (when `eventIdOf` is given);
 * - `reordered`: the entry for `expected` exists but not here: the list holds a later seq at this
 *   position and `expected` further on, or the entry here is authentic but its hash only verifies
 *   under a different seq (it was moved);
 * - `missing`: no entry for `expected` anywhere in the list, and a later seq follows (a gap);
 * - `forked`: two different entries claim one seq, or the chain's hash at the checkpoint's seq is
 *   not the signed head hash (the history was rewritten, hashes recomputed, at or before that seq);
 * - `truncated`: the list ends at seq L but a valid checkpoint covers seq C > L (firstBadSeq L+1);
 * - `forged_checkpoint`: the checkpoint given does not verify (bad signature, unknown key,
 *   malformed, or another tenant's); checked first, because every later verdict leans on it.
 *
 * Without a checkpoint, deleting the newest entries or rewriting the chain with recomputed hashes
 * cannot be detected (nothing outside the chain says what the head was); with one, both are.
 */
import { constantTimeEqual } from '../crypto';
import { chainHash, genesisHash, type AuditChainEntry, type AuditChainHead } from './hash';
import { decodeHexHash } from './framing';
import { verifyCheckpoint, type CheckpointKeyResolver, type SignedCheckpoint } from './signed';

export type AuditChainFaultKind = 'modified' | 'missing' | 'reordered' | 'truncated' | 'forged_checkpoint' | 'forked';

export type AuditChainVerification =
  | {
      ok: true;
      /** Entries verified. */
      checked: number;
      /** The last verified position (from.seq - 1 and from.prevHash when the list is empty). */
      head: AuditChainHead;
      /** True when a checkpoint was given and its head was matched against the chain. */
      checkpointMatched: boolean;
    }
  | {
      ok: false;
      firstBadSeq: number;
      kind: AuditChainFaultKind;
      message: string;
      /** Entries verified before the fault. */
      checked: number;
    };

export interface VerifyAuditChainOptions {
  tenant: string;
  /**
   * Verify a range: its first entry has seq `from.seq` and must follow `from.prevHash` (the hash of
   * entry from.seq - 1, e.g. a checkpoint's head). Default: seq 1 after the tenant's genesis hash.
   */
  from?: { seq: number; prevHash: Uint8Array };
  /** A signed checkpoint to hold the chain to: its head must be in the chain, and the chain must reach it. */
  checkpoint?: SignedCheckpoint;
  /** Resolves the checkpoint's key id to the auditor's public key. */
  checkpointKeys?: CheckpointKeyResolver;
  /** Extracts the event id from raw bytes, to check each entry's stored eventId (optional). */
  eventIdOf?: (raw: Uint8Array) => string | undefined;
}

/** How far from a misplaced entry's position to look for the seq its hash verifies under. */
const RELOCATION_SEARCH_RADIUS = 4096;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && constantTimeEqual(a, b);
}

function isHash(b: unknown): b is Uint8Array {
  return b instanceof Uint8Array && b.length === 32;
}

/** The seq under which the entry's own hash verifies, if it is not `stored` and lies near it. */
function relocatedSeq(tenant: string, e: AuditChainEntry, stored: number, maxSeq: number): number | undefined {
  const lo = Math.max(1, stored - RELOCATION_SEARCH_RADIUS);
  const hi = Math.min(maxSeq, stored + RELOCATION_SEARCH_RADIUS);
  for (let s = lo; s <= hi; s++) {
    if (s !== stored && sameBytes(chainHash(tenant, s, e.prevHash, e.raw), e.hash)) return s;
  }
  return undefined;
}

/** Verifies stored entries (in stored order, normally ascending seq); see the module comment. */
export function verifyAuditChain(
  entries: readonly AuditChainEntry[],
  opts: VerifyAuditChainOptions,
): AuditChainVerification {
  const { tenant } = opts;
  const startSeq = opts.from?.seq ?? 1;
  if (!Number.isSafeInteger(startSeq) || startSeq < 1) {
    throw new RangeError(`from.seq must be an integer >= 1, got ${String(startSeq)}`);
  }
  let prevHash: Uint8Array = opts.from?.prevHash ?? genesisHash(tenant);
  if (!isHash(prevHash)) throw new RangeError('from.prevHash must be 32 bytes');

  let checked = 0;
  const fail = (firstBadSeq: number, kind: AuditChainFaultKind, message: string): AuditChainVerification => ({
    ok: false,
    firstBadSeq,
    kind,
    message,
    checked,
  });

  // 1. The checkpoint, when given, must be genuine and for this tenant before anything leans on it.
  const cp = opts.checkpoint;
  let cpHead: Buffer | undefined;
  if (cp !== undefined) {
    const cpSeq = typeof cp === 'object' && cp !== null && Number.isSafeInteger(cp.seq) ? cp.seq : startSeq;
    if (opts.checkpointKeys === undefined) {
      return fail(cpSeq, 'forged_checkpoint', 'checkpoint cannot be verified: no checkpoint keys were given');
    }
    const sig = verifyCheckpoint(cp, opts.checkpointKeys);
    if (!sig.ok) return fail(cpSeq, 'forged_checkpoint', sig.message);
    if (cp.tenant !== tenant) {
      return fail(cp.seq, 'forged_checkpoint', `checkpoint is for tenant '${cp.tenant}', not '${tenant}'`);
    }
    cpHead = decodeHexHash(cp.headHash);
    if (cpHead === undefined) return fail(cp.seq, 'forged_checkpoint', 'checkpoint head hash is malformed');
  }
  // Only a checkpoint at or after the entry before the range can say anything about it.
  const cpApplies = cp !== undefined && cpHead !== undefined && cp.seq >= startSeq - 1;
  let checkpointMatched = false;
  if (cpApplies && cp.seq === startSeq - 1) {
    if (!sameBytes(prevHash, cpHead as Buffer)) {
      return fail(
        cp.seq,
        'forked',
        `the range starts after a hash that is not the checkpoint's head at seq ${cp.seq}: the history before the range was rewritten`,
      );
    }
    checkpointMatched = true;
  }

  // Where each seq last appears in the list, to tell a misplaced entry from a missing one.
  const lastIndexOf = new Map<number, number>();
  let maxSeq = 0;
  entries.forEach((e, i) => {
    if (Number.isSafeInteger(e.seq)) {
      lastIndexOf.set(e.seq, i);
      if (e.seq > maxSeq) maxSeq = e.seq;
    }
  });
  const accepted = new Map<number, AuditChainEntry>();
  let expected = startSeq;

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as AuditChainEntry;
    if (!Number.isSafeInteger(e.seq) || e.seq < 1) {
      return fail(expected, 'modified', `entry at position ${i} has an invalid seq ${String(e.seq)}`);
    }
    if (e.seq !== expected) {
      if (e.seq < expected) {
        const earlier = accepted.get(e.seq);
        const identical =
          earlier !== undefined &&
          e.tenant === earlier.tenant &&
          isHash(e.hash) &&
          isHash(e.prevHash) &&
          e.raw instanceof Uint8Array &&
          sameBytes(earlier.hash, e.hash) &&
          sameBytes(earlier.prevHash, e.prevHash) &&
          sameBytes(earlier.raw, e.raw);
        if (identical) continue; // the same entry listed twice (e.g. a redelivered read): no fault
        if (earlier !== undefined) {
          return fail(e.seq, 'forked', `two different entries claim seq ${e.seq}`);
        }
        return fail(expected, 'reordered', `entry with seq ${e.seq} appears where seq ${expected} was expected`);
      }
      if ((lastIndexOf.get(expected) ?? -1) > i) {
        return fail(expected, 'reordered', `entry with seq ${e.seq} is stored before seq ${expected}`);
      }
      const gap = e.seq - 1 === expected ? `seq ${expected} is` : `seqs ${expected}-${e.seq - 1} are`;
      return fail(expected, 'missing', `${gap} missing: the entry after seq ${expected - 1} is seq ${e.seq}`);
    }
    const seq = expected;
    if (e.tenant !== tenant) {
      return fail(seq, 'modified', `entry ${seq} belongs to tenant '${String(e.tenant)}', not '${tenant}'`);
    }
    if (!isHash(e.hash) || !isHash(e.prevHash) || !(e.raw instanceof Uint8Array)) {
      return fail(seq, 'modified', `entry ${seq} is malformed (hashes must be 32 bytes, raw must be bytes)`);
    }
    if (!sameBytes(chainHash(tenant, seq, e.prevHash, e.raw), e.hash)) {
      const movedTo = relocatedSeq(tenant, e, seq, Math.max(maxSeq, seq) + 1);
      if (movedTo !== undefined) {
        return fail(seq, 'reordered', `entry stored as seq ${seq} is authentic only as seq ${movedTo}: it was moved`);
      }
      return fail(
        seq,
        'modified',
        `entry ${seq}'s hash does not match its contents (raw bytes, seq or prevHash were edited, or the hash was)`,
      );
    }
    if (!sameBytes(e.prevHash, prevHash)) {
      const after =
        seq === startSeq
          ? opts.from === undefined
            ? 'the genesis hash'
            : 'the given starting hash'
          : `entry ${seq - 1}'s hash`;
      return fail(
        seq,
        'modified',
        `entry ${seq} does not follow ${after} (its prevHash is ${hex(e.prevHash)}): it or its predecessor was rewritten`,
      );
    }
    if (opts.eventIdOf !== undefined) {
      let inRaw: string | undefined;
      try {
        inRaw = opts.eventIdOf(e.raw);
      } catch {
        inRaw = undefined;
      }
      if (inRaw !== e.eventId) {
        return fail(
          seq,
          'modified',
          `entry ${seq}'s eventId '${e.eventId}' is not the id in its raw bytes (${String(inRaw)})`,
        );
      }
    }
    if (cpApplies && cp.seq === seq) {
      if (!sameBytes(e.hash, cpHead as Buffer)) {
        return fail(
          seq,
          'forked',
          `chain hash at seq ${seq} is ${hex(e.hash)} but the checkpoint signed at ${cp.time} says ${cp.headHash}: entries up to seq ${seq} were rewritten`,
        );
      }
      checkpointMatched = true;
    }
    accepted.set(seq, e);
    prevHash = e.hash;
    expected = seq + 1;
    checked++;
  }

  const last = expected - 1;
  if (cpApplies && cp.seq > last) {
    return fail(
      last + 1,
      'truncated',
      `the chain ends at seq ${last} but a checkpoint signed at ${cp.time} covers seq ${cp.seq}: entries ${last + 1}-${cp.seq} were deleted`,
    );
  }
  return { ok: true, checked, head: { seq: last, hash: Buffer.from(prevHash) }, checkpointMatched };
}

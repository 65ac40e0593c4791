/**
 * An archived segment of a tenant's chain, as `authority audit archive export` saves it before the
 * segment is deleted from the store: its entries (seq, hashes, the raw event text) and the signed
 * checkpoints that cover it. It verifies offline with the auditor's public keys alone:
 *
 * - it starts at seq 1 after the tenant's genesis hash, or after a signed checkpoint in the file
 *   at fromSeq - 1 (the previous archive's boundary);
 * - every entry's hash is recomputed from its raw bytes and its predecessor (verifyAuditChain);
 * - it ends at a signed checkpoint at throughSeq whose head is the last entry's hash, and every
 *   other checkpoint in the file matches the chain at its seq.
 */
import { verifyAuditChain } from './verify';
import { verifyCheckpoint, type CheckpointKeyResolver, type SignatureCheck, type SignedCheckpoint } from './signed';
import type { AuditChainEntry } from './hash';
import { decodeHexHash } from './framing';

export const ARCHIVE_FORMAT = 'authority.audit.archive.v1';

export interface ArchivedEntry {
  seq: number;
  hash: string;
  prevHash: string;
  /** The event exactly as chained (UTF-8 text of the raw bytes). */
  rawEvent: string;
}

export interface ChainArchive {
  format: typeof ARCHIVE_FORMAT;
  tenant: string;
  fromSeq: number;
  throughSeq: number;
  entries: ArchivedEntry[];
  /** Signed checkpoints with seq in [fromSeq - 1, throughSeq], ascending. */
  checkpoints: SignedCheckpoint[];
}

export type ArchiveVerification =
  | {
      ok: true;
      tenant: string;
      fromSeq: number;
      throughSeq: number;
      entries: number;
      checkpoints: number;
      headHash: string;
    }
  | { ok: false; message: string };

/** Verifies an archive (parsed JSON) offline; never throws. */
export function verifyChainArchive(doc: unknown, resolveKey: CheckpointKeyResolver): ArchiveVerification {
  const bad = (message: string): ArchiveVerification => ({ ok: false, message });
  if (typeof doc !== 'object' || doc === null) return bad('the file is not an archive object');
  const a = doc as Partial<ChainArchive>;
  if (a.format !== ARCHIVE_FORMAT) return bad(`format: expected '${ARCHIVE_FORMAT}', got '${String(a.format)}'`);
  const tenant = a.tenant;
  if (typeof tenant !== 'string' || tenant === '') return bad('tenant: missing');
  const { fromSeq, throughSeq } = a;
  if (!Number.isSafeInteger(fromSeq) || (fromSeq as number) < 1) return bad('fromSeq: expected an integer >= 1');
  if (!Number.isSafeInteger(throughSeq) || (throughSeq as number) < (fromSeq as number))
    return bad('throughSeq: expected an integer >= fromSeq');
  if (!Array.isArray(a.entries) || !Array.isArray(a.checkpoints))
    return bad('entries and checkpoints: expected arrays');
  if (a.entries.length !== (throughSeq as number) - (fromSeq as number) + 1)
    return bad(`entries: ${a.entries.length} entries for seqs ${fromSeq}-${throughSeq}`);
  const cps = a.checkpoints;
  for (const [i, cp] of cps.entries()) {
    const c: SignatureCheck = verifyCheckpoint(cp, resolveKey);
    if (!c.ok) return bad(`checkpoints[${i}] (seq ${String(cp?.seq)}): ${c.message}`);
    if (cp.tenant !== tenant) return bad(`checkpoints[${i}]: of tenant '${cp.tenant}', not '${tenant}'`);
  }
  const last = cps.find((cp) => cp.seq === throughSeq);
  if (!last) return bad(`no signed checkpoint at throughSeq ${throughSeq}: the segment's end is not signed`);
  let from: { seq: number; prevHash: Uint8Array } | undefined;
  if ((fromSeq as number) > 1) {
    const anchor = cps.find((cp) => cp.seq === (fromSeq as number) - 1);
    if (!anchor)
      return bad(`no signed checkpoint at seq ${(fromSeq as number) - 1}: the segment's start is not anchored`);
    from = { seq: fromSeq as number, prevHash: decodeHexHash(anchor.headHash) ?? new Uint8Array(32) };
  }
  const entries: AuditChainEntry[] = [];
  for (const [i, e] of a.entries.entries()) {
    const hash = decodeHexHash(e?.hash);
    const prevHash = decodeHexHash(e?.prevHash);
    if (hash === undefined || prevHash === undefined || typeof e.rawEvent !== 'string' || !Number.isSafeInteger(e.seq))
      return bad(`entries[${i}]: expected {seq, hash, prevHash (64 hex digits), rawEvent}`);
    entries.push({ tenant, seq: e.seq, eventId: '', raw: Buffer.from(e.rawEvent, 'utf8'), prevHash, hash });
  }
  const v = verifyAuditChain(entries, {
    tenant,
    ...(from ? { from } : {}),
    checkpoint: last,
    checkpointKeys: resolveKey,
  });
  if (!v.ok) return bad(`${v.kind.toUpperCase()} at seq ${v.firstBadSeq}: ${v.message}`);
  for (const cp of cps) {
    if (cp.seq < (fromSeq as number)) continue;
    const e = entries[cp.seq - (fromSeq as number)];
    if (!e || Buffer.from(e.hash).toString('hex') !== cp.headHash)
      return bad(`the checkpoint at seq ${cp.seq} does not match the chain's hash there`);
  }
  return {
    ok: true,
    tenant,
    fromSeq: fromSeq as number,
    throughSeq: throughSeq as number,
    entries: entries.length,
    checkpoints: cps.length,
    headHash: last.headHash,
  };
}

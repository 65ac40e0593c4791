// Chain administration behind the gRPC handlers: the status of a tenant's chain (`db status`),
// and archival of an old segment (`audit archive`). Archival never deletes what is not covered by
// a signed checkpoint and verified first, and records the boundary before it deletes anything:
//
//   1. the operator exports entries 1..N with the checkpoints up to N (the CLI, over QueryEvents
//      and ListCheckpoints) and fsyncs the file; it verifies offline;
//   2. ArchiveChainSegment(N): N must be a signed checkpoint's seq, before the head; the segment
//      from the previous boundary to N verifies against that checkpoint; the boundary (N, head
//      hash at N) is stored; then the entries up to N are deleted.
//
// A crash between storing the boundary and deleting leaves entries the verifiers skip (they start
// after the boundary) and a repeated call deletes them. The head entry is never archived: the
// appender finds the chain's head there (and reloads from the newest checkpoint, at or after N).
import { verifyCheckpoint, type SignedCheckpoint } from '@authority/core';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type PartitionLag } from '@authority/platform';
import { toCheckpoint, type ChainStore } from './adapters/mongo';
import type { AuditorKeys } from './keys';
import { verifyStored } from './verify';

export interface ChainStatus {
  tenant: string;
  headSeq: number;
  headHash: string;
  headRecordedAt: Date | undefined;
  lastCheckpoint: SignedCheckpoint | undefined;
  /** Seconds since the last checkpoint was signed (0 without one). */
  checkpointAgeSeconds: number;
  entriesAfterCheckpoint: number;
  consumerLag: PartitionLag[];
  quarantined: number;
  archivedThroughSeq: number;
  archivedHeadHash: string;
  time: Date;
}

export interface ArchiveResult {
  archivedThroughSeq: number;
  archivedHeadHash: string;
  deleted: number;
}

export interface ChainAdminOptions {
  store: ChainStore;
  keys: Pick<AuditorKeys, 'resolve'>;
  /** The auditor's consumer lag on the audit topic (empty before its consumer runs). */
  consumerLag?: () => Promise<PartitionLag[]>;
  now?: () => Date;
}

const HEX64 = /^[0-9a-f]{64}$/;

export class ChainAdmin {
  private readonly now: () => Date;

  constructor(private readonly opts: ChainAdminOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  async status(tenant: string): Promise<ChainStatus> {
    const { store } = this.opts;
    const [last, [cpDoc], quarantined, boundary, consumerLag] = await Promise.all([
      store.lastEntry(tenant),
      store.checkpointsDesc(tenant, 1),
      store.countRejected(tenant),
      store.archiveBoundary(tenant),
      (this.opts.consumerLag?.() ?? Promise.resolve([])).catch(() => [] as PartitionLag[]),
    ]);
    const now = this.now();
    const cp = cpDoc ? toCheckpoint(cpDoc) : undefined;
    const headSeq = last?.seq ?? boundary?.throughSeq ?? 0;
    return {
      tenant,
      headSeq,
      headHash: last?.hash ?? boundary?.headHash ?? '',
      headRecordedAt: last?.recordedAt ?? undefined,
      lastCheckpoint: cp,
      checkpointAgeSeconds: cp ? Math.max(0, Math.floor(now.getTime() / 1000) - cp.time) : 0,
      entriesAfterCheckpoint: Math.max(0, headSeq - (cp?.seq ?? 0)),
      consumerLag,
      quarantined,
      archivedThroughSeq: boundary?.throughSeq ?? 0,
      archivedHeadHash: boundary?.headHash ?? '',
      time: now,
    };
  }

  async archive(tenant: string, throughSeq: number, archiveSha256: string): Promise<ArchiveResult> {
    const { store, keys } = this.opts;
    if (throughSeq <= 0) throw new InvalidArgumentError('through_seq', 'through_seq: required (a checkpoint seq)');
    if (!HEX64.test(archiveSha256))
      throw new InvalidArgumentError('archive_sha256', 'archive_sha256: 64 lowercase hex digits of the saved export');
    const boundary = await store.archiveBoundary(tenant);
    if (boundary && throughSeq <= boundary.throughSeq) {
      // Already archived through here (a repeated call, or one after a crash): finish the deletion.
      const deleted = await store.deleteEntriesThrough(tenant, boundary.throughSeq);
      return { archivedThroughSeq: boundary.throughSeq, archivedHeadHash: boundary.headHash, deleted };
    }
    const cpDoc = await store.checkpointAt(tenant, throughSeq);
    if (!cpDoc)
      throw new NotFoundError(
        `tenant '${tenant}' has no checkpoint at seq ${throughSeq}: a segment is archived up to a signed checkpoint (authority audit checkpoints)`,
        'through_seq',
        'CHECKPOINT_NOT_FOUND',
      );
    const cp = toCheckpoint(cpDoc);
    const cpCheck = verifyCheckpoint(cp, keys.resolve);
    if (!cpCheck.ok)
      throw new FailedPreconditionError(
        `the checkpoint at seq ${throughSeq} does not verify: ${cpCheck.message}`,
        'CHAIN_NOT_VERIFIED',
      );
    const head = (await store.lastEntry(tenant))?.seq ?? 0;
    if (throughSeq >= head)
      throw new FailedPreconditionError(
        `through_seq ${throughSeq} is the chain's head (seq ${head}) or after it: the head entry is never archived`,
        'ARCHIVE_INCLUDES_HEAD',
        'through_seq',
      );
    const checkpoints = (await store.checkpointsAsc(tenant, boundary?.throughSeq ?? 0, throughSeq)).map(toCheckpoint);
    const result = await verifyStored(store, {
      tenant,
      ...(boundary ? { from: { seq: boundary.throughSeq + 1, prevHash: Buffer.from(boundary.headHash, 'hex') } } : {}),
      toSeq: throughSeq,
      checkpoints,
      keys: keys.resolve,
    });
    if (!result.ok || result.head.seq !== throughSeq)
      throw new FailedPreconditionError(
        `the segment up to seq ${throughSeq} does not verify (${(result.fault ?? 'incomplete').toUpperCase()} at seq ${result.firstBadSeq ?? result.head.seq + 1}: ${result.message ?? 'not every entry was read'}); nothing was deleted`,
        'CHAIN_NOT_VERIFIED',
      );
    // The boundary first: from here on the verifiers start after it, whatever is left below.
    await store.saveArchiveBoundary({
      _id: tenant,
      throughSeq,
      headHash: cp.headHash,
      archiveSha256,
      archivedAt: this.now(),
    });
    const deleted = await store.deleteEntriesThrough(tenant, throughSeq);
    return { archivedThroughSeq: throughSeq, archivedHeadHash: cp.headHash, deleted };
  }
}

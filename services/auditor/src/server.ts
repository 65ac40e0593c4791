// gRPC handlers of authority.v1.AuditorService: authenticate, authorize for the request's tenant,
// validate and convert the request, call the reader, convert the answer. Errors are mapped to
// statuses (with `authority-reason` / `authority-field` metadata) by platform's wrapUnary.
import { decodeBase64Url, type SignedCheckpoint } from '@authority/core';
import { InvalidArgumentError, PermissionDeniedError, wrapUnary, type Logger } from '@authority/platform';
import { decodeEvent, pb, type AuditorServiceHandlers, type ChainEntry, type Checkpoint } from '@authority/proto';
import type * as grpc from '@grpc/grpc-js';
import { authorizeTenant, type Authenticator } from './auth';
import { grpcTimestamp, toGrpcObject, type DescMessageLike } from './grpc-convert';
import type { AuditorKeys } from './keys';
import type { AuditReader } from './reader';
import type { ChainAdmin } from './chain-admin';
import { signedReportHtml, signedReportJson } from './report/sign';
import type { StoredEntry } from './verify';

export interface HandlerDeps {
  reader: AuditReader;
  auth: Authenticator;
  keys: AuditorKeys;
  /** Chain status and archival. */
  admin: ChainAdmin;
  logger: Logger;
  now?: () => Date;
}

type GrpcTimestamp = { seconds?: string | number | null; nanos?: number | null } | null | undefined;

/** A non-negative int64 request field (proto-loader gives strings) as a safe integer. */
function int64(value: string | number | undefined, field: string): number {
  const n = typeof value === 'number' ? value : Number(value ?? 0);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(field, `${field}: not an integer in range`);
  if (n < 0) throw new InvalidArgumentError(field, `${field}: must not be negative`);
  return n;
}

/** A Timestamp field as ms since the epoch; undefined when unset. */
function timestampMs(t: GrpcTimestamp, field: string): number | undefined {
  if (t === null || t === undefined) return undefined;
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new InvalidArgumentError(field, `${field}: not a valid timestamp`);
  }
  const ms = seconds * 1000 + Math.floor(nanos / 1_000_000);
  if (Math.abs(ms) > 8.64e15) throw new InvalidArgumentError(field, `${field}: out of range`);
  return ms;
}

const DECISIONS = new Set(Object.keys(pb.Decision).filter((k) => Number.isNaN(Number(k))));
const REASONS = new Set(Object.keys(pb.ReasonCode).filter((k) => Number.isNaN(Number(k))));

function enumFilter(value: string | number, names: Set<string>, field: string): string {
  if (typeof value === 'string' && names.has(value)) return value;
  if (value === 0) return '';
  throw new InvalidArgumentError(field, `${field}: unknown value ${String(value)}`);
}

/** A signed checkpoint as the proto `Checkpoint`. */
export function checkpointMessage(cp: SignedCheckpoint): Checkpoint {
  return {
    tenant: cp.tenant,
    seq: String(cp.seq),
    headHash: cp.headHash,
    time: { seconds: String(cp.time), nanos: 0 },
    keyId: cp.keyId,
    signature: decodeBase64Url(cp.signature) ?? Buffer.alloc(0),
  };
}

/** A stored entry as the proto `ChainEntry` (the event decoded from the raw bytes, when it decodes). */
export function chainEntryMessage(s: StoredEntry & { agentRole?: 'ACTED' | 'DELEGATED' }): ChainEntry {
  const raw =
    s.entry.raw instanceof Uint8Array
      ? Buffer.from(s.entry.raw.buffer, s.entry.raw.byteOffset, s.entry.raw.byteLength)
      : undefined;
  let event: Record<string, unknown> | null = null;
  if (raw !== undefined) {
    try {
      event = toGrpcObject(pb.AuditEventSchema as unknown as DescMessageLike, decodeEvent(pb.AuditEventSchema, raw));
    } catch {
      event = null; // stored bytes that no longer decode: the raw text is still returned
    }
  }
  return {
    seq: String(s.entry.seq),
    hash: Buffer.from(s.entry.hash).toString('hex'),
    prevHash: Buffer.from(s.entry.prevHash).toString('hex'),
    rawEvent: raw?.toString('utf8') ?? '',
    event: event as ChainEntry['event'],
    recordedAt: s.doc.recordedAt instanceof Date ? grpcTimestamp(s.doc.recordedAt.getTime()) : null,
    agentRole: s.agentRole ?? 'AGENT_ROLE_UNSPECIFIED',
  };
}

const FAULTS: Record<string, string> = {
  none: 'NONE',
  modified: 'MODIFIED',
  missing: 'MISSING',
  reordered: 'REORDERED',
  truncated: 'TRUNCATED',
  forged_checkpoint: 'FORGED_CHECKPOINT',
  forked: 'FORKED',
  aggregate_mismatch: 'AGGREGATE_MISMATCH',
};

export function auditorHandlers(deps: HandlerDeps): AuditorServiceHandlers {
  const { reader, auth, keys, admin, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const opts = { logger };
  const tenantOf = (call: { metadata: grpc.Metadata; request: { tenant: string } }): string => {
    const principal = auth.authenticate(call.metadata);
    const tenant = call.request.tenant;
    authorizeTenant(principal, tenant);
    return tenant;
  };
  /** Like tenantOf, for calls that change the store: the tenant's ADMIN or the operator only. */
  const adminTenantOf = (call: { metadata: grpc.Metadata; request: { tenant: string } }): string => {
    const principal = auth.authenticate(call.metadata);
    const tenant = call.request.tenant;
    authorizeTenant(principal, tenant);
    if (principal.kind !== 'ADMIN' && principal.kind !== 'OPERATOR')
      throw new PermissionDeniedError(
        `an ${principal.kind} credential may not archive audit data; it needs an ADMIN credential of tenant '${tenant}'`,
        'PERMISSION_DENIED',
      );
    return tenant;
  };

  return {
    QueryEvents: wrapUnary(async (call) => {
      const tenant = tenantOf(call);
      const r = call.request;
      const startMs = timestampMs(r.startTime, 'start_time');
      const endMs = timestampMs(r.endTime, 'end_time');
      const out = await reader.query({
        tenant,
        agentId: r.agentId,
        action: r.action,
        resourceGlob: r.resourceGlob,
        decision: enumFilter(r.decision, DECISIONS, 'decision'),
        reason: enumFilter(r.reason, REASONS, 'reason'),
        ...(startMs !== undefined ? { startMs } : {}),
        ...(endMs !== undefined ? { endMs } : {}),
        pageSize: r.pageSize,
        pageToken: r.pageToken,
      });
      return { entries: out.entries.map(chainEntryMessage), nextPageToken: out.nextPageToken };
    }, opts),

    VerifyChain: wrapUnary(async (call, ctx) => {
      const tenant = tenantOf(call);
      const r = call.request;
      const out = await reader.verify(
        {
          tenant,
          fromSeq: int64(r.fromSeq, 'from_seq'),
          toSeq: int64(r.toSeq, 'to_seq'),
          checkpointSeq: int64(r.checkpointSeq, 'checkpoint_seq'),
        },
        ctx.signal,
      );
      return {
        ok: out.ok,
        firstBadSeq: String(out.firstBadSeq),
        fault: FAULTS[out.fault] as 'NONE',
        message: out.message,
        checked: String(out.checked),
        checkpoint: out.checkpoint ? checkpointMessage(out.checkpoint) : null,
        headSeq: String(out.headSeq),
      };
    }, opts),

    GetCheckpoint: wrapUnary(async (call) => {
      const tenant = tenantOf(call);
      const cp = await reader.getCheckpoint(tenant, int64(call.request.seq, 'seq'));
      return { checkpoint: checkpointMessage(cp) };
    }, opts),

    ListCheckpoints: wrapUnary(async (call) => {
      const tenant = tenantOf(call);
      const out = await reader.listCheckpoints(tenant, call.request.pageSize, call.request.pageToken);
      return { checkpoints: out.checkpoints.map(checkpointMessage), nextPageToken: out.nextPageToken };
    }, opts),

    Attest: wrapUnary(async (call, ctx) => {
      const tenant = tenantOf(call);
      const r = call.request;
      const startMs = timestampMs(r.startTime, 'start_time') ?? 0;
      const endMs = timestampMs(r.endTime, 'end_time') ?? now().getTime();
      const att = await reader.attest(
        {
          tenant,
          agentId: r.agentId,
          resourcePattern: r.resourcePattern,
          fromSec: Math.floor(startMs / 1000),
          toSec: Math.floor(endMs / 1000),
        },
        ctx.signal,
      );
      const cp = await reader.checkpointOf(att);
      return {
        attestation: {
          tenant: att.tenant,
          agentId: att.agent,
          resourcePattern: att.resourcePattern,
          startTime: { seconds: String(att.from), nanos: 0 },
          endTime: { seconds: String(att.to), nanos: 0 },
          allowedCount: String(att.allowedCount),
          deniedCount: String(att.deniedCount),
          checkpoint: cp
            ? checkpointMessage(cp)
            : { tenant: att.tenant, seq: String(att.checkpoint.seq), headHash: att.checkpoint.headHash },
          issuedAt: { seconds: String(att.issuedAt), nanos: 0 },
          keyId: att.keyId,
          signature: decodeBase64Url(att.signature) ?? Buffer.alloc(0),
          neverAccessed: att.allowedCount === 0,
          allowedActedCount: String(att.allowedActedCount ?? 0),
          allowedDelegatedCount: String(att.allowedDelegatedCount ?? 0),
        },
      };
    }, opts),

    GetComplianceReport: wrapUnary(async (call, ctx) => {
      const tenant = tenantOf(call);
      const r = call.request;
      const format = r.format === 'REPORT_FORMAT_UNSPECIFIED' ? 'HTML' : r.format;
      if (format !== 'HTML' && format !== 'JSON')
        throw new InvalidArgumentError('format', `format: unknown value ${String(r.format)}`);
      // No start: the window starts at the chain's first entry (never at the epoch).
      const startMs = timestampMs(r.startTime, 'start_time');
      const endMs = timestampMs(r.endTime, 'end_time') ?? now().getTime();
      const report = await reader.report(tenant, { ...(startMs !== undefined ? { startMs } : {}), endMs }, ctx.signal, {
        ...(r.agentId !== '' ? { agentId: r.agentId } : {}),
        ...(r.resourceGlob !== '' ? { resourceGlob: r.resourceGlob } : {}),
        summary: r.summary,
      });
      if (format === 'JSON') {
        const signed = signedReportJson(report, keys, now());
        return { contentType: 'application/json', body: Buffer.from(JSON.stringify(signed, null, 2), 'utf8') };
      }
      return {
        contentType: 'text/html; charset=utf-8',
        body: Buffer.from(signedReportHtml(report, keys, now()), 'utf8'),
      };
    }, opts),

    GetChainStatus: wrapUnary(async (call) => {
      const tenant = tenantOf(call);
      const st = await admin.status(tenant);
      return {
        tenant: st.tenant,
        headSeq: String(st.headSeq),
        headHash: st.headHash,
        headRecordedAt: st.headRecordedAt ? grpcTimestamp(st.headRecordedAt.getTime()) : null,
        lastCheckpoint: st.lastCheckpoint ? checkpointMessage(st.lastCheckpoint) : null,
        checkpointAgeSeconds: String(st.checkpointAgeSeconds),
        entriesAfterCheckpoint: String(st.entriesAfterCheckpoint),
        consumerLag: st.consumerLag.map((l) => ({ topic: l.topic, partition: l.partition, lag: String(l.lag) })),
        quarantined: String(st.quarantined),
        archivedThroughSeq: String(st.archivedThroughSeq),
        archivedHeadHash: st.archivedHeadHash,
        time: grpcTimestamp(st.time.getTime()),
      };
    }, opts),

    ArchiveChainSegment: wrapUnary(async (call) => {
      const tenant = adminTenantOf(call);
      const r = call.request;
      const out = await admin.archive(tenant, int64(r.throughSeq, 'through_seq'), r.archiveSha256);
      logger.info(
        { tenant, archived_through_seq: out.archivedThroughSeq, deleted: out.deleted },
        'chain segment archived',
      );
      return {
        archivedThroughSeq: String(out.archivedThroughSeq),
        archivedHeadHash: out.archivedHeadHash,
        deleted: String(out.deleted),
      };
    }, opts),

    ListAuditorKeys: wrapUnary(async (call) => {
      auth.authenticate(call.metadata); // any valid credential: the keys are public
      return {
        keys: keys.list().map((k) => ({ keyId: k.keyId, publicKey: Buffer.from(k.publicKey), active: k.active })),
      };
    }, opts),
  };
}

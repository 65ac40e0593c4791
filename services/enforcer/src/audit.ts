// One audit event per decision, on `<prefix>audit` keyed by tenant, CloudEvents binary-mode headers
// plus W3C traceparent. Two durability modes:
// - sync (default): an ALLOW is answered only after Kafka acknowledged its event (acks=all);
//   concurrent decisions share one produce request (platform's BatchingPublisher: calls made while
//   a batch is in flight go out together in the next one; a BatchCheck publishes its events in one
//   call). A DENY is answered without waiting for its ack but is always published; if more than
//   `capacity` events are unacknowledged, denies wait for their ack too (bounded memory under a
//   flood of bad tokens).
// - async: every decision is answered at once; its event goes to a bounded in-memory buffer that a
//   background loop flushes in batches (retrying while Kafka is down). A full buffer fails closed:
//   the check is answered DENY AUDIT_UNAVAILABLE (that deny itself cannot be buffered; it is
//   counted and logged).
//
// The event is the proto3 JSON form of authority.v1.AuditEvent. On this hot path it is written by
// encodeCheckEvent (a direct JSON writer, ~10x cheaper than building and reflecting a protobuf-es
// message); test/unit/audit.test.ts proves it equal to protobuf-es's encoding field by field.
import { currentTraceIds, cloudEventHeaders, type EventMessage, type Logger } from '@authority/platform';
import type { CheckResult } from '@authority/core';
import type { CheckRequest__Output } from '@authority/proto';
import type { Caller } from './decide';

/** ce_type of audit events. */
export const AUDIT_EVENT_TYPE = 'authority.audit.v1';
/** ce_source and AuditEvent.source of the enforcer's events. */
export const AUDIT_SOURCE = 'enforcer';

/** The audit stream cannot take the event (publish failed, timed out, or the buffer is full). */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

/** Everything a check's AuditEvent says. */
export interface CheckEventInput {
  decisionId: string;
  tenant: string;
  timeMs: number;
  caller: Caller;
  request: CheckRequest__Output;
  result: CheckResult;
  policyVersion: string | undefined;
  approvalId: string;
  enforcerId: string;
  traceId: string;
  spanId: string;
  /** CheckDetail.decision_id when it differs from the event id (a superseding event). */
  detailDecisionId?: string;
}

/** The trace and span ids of the active span ('' outside one). */
export function activeTraceIds(): { traceId: string; spanId: string } {
  const ids = currentTraceIds();
  return ids === undefined ? { traceId: '', spanId: '' } : ids;
}

/** RFC 3339 as proto3 JSON writes a Timestamp: no fraction, or exactly 3/6/9 digits. */
function timestampJson(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * The proto3 JSON of the decision's AuditEvent (the same text protobuf-es's toJsonString writes:
 * field order of the proto, default values omitted, enums by name, optional fields when present).
 */
export function encodeCheckEvent(i: CheckEventInput): string {
  const ev: Record<string, unknown> = {};
  if (i.decisionId) ev['eventId'] = i.decisionId;
  if (i.tenant) ev['tenant'] = i.tenant;
  ev['time'] = timestampJson(i.timeMs);
  ev['source'] = AUDIT_SOURCE;
  const actor: Record<string, unknown> = {};
  if (i.result.agent) actor['agentId'] = i.result.agent;
  if (i.result.chain !== undefined && i.result.chain.length > 0) actor['jtiChain'] = i.result.chain;
  if (i.caller.id) actor['principal'] = i.caller.id;
  ev['actor'] = actor;
  ev['action'] = 'check';
  if (i.request.resource) ev['resource'] = i.request.resource;
  ev['decision'] = i.result.decision;
  ev['reason'] = i.result.reason;
  if (i.result.message) ev['message'] = i.result.message;
  if (i.policyVersion) ev['policyVersion'] = i.policyVersion;
  if (i.traceId) ev['traceId'] = i.traceId;
  if (i.spanId) ev['spanId'] = i.spanId;
  const check: Record<string, unknown> = {};
  const detailId = i.detailDecisionId ?? i.decisionId;
  if (detailId) check['decisionId'] = detailId;
  if (i.request.requiredScope) check['requiredScope'] = i.request.requiredScope;
  const purpose = i.request.context?.purpose;
  if (purpose) check['purpose'] = purpose;
  const count = i.request.context?.recordCount;
  if (count !== undefined && count !== null) check['recordCount'] = count;
  if (i.approvalId) check['approvalId'] = i.approvalId;
  if (i.enforcerId) check['enforcerId'] = i.enforcerId;
  ev['check'] = check;
  return JSON.stringify(ev);
}

/** One decision's record for the audit topic: key = tenant, proto3 JSON value, CloudEvents headers. */
export interface AuditEntry {
  input: CheckEventInput;
  record: EventMessage;
}

/** Builds the entry now (the headers carry the active trace context). */
export function auditEntry(input: CheckEventInput): AuditEntry {
  return {
    input,
    record: {
      key: input.tenant,
      value: encodeCheckEvent(input),
      headers: cloudEventHeaders({
        id: input.decisionId,
        type: AUDIT_EVENT_TYPE,
        source: AUDIT_SOURCE,
        subject: input.tenant,
        time: timestampJson(input.timeMs),
      }),
    },
  };
}

/** Publishes to one topic; resolves when acknowledged (platform's BatchingPublisher / EventBus). */
export interface AuditPublisher {
  publish(topic: string, messages: EventMessage[]): Promise<void>;
}

export interface AuditWriter {
  /**
   * Records the events of decisions made together (one Check, or a BatchCheck). Resolves, when
   * the decisions may be answered, to one flag per entry: true when recorded as the mode demands
   * (sync: ALLOW acknowledged by Kafka; async: buffered), false when it could not be (the caller
   * answers DENY AUDIT_UNAVAILABLE instead of an ALLOW). Never rejects.
   */
  write(entries: readonly AuditEntry[], allow: readonly boolean[]): Promise<boolean[]>;
  /** Events accepted but not yet acknowledged. */
  pending(): number;
  /** Stops accepting; waits until everything accepted was acknowledged (or failed). */
  close(): Promise<void>;
  /** After the shutdown deadline: drops what is still buffered; returns how many events. */
  abort?(): number;
  readonly stats: AuditStats;
}

export interface AuditStats {
  published: number;
  failed: number;
  rejected: number;
}

export interface AuditWriterOptions {
  topic: string;
  publisher: AuditPublisher;
  logger: Logger;
  /** sync: bound on unacknowledged events before denies wait too; async: buffer capacity. */
  capacity: number;
}

/** The DENY AUDIT_UNAVAILABLE record that supersedes an ALLOW whose event was not acknowledged. */
function supersedingRecord(entry: AuditEntry): EventMessage {
  const input: CheckEventInput = {
    ...entry.input,
    decisionId: `${entry.input.decisionId}.superseded`,
    detailDecisionId: entry.input.decisionId,
    result: {
      ...entry.input.result,
      decision: 'DENY',
      reason: 'AUDIT_UNAVAILABLE',
      message:
        'the ALLOW event of this decision was not acknowledged by Kafka; the caller was answered DENY AUDIT_UNAVAILABLE',
    },
  };
  return auditEntry(input).record;
}

/** Sync mode (see the module comment). */
export class SyncAuditWriter implements AuditWriter {
  private unacked = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  readonly stats: AuditStats = { published: 0, failed: 0, rejected: 0 };

  constructor(private readonly opts: AuditWriterOptions) {}

  async write(entries: readonly AuditEntry[], allow: readonly boolean[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    if (this.closed) {
      this.stats.rejected += entries.length;
      return entries.map(() => false);
    }
    const acked = this.publish(entries.map((e) => e.record));
    const mustWait = allow.some((a) => a) || this.unacked > this.opts.capacity;
    if (!mustWait) {
      void acked;
      return entries.map(() => true);
    }
    const ok = await acked;
    if (!ok) {
      // Best effort: say in the stream that these ALLOWs were answered as denials.
      const superseding = entries.filter((_, k) => allow[k]).map(supersedingRecord);
      if (superseding.length > 0 && !this.closed) void this.publish(superseding);
    }
    return entries.map((_, k) => ok || !allow[k]);
  }

  /** Resolves true when acknowledged, false when not (logged). */
  private publish(records: EventMessage[]): Promise<boolean> {
    this.unacked += records.length;
    return this.opts.publisher.publish(this.opts.topic, records).then(
      () => {
        this.stats.published += records.length;
        this.settled(records.length);
        return true;
      },
      (err: unknown) => {
        this.stats.failed += records.length;
        this.settled(records.length);
        this.opts.logger.warn(
          { err_message: err instanceof Error ? err.message : String(err), events: records.length },
          'audit events not acknowledged',
        );
        return false;
      },
    );
  }

  private settled(n: number): void {
    this.unacked -= n;
    if (this.unacked === 0) for (const w of this.idle.splice(0)) w();
  }

  pending(): number {
    return this.unacked;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.unacked > 0) await new Promise<void>((r) => this.idle.push(r));
  }
}

export interface AsyncAuditWriterOptions extends AuditWriterOptions {
  /** Most events per produce request (default 1000). */
  maxBatch?: number;
  /** Delay before retrying a failed flush (default 200 ms, doubling up to 5 s). */
  retryDelayMs?: number;
}

/** Async mode (see the module comment). */
export class AsyncAuditWriter implements AuditWriter {
  private buffer: EventMessage[] = [];
  private flushing = false;
  private closed = false;
  private aborted = false;
  private inFlight = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly idle: (() => void)[] = [];
  readonly stats: AuditStats = { published: 0, failed: 0, rejected: 0 };

  constructor(private readonly opts: AsyncAuditWriterOptions) {}

  async write(entries: readonly AuditEntry[], _allow: readonly boolean[]): Promise<boolean[]> {
    const accepted = entries.map((e) => {
      if (this.closed || this.buffer.length + this.inFlight >= this.opts.capacity) {
        this.stats.rejected++;
        return false;
      }
      this.buffer.push(e.record);
      return true;
    });
    if (this.buffer.length > 0) this.kick();
    return accepted;
  }

  private kick(): void {
    if (this.flushing || this.retryTimer !== undefined || this.aborted) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const maxBatch = this.opts.maxBatch ?? 1000;
    try {
      while (this.buffer.length > 0 && !this.aborted) {
        const batch = this.buffer.splice(0, maxBatch);
        this.inFlight += batch.length;
        try {
          await this.opts.publisher.publish(this.opts.topic, batch);
          this.stats.published += batch.length;
          this.failures = 0;
        } catch (err) {
          // Keep the events (front of the buffer, original order) and retry later.
          this.stats.failed += batch.length;
          this.failures++;
          if (this.aborted) return;
          this.buffer = batch.concat(this.buffer);
          const delay = Math.min(5000, (this.opts.retryDelayMs ?? 200) * 2 ** Math.min(this.failures - 1, 5));
          this.opts.logger.warn(
            {
              err_message: err instanceof Error ? err.message : String(err),
              buffered: this.buffer.length,
              retry_ms: delay,
            },
            'audit flush failed',
          );
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, delay);
          return;
        } finally {
          this.inFlight -= batch.length;
        }
      }
    } finally {
      this.flushing = false;
      if (this.buffer.length === 0 && this.inFlight === 0) for (const w of this.idle.splice(0)) w();
    }
  }

  pending(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Stops accepting and waits for the buffer to drain (the caller bounds the wait, then aborts). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending() > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  abort(): number {
    this.closed = true;
    this.aborted = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const dropped = this.buffer.length;
    this.buffer = [];
    for (const w of this.idle.splice(0)) w();
    return dropped;
  }
}

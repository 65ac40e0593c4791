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
//
// A decision's record is kept compact (AuditRecord: event id, tenant, time, JSON value and the
// trace context of the call): the Kafka message with its CloudEvents headers and its signature (the
// enforcer's event key, header `authority-sig`) is built where it is produced, by default in the
// audit producer's worker thread (adapters/audit-producer.ts).
import { context, propagation } from '@opentelemetry/api';
import { currentTraceIds, withEventBatchSignature, type EventMessage, type Logger } from '@authority/platform';
import type { CheckResult, EventSigningKey } from '@authority/core';
import type { CheckRequest__Output } from '@authority/proto';
import { AUDIT_SOURCE, toAuditMessage, type AuditRecord, type AuditTrace } from './audit-record';
import type { Caller } from './caller';

export {
  AUDIT_EVENT_TYPE,
  AUDIT_CE_SOURCE,
  AUDIT_SOURCE,
  auditHeaders,
  toAuditMessage,
  type AuditRecord,
  type AuditTrace,
} from './audit-record';

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

const NO_TRACE: AuditTrace = Object.freeze({ traceId: '', spanId: '', headers: Object.freeze({}), json: '' });

/**
 * The active trace context, once per call (a BatchCheck's decisions share it). The propagation
 * headers are what platform's cloudEventHeaders injects besides the CloudEvents attributes (the
 * global propagator's fields), injected here into an empty carrier.
 */
export function activeTrace(): AuditTrace {
  const ids = currentTraceIds();
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const headers = Object.keys(carrier).length > 0 ? carrier : undefined;
  if (ids === undefined && headers === undefined) return NO_TRACE;
  return {
    traceId: ids?.traceId ?? '',
    spanId: ids?.spanId ?? '',
    headers: headers ?? {},
    json: headers === undefined ? '' : JSON.stringify(headers),
  };
}

let lastTimeMs = NaN;
let lastTimeJson = '';

/** RFC 3339 as proto3 JSON writes a Timestamp: no fraction, or exactly 3/6/9 digits. */
export function timestampJson(ms: number): string {
  // Decisions made in the same millisecond share the text.
  if (ms === lastTimeMs) return lastTimeJson;
  const iso = new Date(ms).toISOString();
  lastTimeMs = ms;
  lastTimeJson = iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
  return lastTimeJson;
}

const json = JSON.stringify;

/**
 * The proto3 JSON of the decision's AuditEvent (the same text protobuf-es's toJsonString writes:
 * field order of the proto, default values omitted, enums by name, optional fields when present).
 * Written directly as text (strings escaped by JSON.stringify), without intermediate objects.
 */
export function encodeCheckEvent(i: CheckEventInput, time: string = timestampJson(i.timeMs)): string {
  let s = '{';
  if (i.decisionId) s += `"eventId":${json(i.decisionId)},`;
  if (i.tenant) s += `"tenant":${json(i.tenant)},`;
  s += `"time":"${time}","source":"${AUDIT_SOURCE}","actor":{`;
  const r = i.result;
  let sep = '';
  if (r.agent) {
    s += `"agentId":${json(r.agent)}`;
    sep = ',';
  }
  if (r.chain !== undefined && r.chain.length > 0) {
    s += `${sep}"jtiChain":${json(r.chain)}`;
    sep = ',';
  }
  if (i.caller.id) {
    s += `${sep}"principal":${json(i.caller.id)}`;
    sep = ',';
  }
  if (r.agentChain !== undefined && r.agentChain.length > 0) {
    s += `${sep}"agentChain":${json(r.agentChain)}`;
    sep = ',';
  }
  if (r.chainUnverified === true) s += `${sep}"chainUnverified":true`;
  s += '},"action":"check",';
  const req = i.request;
  if (req.resource) s += `"resource":${json(req.resource)},`;
  s += `"decision":"${r.decision}","reason":"${r.reason}"`;
  if (r.message) s += `,"message":${json(r.message)}`;
  if (i.policyVersion) s += `,"policyVersion":${json(i.policyVersion)}`;
  if (i.traceId) s += `,"traceId":${json(i.traceId)}`;
  if (i.spanId) s += `,"spanId":${json(i.spanId)}`;
  s += ',"check":{';
  sep = '';
  const detailId = i.detailDecisionId ?? i.decisionId;
  if (detailId) {
    s += `"decisionId":${json(detailId)}`;
    sep = ',';
  }
  if (req.requiredScope) {
    s += `${sep}"requiredScope":${json(req.requiredScope)}`;
    sep = ',';
  }
  const ctx = req.context;
  if (ctx) {
    if (ctx.purpose) {
      s += `${sep}"purpose":${json(ctx.purpose)}`;
      sep = ',';
    }
    const count = ctx.recordCount;
    if (count !== undefined && count !== null) {
      s += `${sep}"recordCount":${json(count)}`;
      sep = ',';
    }
  }
  if (i.approvalId) {
    s += `${sep}"approvalId":${json(i.approvalId)}`;
    sep = ',';
  }
  if (i.enforcerId) {
    s += `${sep}"enforcerId":${json(i.enforcerId)}`;
    sep = ',';
  }
  const violations = r.violations;
  if (violations !== undefined && violations.length > 0) {
    s += `${sep}"violations":[`;
    for (let k = 0; k < violations.length; k++) {
      const v = violations[k]!;
      // Every field is set by the engine; empty ones are omitted as proto3 JSON does.
      let vs = `"reason":"${v.reason}"`;
      if (v.constraint) vs += `,"constraint":${json(v.constraint)}`;
      if (v.field) vs += `,"field":${json(v.field)}`;
      if (v.message) vs += `,"message":${json(v.message)}`;
      if (v.source) vs += `,"source":${json(v.source)}`;
      s += `${k > 0 ? ',' : ''}{${vs}}`;
    }
    s += ']';
  }
  return `${s}}}`;
}

/** One decision's event input and its record. */
export interface AuditEntry {
  input: CheckEventInput;
  record: AuditRecord;
}

/** Builds the entry now (value encoded, trace context of the call). */
export function auditEntry(input: CheckEventInput, trace: AuditTrace = NO_TRACE): AuditEntry {
  const time = timestampJson(input.timeMs);
  return {
    input,
    record: { id: input.decisionId, tenant: input.tenant, time, value: encodeCheckEvent(input, time), trace },
  };
}

/** Publishes records to one topic; resolves when acknowledged (acks=all). */
export interface AuditPublisher {
  publish(topic: string, records: readonly AuditRecord[]): Promise<void>;
}

/**
 * An AuditPublisher on anything that publishes Kafka messages (platform's EventBus /
 * BatchingPublisher), on the calling thread; the records of a call signed as one batch with the
 * enforcer's event key (one signature over their Merkle root: core events/signature.ts).
 */
export function eventBusAuditPublisher(
  bus: { publish(topic: string, messages: EventMessage[]): Promise<void> },
  eventKey: EventSigningKey,
): AuditPublisher {
  return {
    publish: (topic, records) => bus.publish(topic, withEventBatchSignature(records.map(toEventMessage), eventKey)),
  };
}

/** The Kafka message of a record as platform's EventBus takes it. */
export function toEventMessage(r: AuditRecord): EventMessage {
  return toAuditMessage(r);
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
function supersedingRecord(entry: AuditEntry): AuditRecord {
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
  return auditEntry(input, entry.record.trace).record;
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
  private publish(records: AuditRecord[]): Promise<boolean> {
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
  /**
   * How long events may wait to be flushed together (default 5 ms; a full batch goes at once).
   * Nothing waits on them, and fewer, larger produce requests cost both threads less.
   */
  lingerMs?: number;
}

/** Async mode (see the module comment). */
export class AsyncAuditWriter implements AuditWriter {
  private buffer: AuditRecord[] = [];
  private flushing = false;
  private closed = false;
  private aborted = false;
  private inFlight = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
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
    if (this.aborted) return;
    if (this.lingerTimer !== undefined && (this.closed || this.buffer.length >= (this.opts.maxBatch ?? 1000))) {
      // Full batch, or shutting down: flush now rather than at the end of the linger.
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      setImmediate(() => void this.flush());
      return;
    }
    if (this.flushing || this.retryTimer !== undefined) return;
    this.flushing = true;
    const linger = this.opts.lingerMs ?? 5;
    if (linger <= 0 || this.closed || this.buffer.length >= (this.opts.maxBatch ?? 1000)) {
      setImmediate(() => void this.flush());
    } else {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        void this.flush();
      }, linger);
    }
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
    if (this.lingerTimer !== undefined) this.kick(); // flush now
    if (this.pending() > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  abort(): number {
    this.closed = true;
    this.aborted = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.flushing = false;
    const dropped = this.buffer.length;
    this.buffer = [];
    for (const w of this.idle.splice(0)) w();
    return dropped;
  }
}

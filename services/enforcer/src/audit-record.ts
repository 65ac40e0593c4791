// The audit record as it travels to the producer: what a decision's Kafka message is made of, its
// CloudEvents binary-mode headers, and the flat form posted to the producer thread. Deliberately
// free of runtime imports (the producer thread loads it next to kafkajs, nothing else).

// The two values below are core's contract (EVENT_TYPES.audit, eventSource('enforcer'), spelled out
// here because this module has no runtime imports); test/unit/audit.test.ts pins them to core.
/** ce_type of audit events. */
export const AUDIT_EVENT_TYPE = 'authority.audit.v1';
/** AuditEvent.source of the enforcer's events (what a trusted producer key's `sources=` names). */
export const AUDIT_SOURCE = 'enforcer';
/** ce_source of the enforcer's events (core's `/authority/<service>` form). */
export const AUDIT_CE_SOURCE = '/authority/enforcer';

/** The trace context of the call that made decisions: ids for the event, headers for Kafka. */
export interface AuditTrace {
  traceId: string;
  spanId: string;
  /** W3C propagation headers (`traceparent`, `tracestate`, …) of the active context; may be empty. */
  headers: Readonly<Record<string, string>>;
  /** `headers` as JSON ('' when empty), computed once per call for the producer thread. */
  json: string;
}

/**
 * One decision's record for the audit topic, compact: the Kafka message (key = tenant, value,
 * CloudEvents headers + trace context) is built from it where it is produced.
 */
export interface AuditRecord {
  /** Event id (= ce_id). */
  readonly id: string;
  /** Tenant: the message key and ce_subject. */
  readonly tenant: string;
  /** RFC 3339 time of the decision (= the event's `time`, ce_time). */
  readonly time: string;
  /** proto3 JSON of the AuditEvent. */
  readonly value: string;
  /** Trace context of the call (shared by the decisions of one call). */
  readonly trace: AuditTrace;
}

/** A Kafka message as kafkajs takes it (and as platform's EventMessage describes it). */
export interface AuditMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * The CloudEvents binary-mode headers of an audit record: what platform's cloudEventHeaders writes
 * for it, with the decision's trace context.
 */
export function auditHeaders(
  id: string,
  tenant: string,
  time: string,
  trace: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: id,
    ce_type: AUDIT_EVENT_TYPE,
    ce_source: AUDIT_CE_SOURCE,
    ce_time: time,
    ce_subject: tenant,
    'content-type': 'application/json',
  };
  if (trace !== undefined) for (const key of Object.keys(trace)) headers[key] = trace[key] as string;
  return headers;
}

/** The Kafka message of a record: key = tenant, proto3 JSON value, CloudEvents headers. */
export function toAuditMessage(r: AuditRecord): AuditMessage {
  return { key: r.tenant, value: r.value, headers: auditHeaders(r.id, r.tenant, r.time, r.trace.headers) };
}

/** Strings per record in the flat form: id, tenant, time, value, trace JSON. */
export const WIRE_STRIDE = 5;

/** Appends records to the flat form posted to the producer thread (cheap to structured-clone). */
export function appendWire(out: string[], records: readonly AuditRecord[]): void {
  for (let k = 0; k < records.length; k++) {
    const r = records[k] as AuditRecord;
    out.push(r.id, r.tenant, r.time, r.value, r.trace.json);
  }
}

/** Kafka messages from the flat form (the trace JSON of consecutive records is parsed once). */
export function messagesFromWire(wire: readonly string[]): AuditMessage[] {
  const n = Math.floor(wire.length / WIRE_STRIDE);
  const out = new Array<AuditMessage>(n);
  let lastJson = '';
  let lastTrace: Record<string, string> | undefined;
  for (let j = 0, k = 0; j < n; j++, k += WIRE_STRIDE) {
    const id = wire[k] as string;
    const tenant = wire[k + 1] as string;
    const traceJson = wire[k + 4] as string;
    let trace: Record<string, string> | undefined;
    if (traceJson !== '') {
      if (traceJson !== lastJson) {
        lastTrace = JSON.parse(traceJson) as Record<string, string>;
        lastJson = traceJson;
      }
      trace = lastTrace;
    }
    out[j] = {
      key: tenant,
      value: wire[k + 3] as string,
      headers: auditHeaders(id, tenant, wire[k + 2] as string, trace),
    };
  }
  return out;
}

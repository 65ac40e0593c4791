// Spans of one consumed audit batch, so that an event's trace runs unbroken from the call that
// made it to the MongoDB write that chained it:
//
//   <producer's span: the enforcer's Check, the issuer's Mint, ...>
//     └─ send <prefix>audit                 PRODUCER (platform's publish)
//          └─ process <prefix>audit         CONSUMER, one per record, parent = the record's traceparent
//               └─ mongodb insert entries   CLIENT, the insertMany that stored the record's entry
//
// The batch as a whole keeps its own CONSUMER span (`process <topic>`, with a link to each
// record's producer context); each record span links back to it. The insertMany is shared by up
// to INSERT_CHUNK records of one tenant, so each record gets its own insert span with the
// insert's start and end times. Records whose trace is not sampled get non-recording spans (and
// no insert span): the cost is one span start per record.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { headerString, type ConsumedBatch } from '@authority/platform';
import type { EntryDoc } from './adapters/mongo';
import type { AdmittedEvent } from './event-fields';

/** Instrumentation scope of the auditor's own spans and metrics. */
export const AUDITOR_SCOPE = '@authority/auditor';

export type RecordOutcome = 'appended' | 'already_chained' | 'rejected' | 'not_processed';

export interface BatchTracingOptions {
  tracer: Tracer;
  batch: Pick<ConsumedBatch, 'topic' | 'partition' | 'messages'>;
  /** The trace context of each record (extracted from its headers), by index in the batch. */
  parents: readonly Context[];
  /** The batch span (each record span links to it). */
  batchSpan: Span;
  groupId?: string;
  /** The database the entries go to (`db.namespace`). */
  dbName?: string;
  collection: string;
}

export class BatchTracing {
  /** Recording record spans still open, by message index. */
  private readonly open = new Map<number, Span>();
  private readonly indexOf = new Map<AdmittedEvent, number>();
  private readonly admittedIndexes = new Set<number>();

  constructor(private readonly opts: BatchTracingOptions) {
    const { tracer, batch, parents, batchSpan } = opts;
    const link = [{ context: batchSpan.spanContext() }];
    const name = `process ${batch.topic}`;
    for (let i = 0; i < batch.messages.length; i++) {
      const m = batch.messages[i]!;
      const span = tracer.startSpan(name, { kind: SpanKind.CONSUMER, links: link }, parents[i] ?? ROOT_CONTEXT);
      if (!span.isRecording()) continue;
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': batch.topic,
        'messaging.destination.partition.id': String(batch.partition),
        'messaging.kafka.offset': Number(m.offset),
        ...(opts.groupId !== undefined ? { 'messaging.consumer.group.name': opts.groupId } : {}),
        ...(m.key !== null ? { 'messaging.kafka.message.key': m.key.toString('utf8') } : {}),
      });
      const id = headerString(m.headers, 'ce_id');
      if (id !== undefined) span.setAttribute('messaging.message.id', id);
      this.open.set(i, span);
    }
  }

  /** True when no record of the batch is traced (nothing more to do per record). */
  get idle(): boolean {
    return this.open.size === 0;
  }

  /** Record `index` was admitted as `event` (the object the appender will report back). */
  admitted(index: number, event: AdmittedEvent): void {
    const span = this.open.get(index);
    if (span === undefined) return;
    this.indexOf.set(event, index);
    this.admittedIndexes.add(index);
    span.setAttributes({ 'authority.tenant': event.tenant, 'authority.audit.event_id': event.eventId });
  }

  /** Record `index` was refused (quarantined). */
  refused(index: number, reason: string): void {
    const span = this.open.get(index);
    if (span === undefined) return;
    span.setAttribute('authority.audit.rejected_reason', reason);
    this.end(index, 'rejected');
  }

  /** An insertMany ran for these events: one CLIENT span per traced record, and the record's end. */
  inserted(
    events: readonly AdmittedEvent[],
    docs: readonly EntryDoc[],
    startMs: number,
    endMs: number,
    err?: unknown,
  ): void {
    if (this.open.size === 0) return;
    const { tracer, collection, dbName } = this.opts;
    for (let k = 0; k < events.length; k++) {
      const index = this.indexOf.get(events[k]!);
      if (index === undefined) continue;
      const span = this.open.get(index);
      if (span === undefined) continue;
      const insert = tracer.startSpan(
        `mongodb insert ${collection}`,
        {
          kind: SpanKind.CLIENT,
          startTime: startMs,
          attributes: {
            'db.system.name': 'mongodb',
            'db.collection.name': collection,
            'db.operation.name': 'insert',
            'db.operation.batch.size': docs.length,
            ...(dbName !== undefined ? { 'db.namespace': dbName } : {}),
          },
        },
        trace.setSpan(ROOT_CONTEXT, span),
      );
      if (err !== undefined) {
        const code = (err as { code?: unknown }).code;
        insert.setAttribute(
          'error.type',
          code !== undefined ? String(code) : err instanceof Error ? err.name : 'Error',
        );
        insert.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        insert.end(endMs);
        continue; // the appender resolves the conflict and tries again
      }
      insert.end(endMs);
      const doc = docs[k];
      if (doc !== undefined) span.setAttribute('authority.audit.seq', doc.seq);
      this.end(index, 'appended', endMs);
    }
  }

  /** Ends every record span still open: already chained, or (err / stale batch) not processed. */
  finish(err?: unknown, stale = false): void {
    for (const index of [...this.open.keys()]) {
      const span = this.open.get(index)!;
      if (err !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        this.end(index, 'not_processed');
      } else if (stale || !this.admittedIndexes.has(index)) {
        this.end(index, 'not_processed');
      } else {
        this.end(index, 'already_chained');
      }
    }
  }

  private end(index: number, outcome: RecordOutcome, at?: number): void {
    const span = this.open.get(index);
    if (span === undefined) return;
    this.open.delete(index);
    span.setAttribute('authority.audit.outcome', outcome);
    span.end(at);
  }
}

// The consumer side: one Kafka batch (one partition) at a time, records grouped by tenant, each
// tenant's events appended to its chain in order, refused records (unsigned, badly signed, signed
// by an unknown key or beyond the key's sources, malformed, or naming another tenant) quarantined,
// and only then the partition's offset committed. A crash anywhere before the commit redelivers
// the batch; the chain's unique (tenant, eventId) index turns the redelivery into a no-op, and the
// quarantine's _id (topic/partition/offset) does the same for refused records. At-least-once
// delivery, exactly-once effect.
//
// Tracing (see tracing.ts): the batch has a CONSUMER span linked to every record's producer
// context, and each record a CONSUMER span whose parent IS its producer context, with a CLIENT
// span for the insertMany that stored it, so a decision's trace reaches the MongoDB write.
import { trace, type Context, type Link, type Span } from '@opentelemetry/api';
import {
  extractTraceContext,
  SpanKind,
  withSpan,
  type BatchContext,
  type ConsumedMessage,
  type Logger,
} from '@authority/platform';
import { ENTRIES_COLLECTION, storedBytes, type ChainStore, type EntryDoc, type RejectedDoc } from './adapters/mongo';
import type { AppendHooks, ChainAppender, TenantState } from './appender';
import type { ChainFeed } from './chain-feed';
import type { Checkpointer } from './checkpoints';
import { VerifiedBatchRoots, type EventKeyResolver } from '@authority/core';
import { admitSignedRecord, type AdmittedEvent, type RefusedRecord } from './event-fields';
import { AUDITOR_SCOPE, BatchTracing } from './tracing';

export interface IngestStats {
  batches: number;
  records: number;
  appended: number;
  skipped: number;
  rejected: number;
}

export interface IngestOptions {
  store: ChainStore;
  appender: ChainAppender;
  checkpointer: Checkpointer;
  logger: Logger;
  /** The producers' public keys the auditor trusts (AUTHORITY_EVENT_TRUSTED_KEYS), by key id. */
  trustedKeys: EventKeyResolver;
  /** Counts each newly quarantined record by its code (the metric authority.auditor.quarantined). */
  onQuarantined?: (doc: RejectedDoc) => void;
  /** The consumer group (span attribute `messaging.consumer.group.name`). */
  groupId?: string;
  /** Publishes what was chained on the chain topic (absent: no feed). */
  chainFeed?: ChainFeed;
}

/** Most span links recorded on one batch span (one per record's producer context). */
const MAX_LINKS = 128;

export class AuditIngest {
  readonly stats: IngestStats = { batches: 0, records: 0, appended: 0, skipped: 0, rejected: 0 };

  /** Batch signatures already verified: a produce request's records cost one Ed25519 verify. */
  private readonly verifiedRoots = new VerifiedBatchRoots();
  constructor(private readonly opts: IngestOptions) {}

  /** The EventBus batch handler (ConsumeOptions.eachBatch): commits each batch once it is chained. */
  readonly handleBatch = async (payload: BatchContext): Promise<void> => {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const parents: Context[] = batch.messages.map((m) => extractTraceContext(m.headers));
    const links: Link[] = [];
    for (const parent of parents) {
      if (links.length >= MAX_LINKS) break;
      const sc = trace.getSpanContext(parent);
      if (sc && trace.isSpanContextValid(sc)) links.push({ context: sc });
    }
    await withSpan(
      `process ${batch.topic}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': batch.topic,
          'messaging.destination.partition.id': String(batch.partition),
          'messaging.batch.message_count': batch.messages.length,
        },
      },
      async (batchSpan) => {
        const tracing = new BatchTracing({
          tracer: trace.getTracer(AUDITOR_SCOPE),
          batch,
          parents,
          batchSpan,
          collection: ENTRIES_COLLECTION,
          dbName: this.opts.store.db.databaseName,
          ...(this.opts.groupId !== undefined ? { groupId: this.opts.groupId } : {}),
        });
        let stale = false;
        try {
          stale = !(await this.process(payload, tracing, batchSpan));
        } catch (err) {
          tracing.finish(err);
          throw err;
        }
        tracing.finish(undefined, stale);
      },
    );
  };

  /** Chains the batch and commits its offset; false when it went stale (nothing committed). */
  private async process(payload: BatchContext, tracing: BatchTracing, batchSpan: Span): Promise<boolean> {
    const { batch, heartbeat, isStale, commit } = payload;
    const { store, appender, checkpointer, logger } = this.opts;
    const byTenant = new Map<string, AdmittedEvent[]>();
    const refused: RejectedDoc[] = [];
    const refusedIndexes: number[] = [];
    for (let i = 0; i < batch.messages.length; i++) {
      const consumed = batch.messages[i]!;
      const r = admitSignedRecord(consumed, this.opts.trustedKeys, this.verifiedRoots);
      if (r.ok) {
        const list = byTenant.get(r.tenant);
        if (list) list.push(r);
        else byTenant.set(r.tenant, [r]);
        tracing.admitted(i, r);
      } else {
        refused.push(rejectedDoc(consumed, r));
        refusedIndexes.push(i);
      }
    }
    if (refused.length > 0) {
      // Stored before the offset is committed, idempotently (_id = topic/partition/offset): a crash
      // redelivers the batch, and the second insert is a no-op that is not counted again.
      const stored = await store.insertRejected(refused);
      refused.forEach((r, k) => tracing.refused(refusedIndexes[k]!, r.reason));
      for (const r of stored) {
        this.opts.onQuarantined?.(r);
        logger.warn(
          {
            partition: r.partition,
            offset: r.offset,
            tenant: r.tenant,
            key: r.key,
            code: r.code,
            problem: r.reason,
          },
          'audit record quarantined',
        );
      }
    }
    let appended = 0;
    let skipped = 0;
    const afterChunk = async (state: TenantState, chunk: readonly EntryDoc[]) => {
      await this.opts.chainFeed?.published(chunk);
      await checkpointer.afterAppend(state);
      await heartbeat();
    };
    // A rebalance or seek made this batch stale: stop without committing; whoever owns the
    // partition now re-reads it from the committed offset (and skips what is chained).
    if (isStale()) return false;
    await heartbeat();
    const hooks: AppendHooks = { afterChunk, heartbeat, chunkLimit: (s) => checkpointer.entriesUntilDue(s) };
    if (!tracing.idle)
      hooks.onInsert = (events, docs, start, end, err) => tracing.inserted(events, docs, start, end, err);
    // Tenants are independent chains: append them concurrently (each tenant's events in order).
    const results = await Promise.all([...byTenant].map(([tenant, events]) => appender.append(tenant, events, hooks)));
    for (const r of results) {
      appended += r.appended;
      skipped += r.skipped;
    }
    if (isStale()) return false;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await commit(last);
    await heartbeat();
    this.stats.batches++;
    this.stats.records += batch.messages.length;
    this.stats.appended += appended;
    this.stats.skipped += skipped;
    this.stats.rejected += refused.length;
    logger.debug(
      {
        partition: batch.partition,
        first_offset: batch.messages[0]!.offset,
        last_offset: last,
        tenants: byTenant.size,
        appended,
        skipped,
        rejected: refused.length,
      },
      'audit batch chained',
    );
    batchSpan.setAttributes({ 'authority.audit.appended': appended, 'authority.audit.skipped': skipped });
    return true;
  }
}

/** Every header as (name, bytes), in order; a repeated header (an array) once per value. */
function rawHeaders(headers: ConsumedMessage['headers']): RejectedDoc['headers'] {
  const out: RejectedDoc['headers'] = [];
  for (const [name, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      out.push({
        name,
        value: one === undefined ? null : storedBytes(typeof one === 'string' ? Buffer.from(one) : one),
      });
    }
  }
  return out;
}

function rejectedDoc(m: ConsumedMessage, r: RefusedRecord): RejectedDoc {
  return {
    _id: `${m.topic}/${m.partition}/${m.offset}`,
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    code: r.code,
    reason: r.reason,
    key: r.key ?? null,
    subject: r.subject ?? null,
    tenant: r.tenant,
    eventId: r.eventId,
    raw: m.value === null ? null : storedBytes(m.value),
    headers: rawHeaders(m.headers),
    receivedAt: new Date(),
  };
}

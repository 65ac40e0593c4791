// The consumer side: one Kafka batch (one partition) at a time, records grouped by tenant, each
// tenant's events appended to its chain in order, refused records quarantined, and only then the
// partition's offset committed. A crash anywhere before the commit redelivers the batch; the
// chain's unique (tenant, eventId) index turns the redelivery into a no-op. At-least-once
// delivery, exactly-once effect.
import { trace, type Link } from '@opentelemetry/api';
import { Binary } from 'mongodb';
import type { EachBatchPayload } from 'kafkajs';
import { extractTraceContext, SpanKind, withSpan, type ConsumedMessage, type Logger } from '@authority/platform';
import type { ChainStore, RejectedDoc } from './adapters/mongo';
import type { ChainAppender, TenantState } from './appender';
import type { Checkpointer } from './checkpoints';
import { admitRecord, type AdmittedEvent, type RefusedRecord } from './event-fields';

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
}

/** Most span links recorded on one batch span (one per record's producer context). */
const MAX_LINKS = 128;

export class AuditIngest {
  readonly stats: IngestStats = { batches: 0, records: 0, appended: 0, skipped: 0, rejected: 0 };

  constructor(private readonly opts: IngestOptions) {}

  /** kafkajs eachBatch handler (autoCommit off, eachBatchAutoResolve off). */
  readonly handleBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const links: Link[] = [];
    for (const m of batch.messages) {
      if (links.length >= MAX_LINKS) break;
      const sc = trace.getSpanContext(extractTraceContext(m.headers));
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
      () => this.process(payload),
    );
  };

  private async process(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
    const { store, appender, checkpointer, logger } = this.opts;
    const byTenant = new Map<string, AdmittedEvent[]>();
    const refused: RejectedDoc[] = [];
    for (const m of batch.messages) {
      const consumed: ConsumedMessage = {
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
        timestamp: m.timestamp,
      };
      const r = admitRecord(consumed);
      if (r.ok) {
        const list = byTenant.get(r.tenant);
        if (list) list.push(r);
        else byTenant.set(r.tenant, [r]);
      } else {
        refused.push(rejectedDoc(consumed, r));
      }
    }
    if (refused.length > 0) {
      await store.insertRejected(refused);
      for (const r of refused) {
        logger.warn(
          { partition: r.partition, offset: r.offset, tenant: r.tenant, key: r.key, problem: r.reason },
          'audit record quarantined',
        );
      }
    }
    let appended = 0;
    let skipped = 0;
    const afterChunk = async (state: TenantState) => {
      await checkpointer.afterAppend(state);
      await heartbeat();
    };
    // A rebalance or seek made this batch stale: stop without committing; whoever owns the
    // partition now re-reads it from the committed offset (and skips what is chained).
    if (!isRunning() || isStale()) return;
    // Tenants are independent chains: append them concurrently (each tenant's events in order).
    const results = await Promise.all(
      [...byTenant].map(([tenant, events]) =>
        appender.append(tenant, events, { afterChunk, chunkLimit: (s) => checkpointer.entriesUntilDue(s) }),
      ),
    );
    for (const r of results) {
      appended += r.appended;
      skipped += r.skipped;
    }
    if (!isRunning() || isStale()) return;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await commitOffsetsIfNecessary({
      topics: [
        { topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] },
      ],
    });
    resolveOffset(last);
    await heartbeat();
    this.stats.batches++;
    this.stats.records += batch.messages.length;
    this.stats.appended += appended;
    this.stats.skipped += skipped;
    this.stats.rejected += refused.length;
    logger.debug(
      {
        partition: batch.partition,
        first_offset: batch.firstOffset(),
        last_offset: last,
        tenants: byTenant.size,
        appended,
        skipped,
        rejected: refused.length,
      },
      'audit batch chained',
    );
  }
}

function rejectedDoc(m: ConsumedMessage, r: RefusedRecord): RejectedDoc {
  return {
    _id: `${m.topic}/${m.partition}/${m.offset}`,
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    reason: r.reason,
    key: r.key ?? null,
    subject: r.subject ?? null,
    tenant: r.tenant,
    eventId: r.eventId,
    raw: m.value === null ? null : new Binary(m.value),
    receivedAt: new Date(),
  };
}

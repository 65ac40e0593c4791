// The auditor's ingest on the in-memory EventBus adapter (platform's second adapter of the port): no
// broker and no kafkajs type, the same handler the auditor gives the kafkajs adapter. The chain and
// the quarantine are small stand-ins (the MongoDB side has its integration tests); what is tested is
// the Kafka side: records grouped by tenant in order, refused records quarantined once, the offset
// committed only after both, nothing committed for a batch made stale by a rebalance or a failure,
// and the redelivered batch a no-op for what was already chained.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { cryptoReady } from '@authority/core';
import { InMemoryEventBus, silentLogger, type ConsumerHandle, type EventMessage } from '@authority/platform';
import { waitFor } from '@authority/test-helpers';
import {
  AuditIngest,
  type AdmittedEvent,
  type ChainAppender,
  type ChainStore,
  type Checkpointer,
  type EntryDoc,
  type RejectedDoc,
  type TenantState,
} from '../../src/index';
import type { AppendHooks } from '../../src/appender';
import { auditEvent, auditRecord, trustedKeyResolver } from '../helpers';

const TOPIC = 'unit.audit';
const GROUP = 'unit-auditor';

/** Chains by tenant (event ids in order, each once, as the unique (tenant, eventId) index makes it). */
class MemoryChains {
  readonly chains = new Map<string, string[]>();
  /** Runs before each append (a test pauses or fails it there). */
  beforeAppend: (tenant: string) => Promise<void> | void = () => undefined;

  async append(tenant: string, events: readonly AdmittedEvent[], hooks: AppendHooks) {
    await this.beforeAppend(tenant);
    const chain = this.chains.get(tenant) ?? [];
    this.chains.set(tenant, chain);
    const fresh = events.filter((e) => !chain.includes(e.eventId));
    chain.push(...fresh.map((e) => e.eventId));
    const state = { tenant, head: { seq: chain.length, hash: Buffer.alloc(32) }, lastCheckpointSeq: 0 };
    await hooks.afterChunk?.(state as TenantState, [] as EntryDoc[]);
    return { appended: fresh.length, skipped: events.length - fresh.length };
  }

  asAppender(): ChainAppender {
    return this as unknown as ChainAppender;
  }
}

/** The quarantine: stored once by _id (topic/partition/offset), as ChainStore.insertRejected does. */
class MemoryQuarantine {
  readonly docs = new Map<string, RejectedDoc>();
  readonly db = { databaseName: 'unit' };

  async insertRejected(docs: readonly RejectedDoc[]): Promise<RejectedDoc[]> {
    const stored = docs.filter((d) => !this.docs.has(d._id));
    for (const d of stored) this.docs.set(d._id, d);
    return stored;
  }

  asStore(): ChainStore {
    return this as unknown as ChainStore;
  }
}

const noCheckpoints = {
  afterAppend: async () => undefined,
  entriesUntilDue: () => 1_000,
} as unknown as Checkpointer;

function ingestOn(chains: MemoryChains, quarantine: MemoryQuarantine, quarantined: RejectedDoc[] = []) {
  return new AuditIngest({
    store: quarantine.asStore(),
    appender: chains.asAppender(),
    checkpointer: noCheckpoints,
    logger: silentLogger(),
    trustedKeys: trustedKeyResolver(),
    onQuarantined: (doc) => quarantined.push(doc),
    groupId: GROUP,
  });
}

const consume = (bus: InMemoryEventBus, ingest: AuditIngest): Promise<ConsumerHandle> =>
  bus.consume({ groupId: GROUP, topics: [TOPIC], fromBeginning: true, eachBatch: ingest.handleBatch });

const records = (tenant: string, from: number, to: number): EventMessage[] =>
  Array.from({ length: to - from }, (_, i) => auditRecord(auditEvent({ tenant, eventId: `${tenant}-${from + i}` })));

describe('AuditIngest on the in-memory EventBus', () => {
  before(() => cryptoReady());

  it('chains each tenant in order, quarantines refused records, then commits through the last record', async () => {
    const bus = new InMemoryEventBus({ maxBatchSize: 50 });
    const chains = new MemoryChains();
    const quarantine = new MemoryQuarantine();
    const quarantined: RejectedDoc[] = [];
    const ingest = ingestOn(chains, quarantine, quarantined);
    const wrongKey = auditRecord(auditEvent({ tenant: 'globex', eventId: 'bad-key' }), { key: 'acme' });
    const unsigned = auditRecord(auditEvent({ tenant: 'acme', eventId: 'bad-unsigned' }), { signer: null });
    await bus.publish(TOPIC, [...records('acme', 0, 40), wrongKey, ...records('globex', 0, 40), unsigned]);
    const handle = await consume(bus, ingest);
    await waitFor(() => bus.committed(GROUP, TOPIC) === '82', { what: 'the group committed after offset 81' });
    await handle.disconnect();

    assert.deepEqual(
      chains.chains.get('acme'),
      Array.from({ length: 40 }, (_, i) => `acme-${i}`),
    );
    assert.deepEqual(
      chains.chains.get('globex'),
      Array.from({ length: 40 }, (_, i) => `globex-${i}`),
    );
    assert.deepEqual([...quarantine.docs.keys()].sort(), [`${TOPIC}/0/40`, `${TOPIC}/0/81`]);
    assert.equal(quarantined.length, 2);
    assert.deepEqual(ingest.stats, { batches: 2, records: 82, appended: 80, skipped: 0, rejected: 2 });
  });

  it('a rebalance during the append: nothing committed for the stale batch; the redelivered one chains nothing twice', async () => {
    const bus = new InMemoryEventBus();
    const chains = new MemoryChains();
    const ingest = ingestOn(chains, new MemoryQuarantine());
    await bus.publish(TOPIC, records('acme', 0, 10));
    let appends = 0;
    const committedDuringFirst: (string | undefined)[] = [];
    chains.beforeAppend = () => {
      if (++appends === 1) bus.rebalance(GROUP); // another replica joined while this batch was being chained
    };
    const handle = await consume(bus, ingest);
    handle.on('rebalanced', () => committedDuringFirst.push(bus.committed(GROUP, TOPIC)));
    await waitFor(() => bus.committed(GROUP, TOPIC) === '10', { what: 'the redelivered batch committed' });
    await handle.disconnect();

    assert.equal(appends, 2, 'the stale batch came again');
    assert.deepEqual(committedDuringFirst, [undefined, undefined], 'nothing committed before the redelivery');
    assert.deepEqual(
      chains.chains.get('acme'),
      Array.from({ length: 10 }, (_, i) => `acme-${i}`),
    );
    assert.deepEqual(ingest.stats, { batches: 1, records: 10, appended: 0, skipped: 10, rejected: 0 });
  });

  it('a failure after the quarantine: the batch is redelivered from the committed offset, each record stored once', async () => {
    const bus = new InMemoryEventBus({ onFatal: (err) => assert.fail(err) });
    const chains = new MemoryChains();
    const quarantine = new MemoryQuarantine();
    const quarantined: RejectedDoc[] = [];
    const ingest = ingestOn(chains, quarantine, quarantined);
    const unsigned = auditRecord(auditEvent({ tenant: 'acme', eventId: 'bad' }), { signer: null });
    await bus.publish(TOPIC, [...records('acme', 0, 5), unsigned, ...records('acme', 5, 10)]);
    let failures = 0;
    chains.beforeAppend = () => {
      if (failures++ === 0) throw new Error('storage unavailable');
    };
    const handle = await consume(bus, ingest);
    await waitFor(() => bus.committed(GROUP, TOPIC) === '11', { what: 'the batch committed after the restart' });
    await handle.disconnect();

    assert.equal(failures, 2);
    assert.deepEqual(
      chains.chains.get('acme'),
      Array.from({ length: 10 }, (_, i) => `acme-${i}`),
    );
    assert.deepEqual([...quarantine.docs.keys()], [`${TOPIC}/0/5`]);
    assert.equal(quarantined.length, 1, 'quarantined (and counted) once, although stored twice');
  });
});

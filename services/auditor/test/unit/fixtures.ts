// In-memory helpers for the unit tests: admitted events, chain documents built by the real
// appender code, and a store stand-in that streams entries in seq order like MongoDB does.
import { randomBytes } from 'node:crypto';
import { auditGenesisHead, signCheckpoint, type SignedCheckpoint } from '@authority/core';
import { silentLogger, cloudEventHeaders } from '@authority/platform';
import { Binary } from 'mongodb';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import {
  admitRecord,
  AuditorKeys,
  ChainAppender,
  type AdmittedEvent,
  type ChainStore,
  type EntryDoc,
} from '../../src/index';

export const SEED = Buffer.alloc(32, 9);

export function event(
  tenant: string,
  n: number,
  over: Partial<{
    agent: string;
    /** Actor.agent_chain (the delegation path, root first). */
    chain: string[];
    /** Actor.chain_unverified. */
    unverified: boolean;
    resource: string;
    decision: 'ALLOW' | 'DENY';
    timeMs: number;
    action: string;
  }> = {},
) {
  return createMessage(pb.AuditEventSchema, {
    eventId: `${tenant}-${n}`,
    tenant,
    time: timestampFromDate(new Date(over.timeMs ?? 1_767_225_600_000 + n * 1000)),
    source: 'enforcer',
    actor: createMessage(pb.ActorSchema, {
      agentId: over.agent ?? `agent-${n % 3}`,
      jtiChain: (over.chain ?? ['j1']).map((_, i) => `j${i + 1}`),
      agentChain: over.chain ?? [],
      chainUnverified: over.unverified ?? false,
    }),
    action: over.action ?? 'check',
    resource: over.resource ?? `slos://vaults/student-records/${n}`,
    decision: (over.decision ?? 'ALLOW') === 'ALLOW' ? pb.Decision.ALLOW : pb.Decision.DENY,
    reason: (over.decision ?? 'ALLOW') === 'ALLOW' ? pb.ReasonCode.ALLOWED : pb.ReasonCode.DENIED_RESOURCE,
    traceId: randomBytes(16).toString('hex'),
    detail: { case: 'check', value: createMessage(pb.CheckDetailSchema, { decisionId: `d${n}` }) },
  });
}

export function admitted(e: pb.AuditEvent, offset = 0): AdmittedEvent {
  const r = admitRecord({
    key: Buffer.from(e.tenant),
    value: encodeEvent(pb.AuditEventSchema, e),
    headers: cloudEventHeaders({
      id: e.eventId,
      type: 'authority.audit.v1',
      source: 'test',
      subject: e.tenant,
      time: new Date(),
    }),
    partition: 0,
    offset: String(offset),
  });
  if (!r.ok) throw new Error(r.reason);
  return r;
}

/** A store stand-in: entries (sortable by seq) and checkpoints, with the cursor verifyStored reads. */
export class MemoryStore {
  entries: EntryDoc[] = [];
  checkpoints: SignedCheckpoint[] = [];
  entriesCursor(tenant: string, fromSeq: number, toSeq: number | undefined) {
    const docs = this.entries
      .filter((d) => d.tenant === tenant && d.seq >= fromSeq && (toSeq === undefined || d.seq <= toSeq))
      .sort((a, b) => a.seq - b.seq)
      .map((d) => ({ ...d, raw: d.raw instanceof Binary ? new Binary(Buffer.from(d.raw.value())) : d.raw }));
    return {
      async *[Symbol.asyncIterator]() {
        yield* docs;
      },
      close: async () => undefined,
    };
  }
  asStore(): ChainStore {
    return this as unknown as ChainStore;
  }
}

/** A chain of `n` entries for `tenant`, and checkpoints every `every` entries (0: none). */
export function buildChain(keys: AuditorKeys, tenant: string, n: number, every = 0): MemoryStore {
  const mem = new MemoryStore();
  const appender = new ChainAppender({ store: mem.asStore(), keys, logger: silentLogger(), now: () => new Date(0) });
  const g = auditGenesisHead(tenant);
  const events = Array.from({ length: n }, (_, i) => admitted(event(tenant, i), i));
  mem.entries = appender.buildDocs(tenant, { seq: g.seq, hash: Buffer.from(g.hash) }, events);
  if (every > 0) {
    for (let s = every; s <= n; s += every) {
      const doc = mem.entries[s - 1]!;
      mem.checkpoints.push(
        signCheckpoint({ tenant, seq: s, headHash: doc.hash, time: 1_767_225_600 + s }, keys.secretKey(), keys.keyId),
      );
    }
  }
  return mem;
}

export function newKeys(): AuditorKeys {
  return new AuditorKeys(SEED);
}

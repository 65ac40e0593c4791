// The auditor's MongoDB: per-tenant chain entries, signed checkpoints, quarantined records.
//
//   entries      {tenant, seq, eventId, raw (Binary: the exact record value), hash, prevHash (hex),
//                 time, agent, agents, action, resource, decision, reason, traceId, recordedAt}
//                 unique (tenant, seq): no forks; unique (tenant, eventId): redelivery is idempotent;
//                 (tenant, agents, seq) and (tenant, agent, seq): QueryEvents by agent (`agents` is
//                 an array, a multikey index; entries stored before it existed have only `agent`)
//   checkpoints  {tenant, seq, headHash, time (Unix s), keyId, signature (base64url), createdAt,
//                 published}; unique (tenant, seq)
//   rejected     {_id: "<topic>/<partition>/<offset>", code, reason, key, subject, tenant, eventId, raw,
//                headers, ...}: the quarantine (records never chained: unsigned, badly signed, …);
//                _id makes a redelivered record's insert a no-op
//   archives     {_id: tenant, throughSeq, headHash, archiveSha256, archivedAt}: the boundary of
//                the archived (exported, then deleted) prefix of a chain: entries up to throughSeq
//                are gone from `entries`, and the chain verifies from headHash (a checkpoint's)
//   heads        {_id: tenant, seq, hash, updatedAt}: a hint of each chain's head, so a replica
//                finds a head with one _id lookup (FerretDB uses no secondary index for reads);
//                never trusted: a stale hint ends in a duplicate key and a full, verified reload
//
// Kept to what FerretDB v1 supports (no transactions, no change streams, no partial/TTL indexes,
// duplicate key = 11000 without keyValue). Entries are inserted in ordered chunks of at most
// INSERT_CHUNK documents: FerretDB 1.24 splits an insert into batches of 100 (`--test-batch-size`)
// and, after a duplicate key in one batch, goes on inserting the NEXT batches even when the insert
// is ordered, which would leave a gap in a chain. With at most 100 documents per insert there is
// no next batch, so "ordered" means what it says.
import {
  Binary,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type FindCursor,
  type MongoClient,
} from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@authority/platform';
import type { SignedCheckpoint } from '@authority/core';

/** Most entries per insertMany (see the module comment). */
export const INSERT_CHUNK = 100;

export const ENTRIES_COLLECTION = 'entries';
export const CHECKPOINTS_COLLECTION = 'checkpoints';
export const REJECTED_COLLECTION = 'rejected';
export const HEADS_COLLECTION = 'heads';
export const ARCHIVES_COLLECTION = 'archives';

/** The archived prefix of a tenant's chain (see the module comment). */
export interface ArchiveDoc {
  _id: string;
  throughSeq: number;
  /** The chain hash at throughSeq (the head of the checkpoint there). */
  headHash: string;
  /** Hex SHA-256 of the export the operator saved. */
  archiveSha256: string;
  archivedAt: Date;
}

export interface EntryDoc {
  tenant: string;
  seq: number;
  eventId: string;
  /** The record value bytes exactly as consumed (the chain hash covers them). */
  raw: Binary;
  /** hash_seq, 64 lowercase hex digits. */
  hash: string;
  /** hash_{seq-1}, 64 lowercase hex digits (the genesis hash for seq 1). */
  prevHash: string;
  // Indexed copies of event fields (for queries); evidence is `raw`, and verification checks they agree.
  time: Date | null;
  agent: string;
  /**
   * Every agent the event is attributed to, root first (event-fields `agentPath`: the delegation
   * path, or [agent]). Absent on entries stored before delegation paths were recorded: their
   * events carry no path, and `agent` is the whole of it.
   */
  agents?: string[];
  action: string;
  resource: string;
  decision: string;
  reason: string;
  traceId: string;
  /** When the auditor appended the entry. */
  recordedAt: Date;
}

export interface CheckpointDoc {
  tenant: string;
  seq: number;
  headHash: string;
  /** Signing time, Unix seconds. */
  time: number;
  keyId: string;
  /** base64url Ed25519 signature (core signCheckpoint). */
  signature: string;
  createdAt: Date;
  /** Published on `<prefix>checkpoints` (a crash between insert and publish leaves false; republished at start). */
  published: boolean;
}

export interface RejectedDoc {
  _id: string;
  topic: string;
  partition: number;
  offset: string;
  /** The stable quarantine code (event-fields QuarantineCode). */
  code: string;
  /** What is wrong, for people. */
  reason: string;
  key: string | null;
  subject: string | null;
  tenant: string;
  eventId: string;
  raw: Binary | null;
  /**
   * Every header of the record as received, in order (names are not field names: a header
   * called `$x` or `a.b` must not break the insert), the signature header included.
   */
  headers: { name: string; value: Binary | null }[];
  receivedAt: Date;
}

export interface HeadDoc {
  _id: string;
  seq: number;
  hash: string;
  updatedAt: Date;
}

/** Bytes as MongoDB stores them (the exact record value or header; never re-encoded). */
export function storedBytes(bytes: Uint8Array): Binary {
  return new Binary(bytes);
}

/**
 * A query's narrowing on the indexed copies of an entry's fields (all optional, ANDed). The copies
 * are a cheap prefilter only: callers match every candidate again against its raw bytes.
 */
export interface EntryPrefilter {
  /** On the delegation path (`agents`), or the agent of an entry stored before paths were. */
  agent?: string;
  action?: string;
  decision?: string;
  reason?: string;
  /** Inclusive bounds on the event time, ms since the epoch. */
  fromTimeMs?: number;
  toTimeMs?: number;
}

function entryFilter(p: EntryPrefilter): Filter<EntryDoc> {
  const f: Filter<EntryDoc> = {};
  if (p.agent !== undefined) f.$or = [{ agents: p.agent }, { agent: p.agent }];
  if (p.action !== undefined) f.action = p.action;
  if (p.decision !== undefined) f.decision = p.decision;
  if (p.reason !== undefined) f.reason = p.reason;
  if (p.fromTimeMs !== undefined || p.toTimeMs !== undefined) {
    f.time = {
      ...(p.fromTimeMs !== undefined ? { $gte: new Date(p.fromTimeMs) } : {}),
      ...(p.toTimeMs !== undefined ? { $lte: new Date(p.toTimeMs) } : {}),
    };
  }
  return f;
}

/** The raw bytes of a stored entry (Binary, or a string if someone stored one); undefined otherwise. */
export function rawBytes(raw: unknown): Uint8Array | undefined {
  if (raw instanceof Binary) return raw.value();
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  return undefined;
}

export function toCheckpoint(doc: CheckpointDoc): SignedCheckpoint {
  return {
    tenant: doc.tenant,
    seq: doc.seq,
    headHash: doc.headHash,
    time: doc.time,
    keyId: doc.keyId,
    signature: doc.signature,
  };
}

/** Sees one insertMany of entries: the chunk, start and end (epoch ms), and its error if it failed. */
export type InsertObserver = (chunk: readonly EntryDoc[], startMs: number, endMs: number, err?: unknown) => void;

/** Epoch milliseconds with sub-millisecond precision (span times). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A counting semaphore: at most `limit` holders at once, FIFO. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface ChainStoreOptions {
  /**
   * Writes in flight at once across tenants (default 1). SQLite (FerretDB) has one writer
   * and makes concurrent writers sleep in its busy handler, so one at a time is fastest there;
   * the documents of the next chunks are prepared meanwhile.
   */
  writeConcurrency?: number;
}

export class ChainStore {
  readonly entries: Collection<EntryDoc>;
  readonly checkpoints: Collection<CheckpointDoc>;
  readonly rejected: Collection<RejectedDoc>;
  readonly heads: Collection<HeadDoc>;
  readonly archives: Collection<ArchiveDoc>;
  private readonly writes: Semaphore;

  constructor(
    readonly db: Db,
    readonly client?: MongoClient,
    opts: ChainStoreOptions = {},
  ) {
    this.writes = new Semaphore(Math.max(1, opts.writeConcurrency ?? 1));
    this.entries = db.collection<EntryDoc>(ENTRIES_COLLECTION);
    this.checkpoints = db.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION);
    this.rejected = db.collection<RejectedDoc>(REJECTED_COLLECTION);
    this.heads = db.collection<HeadDoc>(HEADS_COLLECTION);
    this.archives = db.collection<ArchiveDoc>(ARCHIVES_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.entries as unknown as Collection<Document>, [
      { key: { tenant: 1, seq: 1 }, name: 'uq_tenant_seq', unique: true },
      { key: { tenant: 1, eventId: 1 }, name: 'uq_tenant_event', unique: true },
      // QueryEvents(agent): `agents` for entries that have it, `agent` for older ones. FerretDB
      // 1.x accepts these and reads without them; MongoDB uses them.
      { key: { tenant: 1, agents: 1, seq: 1 }, name: 'ix_tenant_agents_seq' },
      { key: { tenant: 1, agent: 1, seq: 1 }, name: 'ix_tenant_agent_seq' },
    ]);
    await ensureIndexes(this.checkpoints as unknown as Collection<Document>, [
      { key: { tenant: 1, seq: 1 }, name: 'uq_tenant_seq', unique: true },
    ]);
  }

  /**
   * Inserts entries in ordered chunks of at most INSERT_CHUNK (or `chunkLimit()`, asked before each
   * chunk), one after the other. Throws the first error (a duplicate key is code 11000); `onChunk`
   * runs after each stored chunk with it. `observe` (tracing) sees every insertMany: its chunk,
   * when it started and ended (epoch ms, sub-millisecond) and its error, before `onChunk`.
   */
  async insertEntries(
    docs: readonly EntryDoc[],
    onChunk?: (chunk: readonly EntryDoc[]) => void | Promise<void>,
    chunkLimit?: () => number,
    observe?: InsertObserver,
  ): Promise<void> {
    for (let i = 0; i < docs.length; ) {
      const size = Math.max(1, Math.min(INSERT_CHUNK, chunkLimit?.() ?? INSERT_CHUNK));
      const chunk = docs.slice(i, i + size);
      await this.writes.run(async () => {
        if (observe === undefined) return this.entries.insertMany(chunk as EntryDoc[], { ordered: true });
        const started = epochMs();
        try {
          const result = await this.entries.insertMany(chunk as EntryDoc[], { ordered: true });
          observe(chunk, started, epochMs());
          return result;
        } catch (err) {
          observe(chunk, started, epochMs(), err);
          throw err;
        }
      });
      i += chunk.length;
      await onChunk?.(chunk);
    }
  }

  /** Which of these event ids are already in the tenant's chain (`between`: awaited between queries). */
  async existingEventIds(
    tenant: string,
    eventIds: readonly string[],
    between?: () => Promise<void>,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < eventIds.length; i += 1000) {
      if (i > 0) await between?.();
      const ids = eventIds.slice(i, i + 1000);
      const docs = await this.entries
        .find({ tenant, eventId: { $in: ids } }, { projection: { _id: 0, eventId: 1 } })
        .toArray();
      for (const d of docs) found.add(d.eventId);
    }
    return found;
  }

  /**
   * Entries of a tenant with seq in [fromSeq, toSeq] (toSeq undefined: to the end), ascending,
   * narrowed by `prefilter` on the indexed copies.
   */
  entriesCursor(
    tenant: string,
    fromSeq: number,
    toSeq: number | undefined,
    prefilter: EntryPrefilter = {},
    batchSize = 1000,
  ): FindCursor<EntryDoc> {
    const seq: { $gte: number; $lte?: number } = { $gte: fromSeq };
    if (toSeq !== undefined) seq.$lte = toSeq;
    return this.entries
      .find({ ...entryFilter(prefilter), tenant, seq }, { projection: { _id: 0 } })
      .sort({ seq: 1 })
      .batchSize(batchSize) as FindCursor<EntryDoc>;
  }

  /** The newest entry of a tenant (highest seq), or undefined for an empty chain. */
  async lastEntry(tenant: string): Promise<EntryDoc | undefined> {
    const doc = await this.entries
      .find({ tenant }, { projection: { _id: 0 } })
      .sort({ seq: -1 })
      .limit(1)
      .next();
    return doc ?? undefined;
  }

  // --- head hints --------------------------------------------------------------------------------

  async headHint(tenant: string): Promise<HeadDoc | undefined> {
    return (await this.heads.findOne({ _id: tenant })) ?? undefined;
  }

  /** Records a head hint unless a newer one is there (races between replicas are harmless). */
  async saveHeadHint(tenant: string, seq: number, hash: string, now: Date): Promise<void> {
    try {
      await this.writes.run(() =>
        this.heads.updateOne(
          { _id: tenant, seq: { $lt: seq } },
          { $set: { seq, hash, updatedAt: now } },
          { upsert: true },
        ),
      );
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err; // a newer hint exists
    }
  }

  // --- checkpoints -------------------------------------------------------------------------------

  /** Stores a checkpoint; false when one already exists at that (tenant, seq). */
  async insertCheckpoint(doc: CheckpointDoc): Promise<boolean> {
    try {
      await this.writes.run(() => this.checkpoints.insertOne({ ...doc }));
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async markPublished(tenant: string, seq: number): Promise<void> {
    await this.writes.run(() => this.checkpoints.updateOne({ tenant, seq }, { $set: { published: true } }));
  }

  async unpublishedCheckpoints(limit = 1000): Promise<CheckpointDoc[]> {
    return this.checkpoints
      .find({ published: false }, { projection: { _id: 0 } })
      .limit(limit)
      .toArray();
  }

  /** Checkpoints of a tenant, newest first, with seq < beforeSeq (undefined: all). */
  async checkpointsDesc(tenant: string, limit: number, beforeSeq?: number): Promise<CheckpointDoc[]> {
    const filter: Filter<CheckpointDoc> = beforeSeq === undefined ? { tenant } : { tenant, seq: { $lt: beforeSeq } };
    return this.checkpoints
      .find(filter, { projection: { _id: 0 } })
      .sort({ seq: -1 })
      .limit(limit)
      .toArray();
  }

  /** Checkpoints of a tenant with seq in [fromSeq, toSeq] (toSeq undefined: all), ascending. */
  async checkpointsAsc(tenant: string, fromSeq: number, toSeq?: number): Promise<CheckpointDoc[]> {
    const seq: { $gte: number; $lte?: number } = { $gte: fromSeq };
    if (toSeq !== undefined) seq.$lte = toSeq;
    return this.checkpoints
      .find({ tenant, seq }, { projection: { _id: 0 } })
      .sort({ seq: 1 })
      .toArray();
  }

  async checkpointAt(tenant: string, seq: number): Promise<CheckpointDoc | undefined> {
    return (await this.checkpoints.findOne({ tenant, seq }, { projection: { _id: 0 } })) ?? undefined;
  }

  // --- quarantine --------------------------------------------------------------------------------

  /**
   * Stores refused records; a record already quarantined (a redelivery: same topic, partition and
   * offset) is left as it is. Returns the documents stored by this call (not the redelivered ones).
   */
  async insertRejected(docs: readonly RejectedDoc[]): Promise<RejectedDoc[]> {
    const stored: RejectedDoc[] = [];
    for (const doc of docs) {
      try {
        await this.writes.run(() => this.rejected.insertOne({ ...doc }));
        stored.push(doc);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    return stored;
  }

  /** Quarantined records that claimed this tenant. */
  async countRejected(tenant: string): Promise<number> {
    return this.rejected.countDocuments({ tenant });
  }

  // --- archives ----------------------------------------------------------------------------------

  async archiveBoundary(tenant: string): Promise<ArchiveDoc | undefined> {
    return (await this.archives.findOne({ _id: tenant })) ?? undefined;
  }

  /** Records (or moves forward) a tenant's archive boundary; never moves it back. */
  async saveArchiveBoundary(doc: ArchiveDoc): Promise<void> {
    try {
      await this.writes.run(() =>
        this.archives.updateOne(
          { _id: doc._id, throughSeq: { $lte: doc.throughSeq } },
          {
            $set: {
              throughSeq: doc.throughSeq,
              headHash: doc.headHash,
              archiveSha256: doc.archiveSha256,
              archivedAt: doc.archivedAt,
            },
          },
          { upsert: true },
        ),
      );
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err; // a later boundary exists
    }
  }

  /** Deletes a tenant's entries with seq <= throughSeq; the number deleted. */
  async deleteEntriesThrough(tenant: string, throughSeq: number): Promise<number> {
    const r = await this.writes.run(() => this.entries.deleteMany({ tenant, seq: { $lte: throughSeq } }));
    return r.deletedCount;
  }
}

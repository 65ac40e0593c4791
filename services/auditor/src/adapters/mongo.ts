// The auditor's MongoDB: per-tenant chain entries, signed checkpoints, quarantined records.
// Size: one ChainStore over one layout (below): every collection's document type, key scheme and
// FerretDB workaround sit next to the layout comment that justifies them, so a change to the layout
// is read and reviewed in one place.
//
//   entries.<tenant>  one collection per tenant (issue 17): {_id: seq as 15 zero-padded digits,
//                 tenant, seq, eventId, raw (Binary: the exact record value), hash, prevHash (hex),
//                 time, agent, agents, action, resource, decision, reason, traceId, recordedAt}
//                 unique _id: no forks; unique eventId: redelivery is idempotent; (agents, _id) and
//                 (agent, _id): QueryEvents by agent on MongoDB only (`agents` is an array, a
//                 multikey index; entries stored before it existed have only `agent`); not on
//                 FerretDB, which never reads through them (ensureTenant)
//   checkpoints.<tenant>  one collection per tenant: {_id: seq as 15 zero-padded digits, tenant,
//                 seq, headHash, time (Unix s), keyId, signature (base64url), createdAt, published}
//   checkpoint_heads  {_id: tenant, seq}: the newest checkpoint stored (an _id lookup finds the
//                 latest checkpoint; a crash between the two writes leaves it one behind, which
//                 is safe: the previous checkpoint is as valid, and an older anchor only verifies more)
//   checkpoints_unpublished  {_id: "<tenant>/<seq id>", tenant, seq}: written before a checkpoint
//                 and removed once Kafka acknowledged it, so the republish at start reads only these
//   rejected     {_id: "<topic>/<partition>/<offset>", code, reason, key, subject, tenant, eventId, raw,
//                headers, ...}: the quarantine (records never chained: unsigned, badly signed, …);
//                _id makes a redelivered record's insert a no-op
//   archives     {_id: tenant, throughSeq, headHash, archiveSha256, archivedAt}: the boundary of
//                the archived (exported, then deleted) prefix of a chain: entries up to throughSeq
//                are gone from `entries`, and the chain verifies from headHash (a checkpoint's)
//   aggregates.<tenant>  one collection per tenant (aggregates.ts): {_id: first seq as 15 digits,
//                 tenant, firstSeq, lastSeq, prevHash, endHash (hex), minMs, maxMs, v, body (Binary:
//                 the counted groups), keyId, seal}, one per run of at most AGGREGATE_SPAN appended
//                 entries (one ends at every checkpoint); replaced whole (idempotent)
//   aggregates_listed.<tenant>  {_id: the aggregate's, lastSeq, events (Binary: each group's
//                 seqs and times, the listed events' digests), listed: [{s: seq, r: Binary}]}: what
//                 only a window that cuts the aggregate, or a report showing its listed rows, reads
//   heads        {_id: tenant, seq, hash, updatedAt}: a hint of each chain's head, so a replica
//                finds a head with one _id lookup; never trusted: a stale hint ends in a duplicate
//                key and a full, verified reload
//
// Why this layout: FerretDB 1.24 (SQLite backend) pushes down exactly one kind of filter, a lone
// string (or ObjectId) equality on `_id` (its explain says filterPushdown: true for nothing else;
// no range, $in, sort or secondary index is used for reads, and integers are not pushed down).
// Every other query reads and decodes the whole collection in FerretDB. So the cost of a read is
// bounded by its tenant only if the tenant's entries are a collection of their own, and the hot
// reads (a page after a seq, the chain head) are `_id` equality lookups on zero-padded seq strings.
// On MongoDB the same keys are an _id index range, in seq order.
//
// Checkpoints are a collection per tenant for the same reason: one is signed per active tenant
// every AUTHORITY_CHECKPOINT_INTERVAL (30 s), so a single collection grows with every tenant's age.
//
// Stores written before this layout kept every tenant in one `entries` collection ({tenant, seq,
// ...}, ObjectId _id) and one `checkpoints` collection: ensureIndexes() copies them into the
// per-tenant collections once, at start (idempotent: a copy already there is a duplicate key,
// skipped; crash-safe: an old collection is dropped only after every document was copied, so a
// crash means the next start copies again).
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
import { ensureIndexes, isDuplicateKeyError, type IndexSpec } from '@authority/platform';
import { isValidTenantId, type SignedCheckpoint } from '@authority/core';
import {
  AGGREGATE_FORMAT,
  aggregateSealInput,
  deflateStored,
  encodeAggregate,
  inflateStored,
  STORED_COMPRESSION,
  type AggregateSealer,
  type ChunkAggregate,
} from '../aggregates';

/** Most entries per insertMany (see the module comment). */
export const INSERT_CHUNK = 100;

/** The per-tenant entry collections are `entries.<tenant>`; `entries` alone is the layout before them. */
export const ENTRIES_COLLECTION = 'entries';
export const LEGACY_ENTRIES_COLLECTION = ENTRIES_COLLECTION;
/** Digits of an entry's `_id` (its seq, zero-padded: string order is seq order). */
export const SEQ_ID_DIGITS = 15;

/** A tenant's collection of entries or checkpoints (`kind`): the tenant id, or its hex for anything else. */
function perTenantName(kind: string, tenant: string): string {
  return isValidTenantId(tenant) ? `${kind}.${tenant}` : `${kind}.~${Buffer.from(tenant, 'utf8').toString('hex')}`;
}

/** The collection of a tenant's checkpoints. */
export function checkpointsCollectionName(tenant: string): string {
  return perTenantName(CHECKPOINTS_COLLECTION, tenant);
}

/** The `_id` of the entry at `seq`. */
export function entryId(seq: number): string {
  return String(seq).padStart(SEQ_ID_DIGITS, '0');
}

/**
 * The collection of a tenant's entries. Tenant ids are `[a-z0-9-]` (TENANT_ID_PATTERN), safe in a
 * collection name; anything else (only a damaged legacy document can carry one) is hex-encoded.
 */
export function entriesCollectionName(tenant: string): string {
  return perTenantName(ENTRIES_COLLECTION, tenant);
}
/** The per-tenant aggregate collections are `aggregates.<tenant>`. */
export const AGGREGATES_COLLECTION = 'aggregates';

/** The collection of a tenant's aggregates. */
export function aggregatesCollectionName(tenant: string): string {
  return perTenantName(AGGREGATES_COLLECTION, tenant);
}

/** The collection of a tenant's listed raw events (`aggregates_listed.<tenant>`). */
export function aggregatesListedCollectionName(tenant: string): string {
  return perTenantName(AGGREGATES_LISTED_COLLECTION, tenant);
}

/** An aggregate as stored (aggregates.ts has the rows' encoding in `body`). */
export interface AggregateDoc {
  _id: string;
  tenant: string;
  firstSeq: number;
  lastSeq: number;
  prevHash: string;
  endHash: string;
  minMs: number | null;
  maxMs: number | null;
  /** AGGREGATE_FORMAT of `body`. */
  v: number;
  /**
   * The encoded rows (aggregates.ts encodeAggregate), compressed as `z` says (absent: as they
   * are). The seal covers these stored bytes: readers check it before they inflate them.
   */
  body: Binary;
  z?: string;
  /** The auditor key whose seal this is, and the seal (aggregates.ts aggregateSealInput). */
  keyId: string;
  seal: string;
  /**
   * A merged aggregate's parts (first seqs of the aggregates it merged, ascending): their details
   * keep the raw listed events. Not sealed: a raw event is only used when its digest matches.
   */
  parts?: number[];
}

/**
 * An aggregate's detail: its events bytes (aggregates.ts encodeAggregate) and the raw events its
 * report rows list (ChunkAggregate.listedRaw), in `aggregates_listed.<tenant>` under the
 * aggregate's _id: a collection of their own, because FerretDB reads whole documents before it
 * projects, so a field left out would still cost the bulk read of the aggregates.
 */
interface ListedDoc {
  _id: string;
  lastSeq?: number;
  /** The events bytes, compressed as `z` says (as the aggregate's body). */
  events?: Binary;
  z?: string;
  listed: { s: number; r: Binary }[];
}

/** What `aggregateDetail` reads of an aggregate's detail. */
export interface AggregateDetail {
  /** The events bytes (undefined when absent). */
  events: Uint8Array | undefined;
  /** The raw listed events, by seq. */
  listed: Map<number, Uint8Array>;
}

/** The per-tenant collections of listed raw events are `aggregates_listed.<tenant>`. */
export const AGGREGATES_LISTED_COLLECTION = 'aggregates_listed';

/**
 * Stores `doc` under its _id, replacing any document there. An insert first: on unpatched
 * FerretDB 1.24 (SQLite) an insert checks the unique _id index, while a replace finds its document
 * by scanning the collection up to it (the whole collection for a new _id), which grew with every
 * aggregate stored at ingest. The replace only runs when the _id is taken (a retry, a repair, a
 * merge).
 */
async function insertOrReplace<T extends { _id: string }>(c: Collection<T>, doc: T): Promise<void> {
  try {
    await c.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    await c.replaceOne({ _id: doc._id } as Filter<T>, doc, { upsert: true });
  }
}

/** The stored form of an aggregate, sealed, and its events bytes (stored apart: `putAggregates`). */
function aggregateDocs(a: ChunkAggregate, sealer: AggregateSealer): { doc: AggregateDoc; events: Buffer } {
  const { body, events } = encodeAggregate(a);
  const stored = deflateStored(body);
  const doc: AggregateDoc = {
    _id: entryId(a.firstSeq),
    tenant: a.tenant,
    firstSeq: a.firstSeq,
    lastSeq: a.lastSeq,
    prevHash: a.prevHash,
    endHash: a.endHash,
    minMs: a.minMs,
    maxMs: a.maxMs,
    v: AGGREGATE_FORMAT,
    body: new Binary(stored),
    z: STORED_COMPRESSION,
    keyId: sealer.keyId,
    seal: sealer.seal(aggregateSealInput(a, AGGREGATE_FORMAT, stored)),
  };
  return { doc, events };
}

/** The per-tenant checkpoint collections are `checkpoints.<tenant>`; `checkpoints` alone is the layout before them. */
export const CHECKPOINTS_COLLECTION = 'checkpoints';
export const LEGACY_CHECKPOINTS_COLLECTION = CHECKPOINTS_COLLECTION;
export const CHECKPOINT_HEADS_COLLECTION = 'checkpoint_heads';
export const UNPUBLISHED_CHECKPOINTS_COLLECTION = 'checkpoints_unpublished';
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
  /** entryId(seq): the only key FerretDB looks up without reading the whole collection. */
  _id: string;
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

/** A checkpoint as stored in its tenant's collection. */
type StoredCheckpointDoc = CheckpointDoc & { _id: string };

interface CheckpointHeadDoc {
  _id: string;
  seq: number;
}

interface UnpublishedDoc {
  _id: string;
  tenant: string;
  seq: number;
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

/** QueryEvents(agent) on MongoDB: `agents` for entries that have it, `agent` for older ones. */
const AGENT_INDEXES: readonly IndexSpec[] = [
  { key: { agents: 1, _id: 1 }, name: 'ix_agents_id' },
  { key: { agent: 1, _id: 1 }, name: 'ix_agent_id' },
];

/** Point lookups in flight at once for one read (a page of entries, a head search). */
const LOOKUP_CONCURRENCY = 16;

export interface MigrationResult {
  /** Legacy entries and checkpoints copied into per-tenant collections by this run (not those already there). */
  copied: number;
  /** Legacy documents already in their per-tenant collection (a run that crashed, repeated). */
  alreadyThere: number;
  /** Legacy documents that could not be placed (no tenant string or no positive integer seq). */
  unplaceable: number;
}

export class ChainStore {
  readonly checkpointHeads: Collection<CheckpointHeadDoc>;
  readonly unpublished: Collection<UnpublishedDoc>;
  readonly rejected: Collection<RejectedDoc>;
  readonly heads: Collection<HeadDoc>;
  readonly archives: Collection<ArchiveDoc>;
  private readonly writes: Semaphore;
  private readonly tenantEntries = new Map<string, Collection<EntryDoc>>();
  /** Tenants whose collection and indexes this process has ensured (or is ensuring). */
  private readonly ensured = new Map<string, Promise<void>>();
  private ferretDB: Promise<boolean> | undefined;

  constructor(
    readonly db: Db,
    readonly client?: MongoClient,
    opts: ChainStoreOptions = {},
  ) {
    this.writes = new Semaphore(Math.max(1, opts.writeConcurrency ?? 1));
    this.checkpointHeads = db.collection<CheckpointHeadDoc>(CHECKPOINT_HEADS_COLLECTION);
    this.unpublished = db.collection<UnpublishedDoc>(UNPUBLISHED_CHECKPOINTS_COLLECTION);
    this.rejected = db.collection<RejectedDoc>(REJECTED_COLLECTION);
    this.heads = db.collection<HeadDoc>(HEADS_COLLECTION);
    this.archives = db.collection<ArchiveDoc>(ARCHIVES_COLLECTION);
  }

  /** The collection of one tenant's entries (every entry read or write goes through here). */
  entriesOf(tenant: string): Collection<EntryDoc> {
    let c = this.tenantEntries.get(tenant);
    if (c === undefined) {
      c = this.db.collection<EntryDoc>(entriesCollectionName(tenant));
      this.tenantEntries.set(tenant, c);
    }
    return c;
  }

  /** Whether the server is FerretDB (its buildInfo names a `ferretdbVersion`), asked once. */
  isFerretDB(): Promise<boolean> {
    if (this.ferretDB === undefined) {
      const asked = this.db
        .admin()
        .command({ buildInfo: 1 })
        .then((info) => typeof info['ferretdbVersion'] === 'string');
      asked.catch(() => (this.ferretDB = undefined));
      this.ferretDB = asked;
    }
    return this.ferretDB;
  }

  /**
   * Creates the tenant's entry collection and its indexes once per process (idempotent). The
   * agent indexes serve QueryEvents on MongoDB only: FerretDB 1.24 reads without them (module
   * comment) but maintains each on every insert, a JSON parse of the whole entry per index,
   * which cost ingest 37 % (5,988 against 9,573 entries/s measured with and without them), so
   * on FerretDB they are not created, and dropped from stores that have them.
   */
  ensureTenant(tenant: string): Promise<void> {
    let p = this.ensured.get(tenant);
    if (p === undefined) {
      p = (async () => {
        const entries = this.entriesOf(tenant) as unknown as Collection<Document>;
        const ferretDB = await this.isFerretDB();
        await ensureIndexes(entries, [
          { key: { eventId: 1 }, name: 'uq_event', unique: true },
          ...(ferretDB ? [] : AGENT_INDEXES),
        ]);
        if (ferretDB) {
          const present = new Set((await entries.listIndexes().toArray()).map((i) => i['name'] as string));
          for (const { name } of AGENT_INDEXES) if (present.has(name)) await entries.dropIndex(name);
        }
      })();
      p.catch(() => this.ensured.delete(tenant));
      this.ensured.set(tenant, p);
    }
    return p;
  }

  /** The collection of one tenant's aggregates (unique by _id, the first seq: no index to create). */
  aggregatesOf(tenant: string): Collection<AggregateDoc> {
    return this.db.collection<AggregateDoc>(aggregatesCollectionName(tenant));
  }

  /**
   * Stores aggregates, each replacing any document with its _id (its first seq): writing the same
   * aggregate twice (a retry, a repair racing ingest) leaves one copy, never a double count.
   */
  async putAggregates(
    aggs: readonly ChunkAggregate[],
    sealer: AggregateSealer,
    merged?: { parts: number[]; listed: Map<number, Uint8Array> },
  ): Promise<void> {
    for (const a of aggs) {
      const { doc, events } = aggregateDocs(a, sealer);
      if (merged !== undefined) doc.parts = merged.parts;
      // The detail first: an aggregate is only used once it is stored.
      const listed: ListedDoc = {
        _id: doc._id,
        lastSeq: a.lastSeq,
        events: new Binary(deflateStored(events)),
        z: STORED_COMPRESSION,
        listed:
          merged !== undefined
            ? [...merged.listed].map(([seq, raw]) => ({ s: seq, r: new Binary(raw) }))
            : (a.listedRaw ?? []).map((x) => ({ s: x.seq, r: new Binary(x.raw) })),
      };
      await this.writes.run(() => insertOrReplace(this.listedCollection(a.tenant), listed));
      await this.writes.run(() => insertOrReplace(this.aggregatesOf(a.tenant), doc));
    }
  }

  /**
   * Every aggregate of a tenant, by first seq (one read of the tenant's aggregate collection;
   * their events and raw listed events are apart: `aggregateDetail`).
   */
  async aggregates(tenant: string): Promise<AggregateDoc[]> {
    const docs = await this.aggregatesOf(tenant).find({}).toArray();
    return docs.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  }

  private listedCollection(tenant: string): Collection<ListedDoc> {
    return this.db.collection<ListedDoc>(aggregatesListedCollectionName(tenant));
  }

  /**
   * Deletes the aggregate that starts at `firstSeq` (a compaction merged it into the aggregate
   * before it; its detail stays: the merged one's report rows read their raw events there).
   */
  async deleteAggregate(tenant: string, firstSeq: number): Promise<void> {
    await this.writes.run(() => this.aggregatesOf(tenant).deleteOne({ _id: entryId(firstSeq) }));
  }

  /** The events bytes and raw listed events of the aggregate that starts at `firstSeq` (an _id lookup). */
  async aggregateDetail(tenant: string, firstSeq: number): Promise<AggregateDetail> {
    const doc = await this.listedCollection(tenant).findOne({ _id: entryId(firstSeq) });
    const listed = new Map<number, Uint8Array>();
    for (const x of Array.isArray(doc?.listed) ? doc.listed : []) {
      const raw = rawBytes(x?.r);
      if (typeof x?.s === 'number' && raw !== undefined) listed.set(x.s, raw);
    }
    return { events: inflateStored(rawBytes(doc?.events), doc?.z), listed };
  }

  /** The collection of one tenant's checkpoints (unique by _id, the seq: no index to create). */
  checkpointsOf(tenant: string): Collection<StoredCheckpointDoc> {
    return this.db.collection<StoredCheckpointDoc>(checkpointsCollectionName(tenant));
  }

  /** The one-time copy of a legacy single-collection store (module comment). */
  async ensureIndexes(onProgress?: () => Promise<void>): Promise<MigrationResult> {
    const entries = await this.migrateLegacyEntries(onProgress);
    const checkpoints = await this.migrateLegacyCheckpoints();
    return {
      copied: entries.copied + checkpoints.copied,
      alreadyThere: entries.alreadyThere + checkpoints.alreadyThere,
      unplaceable: entries.unplaceable + checkpoints.unplaceable,
    };
  }

  /** Copies the legacy `checkpoints` collection into per-tenant ones (as migrateLegacyEntries). */
  async migrateLegacyCheckpoints(): Promise<MigrationResult> {
    const result: MigrationResult = { copied: 0, alreadyThere: 0, unplaceable: 0 };
    const exists = await this.db.listCollections({ name: LEGACY_CHECKPOINTS_COLLECTION }, { nameOnly: true }).hasNext();
    if (!exists) return result;
    const legacy = this.db.collection<Document>(LEGACY_CHECKPOINTS_COLLECTION);
    for await (const old of legacy.find({}).batchSize(1000)) {
      const { _id: _legacyId, ...fields } = old;
      const doc = fields as CheckpointDoc;
      if (
        typeof doc.tenant !== 'string' ||
        typeof doc.seq !== 'number' ||
        !Number.isSafeInteger(doc.seq) ||
        doc.seq < 1
      ) {
        result.unplaceable++;
        continue;
      }
      // Through the normal write (marker, document, newest pointer), so a copy is as a new checkpoint.
      if (await this.insertCheckpoint(doc)) result.copied++;
      else {
        result.alreadyThere++;
        await this.advanceCheckpointHead(doc.tenant, doc.seq);
      }
    }
    if (result.unplaceable === 0) await legacy.drop();
    return result;
  }

  /**
   * Copies the legacy `entries` collection into per-tenant collections, then drops it. Idempotent
   * and crash-safe (module comment); `onProgress` runs after every copied chunk.
   */
  async migrateLegacyEntries(onProgress?: () => Promise<void>): Promise<MigrationResult> {
    const result: MigrationResult = { copied: 0, alreadyThere: 0, unplaceable: 0 };
    const exists = await this.db.listCollections({ name: LEGACY_ENTRIES_COLLECTION }, { nameOnly: true }).hasNext();
    if (!exists) return result;
    const legacy = this.db.collection<Document>(LEGACY_ENTRIES_COLLECTION);
    const pending = new Map<string, EntryDoc[]>();
    const flush = async (tenant: string) => {
      const docs = pending.get(tenant) ?? [];
      pending.delete(tenant);
      if (docs.length === 0) return;
      await this.ensureTenant(tenant);
      const entries = this.entriesOf(tenant);
      try {
        await this.writes.run(() => entries.insertMany(docs, { ordered: true }));
        result.copied += docs.length;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        // Copied in part by a run that crashed: one at a time, so a duplicate hides no other document.
        for (const doc of docs) {
          try {
            await this.writes.run(() => entries.insertOne(doc));
            result.copied++;
          } catch (e) {
            if (!isDuplicateKeyError(e)) throw e;
            result.alreadyThere++;
          }
        }
      }
      await onProgress?.();
    };
    for await (const old of legacy.find({}).batchSize(1000)) {
      const { _id: _legacyId, ...fields } = old;
      const tenant: unknown = fields['tenant'];
      const seq: unknown = fields['seq'];
      if (typeof tenant !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
        result.unplaceable++;
        continue;
      }
      const list = pending.get(tenant) ?? [];
      list.push({ ...(fields as Omit<EntryDoc, '_id'>), _id: entryId(seq) });
      pending.set(tenant, list);
      if (list.length >= INSERT_CHUNK) await flush(tenant);
    }
    for (const tenant of [...pending.keys()]) await flush(tenant);
    // Kept when some documents could not be placed: they are evidence, for an operator to look at.
    if (result.unplaceable === 0) await legacy.drop();
    return result;
  }

  /**
   * Inserts one tenant's entries in ordered chunks of at most INSERT_CHUNK (or `chunkLimit()`, asked
   * before each chunk), one after the other. Throws the first error (a duplicate key is code 11000);
   * `onChunk` runs after each stored chunk with it. `observe` (tracing) sees every insertMany: its
   * chunk, when it started and ended (epoch ms, sub-millisecond) and its error, before `onChunk`.
   */
  async insertEntries(
    docs: readonly EntryDoc[],
    onChunk?: (chunk: readonly EntryDoc[]) => void | Promise<void>,
    chunkLimit?: () => number,
    observe?: InsertObserver,
  ): Promise<void> {
    const tenant = docs[0]?.tenant;
    if (tenant === undefined) return;
    if (docs.some((d) => d.tenant !== tenant || d._id !== entryId(d.seq))) {
      throw new Error('insertEntries: every entry must be of one tenant, with _id = entryId(seq)');
    }
    await this.ensureTenant(tenant);
    const entries = this.entriesOf(tenant);
    for (let i = 0; i < docs.length; ) {
      const size = Math.max(1, Math.min(INSERT_CHUNK, chunkLimit?.() ?? INSERT_CHUNK));
      const chunk = docs.slice(i, i + size);
      await this.writes.run(async () => {
        if (observe === undefined) return entries.insertMany(chunk as EntryDoc[], { ordered: true });
        const started = epochMs();
        try {
          const result = await entries.insertMany(chunk as EntryDoc[], { ordered: true });
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
      const docs = await this.entriesOf(tenant)
        .find({ eventId: { $in: ids } }, { projection: { _id: 0, eventId: 1 } })
        .toArray();
      for (const d of docs) found.add(d.eventId);
    }
    return found;
  }

  /**
   * Entries of a tenant with seq in [fromSeq, toSeq] (toSeq undefined: to the end), ascending,
   * narrowed by `prefilter` on the indexed copies. On FerretDB this reads the tenant's collection
   * (never another tenant's); the hot paths use entriesFrom() instead.
   */
  entriesCursor(
    tenant: string,
    fromSeq: number,
    toSeq: number | undefined,
    prefilter: EntryPrefilter = {},
    batchSize = 1000,
  ): FindCursor<EntryDoc> {
    const id: { $gte: string; $lte?: string } = { $gte: entryId(Math.max(0, fromSeq)) };
    if (toSeq !== undefined) id.$lte = entryId(Math.max(0, toSeq));
    return this.entriesOf(tenant)
      .find({ ...entryFilter(prefilter), _id: id })
      .sort({ _id: 1 })
      .batchSize(batchSize) as FindCursor<EntryDoc>;
  }

  /** The entry at `seq`, by its _id (pushed down on FerretDB). */
  async entryAt(tenant: string, seq: number): Promise<EntryDoc | undefined> {
    return (await this.entriesOf(tenant).findOne({ _id: entryId(seq) })) ?? undefined;
  }

  /**
   * Up to `count` consecutive entries from `fromSeq`, by _id lookups (LOOKUP_CONCURRENCY at a time):
   * stops at the first seq that is not stored (the head, or a gap that verification reports).
   */
  async entriesFrom(tenant: string, fromSeq: number, count: number): Promise<EntryDoc[]> {
    const out: EntryDoc[] = [];
    for (let seq = Math.max(1, fromSeq); out.length < count; ) {
      const n = Math.min(LOOKUP_CONCURRENCY, count - out.length);
      const docs = await Promise.all(Array.from({ length: n }, (_, k) => this.entryAt(tenant, seq + k)));
      for (const doc of docs) {
        if (doc === undefined) return out;
        out.push(doc);
      }
      seq += n;
    }
    return out;
  }

  /**
   * The newest entry of a tenant (highest seq), or undefined for an empty chain: from the head hint
   * or the newest checkpoint (or seq 1), _id lookups at doubling distances find a seq that is not
   * stored, then a binary search between the last stored and that one: O(log distance) lookups,
   * where the distance is what was appended since the last hint or checkpoint.
   * A chain with a gap (damaged) yields the last entry before the gap after the starting point.
   */
  async lastEntry(tenant: string): Promise<EntryDoc | undefined> {
    // Start from the newer of the head hint (saved by the checkpoint timer) and the newest
    // checkpoint's seq (written with every checkpoint), both one _id lookup: the nearer the start,
    // the fewer lookups.
    const [hint, checkpointHead] = await Promise.all([
      this.headHint(tenant),
      this.checkpointHeads.findOne({ _id: tenant }),
    ]);
    const startOf = (seq: unknown) => (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : 0);
    let low = Math.max(startOf(hint?.seq), startOf(checkpointHead?.seq));
    // The hinted entry and the one after it at once: a current hint costs one round trip more.
    let [lowDoc, after] = await Promise.all([
      low > 0 ? this.entryAt(tenant, low) : Promise.resolve(undefined),
      this.entryAt(tenant, low + 1),
    ]);
    if (low > 0 && lowDoc === undefined) {
      // A hint beyond the chain: search from the start.
      low = 0;
      after = await this.entryAt(tenant, 1);
    }
    if (low === 0 && after === undefined) {
      // Entries up to an archive boundary were deleted (the head never is): search after it.
      const floor = startOf((await this.archiveBoundary(tenant))?.throughSeq);
      if (floor > 0) {
        low = floor;
        after = await this.entryAt(tenant, floor + 1);
      }
    }
    if (after === undefined) return lowDoc;
    low += 1;
    lowDoc = after;
    // One lookup at a time: on unpatched FerretDB concurrent lookups of one collection cost more
    // than they save (each one scanned it); an index search is ~1 ms, so a search stays cheap.
    let step = 2;
    let high = low + step;
    for (;;) {
      const doc = await this.entryAt(tenant, high);
      if (doc === undefined) break;
      low = high;
      lowDoc = doc;
      step *= 2;
      high = low + step;
    }
    // Invariant: `low` is stored (or 0), `high` is not.
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      const doc = await this.entryAt(tenant, mid);
      if (doc === undefined) high = mid;
      else {
        low = mid;
        lowDoc = doc;
      }
    }
    return lowDoc;
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

  /**
   * Stores a checkpoint; false when one already exists at that (tenant, seq). An unpublished one is
   * first recorded in `checkpoints_unpublished`, so a crash before its publication is republished.
   */
  async insertCheckpoint(doc: CheckpointDoc): Promise<boolean> {
    const { tenant, seq } = doc;
    if (!doc.published) {
      try {
        await this.writes.run(() => this.unpublished.insertOne({ _id: `${tenant}/${entryId(seq)}`, tenant, seq }));
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    try {
      await this.writes.run(() => this.checkpointsOf(tenant).insertOne({ ...doc, _id: entryId(seq) }));
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
    await this.advanceCheckpointHead(tenant, seq);
    return true;
  }

  /** Moves the tenant's newest-checkpoint pointer to `seq` unless it is already there or beyond. */
  private async advanceCheckpointHead(tenant: string, seq: number): Promise<void> {
    try {
      await this.writes.run(() =>
        this.checkpointHeads.updateOne({ _id: tenant, seq: { $lt: seq } }, { $set: { seq } }, { upsert: true }),
      );
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err; // a newer checkpoint is recorded
    }
  }

  async markPublished(tenant: string, seq: number): Promise<void> {
    await this.writes.run(() =>
      this.checkpointsOf(tenant).updateOne({ _id: entryId(seq) }, { $set: { published: true } }),
    );
    await this.writes.run(() => this.unpublished.deleteOne({ _id: `${tenant}/${entryId(seq)}` }));
  }

  /** Checkpoints stored but not acknowledged by Kafka (from their markers; stale markers are removed). */
  async unpublishedCheckpoints(limit = 1000): Promise<CheckpointDoc[]> {
    const out: CheckpointDoc[] = [];
    for (const marker of await this.unpublished.find({}).limit(limit).toArray()) {
      const doc = await this.checkpointAt(marker.tenant, marker.seq);
      if (doc !== undefined && doc.published === false) out.push(doc);
      // Published already, or never stored (a crash between the marker and the checkpoint).
      else await this.writes.run(() => this.unpublished.deleteOne({ _id: marker._id }));
    }
    return out;
  }

  /**
   * Checkpoints of a tenant, newest first, with seq < beforeSeq (undefined: all). The newest alone
   * (limit 1, no bound) is two _id lookups through `checkpoint_heads`; the rest reads the tenant's
   * checkpoint collection.
   */
  async checkpointsDesc(tenant: string, limit: number, beforeSeq?: number): Promise<CheckpointDoc[]> {
    if (limit === 1 && beforeSeq === undefined) {
      const head = await this.checkpointHeads.findOne({ _id: tenant });
      const doc = head && typeof head.seq === 'number' ? await this.checkpointAt(tenant, head.seq) : undefined;
      if (doc !== undefined) return [doc];
      // No pointer (or it names a missing checkpoint): read the collection.
    }
    const filter: Filter<StoredCheckpointDoc> = beforeSeq === undefined ? {} : { _id: { $lt: entryId(beforeSeq) } };
    return this.checkpointsOf(tenant)
      .find(filter, { projection: { _id: 0 } })
      .sort({ _id: -1 })
      .limit(limit)
      .toArray();
  }

  /** Checkpoints of a tenant with seq in [fromSeq, toSeq] (toSeq undefined: all), ascending. */
  async checkpointsAsc(tenant: string, fromSeq: number, toSeq?: number): Promise<CheckpointDoc[]> {
    const id: { $gte: string; $lte?: string } = { $gte: entryId(Math.max(0, fromSeq)) };
    if (toSeq !== undefined) id.$lte = entryId(Math.max(0, toSeq));
    return this.checkpointsOf(tenant)
      .find({ _id: id }, { projection: { _id: 0 } })
      .sort({ _id: 1 })
      .toArray();
  }

  async checkpointAt(tenant: string, seq: number): Promise<CheckpointDoc | undefined> {
    return (await this.checkpointsOf(tenant).findOne({ _id: entryId(seq) }, { projection: { _id: 0 } })) ?? undefined;
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

  /** Every tenant with a chain in this database (one `entries.<tenant>` collection each), sorted. */
  async tenants(): Promise<string[]> {
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    const tenants: string[] = [];
    for (const { name } of names) {
      if (!name.startsWith(`${ENTRIES_COLLECTION}.`)) continue;
      // The tenant as stored (names of tenants outside the id rule are hex-encoded).
      const doc = await this.db.collection<EntryDoc>(name).findOne({}, { projection: { tenant: 1 } });
      if (doc) tenants.push(doc.tenant);
    }
    return tenants.sort();
  }

  /**
   * Removes a tenant's chain: entries, checkpoints and the documents that point into them (head
   * hint, checkpoint head, unpublished markers, archive boundary). The collections and their
   * indexes stay. Only for a restore that replaces the chain (backup import --drop).
   */
  async clearTenantChain(tenant: string): Promise<void> {
    await this.entriesOf(tenant).deleteMany({});
    await this.checkpointsOf(tenant).deleteMany({});
    await this.aggregatesOf(tenant).deleteMany({});
    await this.listedCollection(tenant).deleteMany({});
    await Promise.all([
      this.heads.deleteOne({ _id: tenant }),
      this.checkpointHeads.deleteOne({ _id: tenant }),
      this.unpublished.deleteMany({ tenant }),
      this.archives.deleteOne({ _id: tenant }),
    ]);
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

  /**
   * Deletes a tenant's entries with seq <= throughSeq, and the aggregates that count only those
   * (one that straddles the boundary stays; readers count its entries after the boundary); the
   * number of entries deleted.
   */
  async deleteEntriesThrough(tenant: string, throughSeq: number): Promise<number> {
    const r = await this.writes.run(() => this.entriesOf(tenant).deleteMany({ _id: { $lte: entryId(throughSeq) } }));
    await this.writes.run(() => this.aggregatesOf(tenant).deleteMany({ lastSeq: { $lte: throughSeq } }));
    await this.writes.run(() =>
      this.listedCollection(tenant).deleteMany({
        $or: [{ lastSeq: { $lte: throughSeq } }, { 'listed.s': { $lte: throughSeq } }],
      }),
    );
    return r.deletedCount;
  }
}

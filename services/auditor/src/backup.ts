// Backup and restore of the audit chains without MongoDB's database tools (FerretDB ships none and
// `mongodump` is packaged nowhere we build): `exportChains` streams each tenant's chain entries
// (the raw event bytes exactly) and signed checkpoints as Extended JSON lines; `importChains`
// writes such a backup into a database that holds none of its tenants' chains (or replaces them:
// `drop`) and verifies every imported chain against its checkpoints; `checkSavedCheckpoints` holds
// the stored chains to checkpoints saved outside the database (from `<prefix>checkpoints`), which
// a backup rewritten with recomputed hashes cannot match. The CLI is backup-main.ts.
//
// A backup is consistent without stopping the auditor: chains only grow, so each tenant is read up
// to the head it had when its turn came, with the checkpoints up to that head.
import { BSON } from 'mongodb';
import type { CheckpointKeyResolver, SignedCheckpoint } from '@authority/core';
import { decodeEvent, pb } from '@authority/proto';
import {
  INSERT_CHUNK,
  rawBytes,
  toCheckpoint,
  type ChainStore,
  type CheckpointDoc,
  type EntryDoc,
} from './adapters/mongo';
import { verifyStored, type VerifyStoredResult } from './verify';

export const BACKUP_FORMAT = 'authority.audit-backup.v1';

/** Why a backup was refused or a check failed (the CLI prints the code and exits 65). */
export type BackupErrorCode =
  | 'NOT_A_BACKUP'
  | 'MALFORMED_LINE'
  | 'OUT_OF_ORDER'
  | 'TRUNCATED'
  | 'TARGET_NOT_EMPTY'
  | 'CHAIN_DOES_NOT_VERIFY'
  | 'MALFORMED_CHECKPOINT';

export class BackupError extends Error {
  override readonly name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Line =
  | { type: 'backup'; format: string; createdAt: Date }
  | { type: 'tenant'; tenant: string; headSeq: number }
  | { type: 'entry'; entry: EntryDoc }
  | { type: 'checkpoint'; checkpoint: CheckpointDoc }
  | { type: 'end'; tenants: number; entries: number; checkpoints: number };

const encode = (line: Line): string => `${BSON.EJSON.stringify(line, { relaxed: true })}\n`;

export interface ExportOptions {
  /** Only these tenants (default: every tenant with a chain). */
  tenants?: readonly string[];
  now?: () => Date;
}

/** The backup, line by line (each ends in "\n"): a header, per tenant its entries and checkpoints, an end line. */
export async function* exportChains(store: ChainStore, opts: ExportOptions = {}): AsyncGenerator<string> {
  const tenants = opts.tenants ?? (await store.tenants());
  yield encode({ type: 'backup', format: BACKUP_FORMAT, createdAt: (opts.now ?? (() => new Date()))() });
  let entries = 0;
  let checkpoints = 0;
  for (const tenant of tenants) {
    const headSeq = (await store.lastEntry(tenant))?.seq ?? 0;
    yield encode({ type: 'tenant', tenant, headSeq });
    if (headSeq > 0) {
      for await (const entry of store.entriesCursor(tenant, 1, headSeq)) {
        entries++;
        yield encode({ type: 'entry', entry });
      }
    }
    for (const doc of await store.checkpointsAsc(tenant, 0, headSeq)) {
      checkpoints++;
      const { tenant: t, seq, headHash, time, keyId, signature, createdAt, published } = doc;
      yield encode({
        type: 'checkpoint',
        checkpoint: { tenant: t, seq, headHash, time, keyId, signature, createdAt, published },
      });
    }
  }
  yield encode({ type: 'end', tenants: tenants.length, entries, checkpoints });
}

function parseLine(text: string, n: number): Line {
  let v: unknown;
  try {
    v = BSON.EJSON.parse(text, { relaxed: true });
  } catch (err) {
    throw new BackupError('MALFORMED_LINE', `line ${n}: not Extended JSON (${(err as Error).message})`);
  }
  const o = v as Record<string, unknown> | null;
  const bad = (what: string): never => {
    throw new BackupError('MALFORMED_LINE', `line ${n}: ${what}`);
  };
  if (typeof o !== 'object' || o === null) return bad('not an object');
  const isSeq = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  switch (o['type']) {
    case 'backup':
      return o as Line;
    case 'tenant':
      if (typeof o['tenant'] !== 'string' || o['tenant'] === '') return bad("field 'tenant' is not a tenant id");
      if (!isSeq(o['headSeq'])) return bad("field 'headSeq' is not a sequence number");
      return o as Line;
    case 'entry': {
      const e = o['entry'] as Record<string, unknown> | undefined;
      if (typeof e !== 'object' || e === null) return bad("field 'entry' is missing");
      if (typeof e['tenant'] !== 'string') return bad("field 'entry.tenant' is not a string");
      if (!isSeq(e['seq']) || e['seq'] === 0) return bad("field 'entry.seq' is not a sequence number");
      if (rawBytes(e['raw']) === undefined) return bad("field 'entry.raw' is not binary");
      return o as Line;
    }
    case 'checkpoint': {
      const c = o['checkpoint'] as Record<string, unknown> | undefined;
      if (typeof c !== 'object' || c === null) return bad("field 'checkpoint' is missing");
      if (typeof c['tenant'] !== 'string') return bad("field 'checkpoint.tenant' is not a string");
      if (!isSeq(c['seq'])) return bad("field 'checkpoint.seq' is not a sequence number");
      return o as Line;
    }
    case 'end':
      if (!isSeq(o['tenants']) || !isSeq(o['entries']) || !isSeq(o['checkpoints']))
        return bad("fields 'tenants', 'entries' and 'checkpoints' of the end line must be counts");
      return o as Line;
    default:
      return bad(`unknown line type ${JSON.stringify(o['type'])}`);
  }
}

export interface ImportOptions {
  /** Replace chains the target already holds for the backup's tenants (default: refuse). */
  drop?: boolean;
  /** The auditor's keys (active and previous): the checkpoints must verify with them. */
  keys: CheckpointKeyResolver;
  now?: () => Date;
}

export interface ImportedTenant {
  tenant: string;
  entries: number;
  checkpoints: number;
  /** The newest checkpoint the imported chain matched (0: none). */
  checkpointSeq: number;
}

/**
 * Imports a backup (its lines, in order) and verifies each tenant's chain against its checkpoints
 * once written. Throws BackupError at the first problem; what was written before stays (evidence,
 * and `drop` replaces it on the next attempt).
 */
export async function importChains(
  store: ChainStore,
  lines: AsyncIterable<string>,
  opts: ImportOptions,
): Promise<ImportedTenant[]> {
  const done: ImportedTenant[] = [];
  let n = 0;
  let header = false;
  let ended = false;
  const totals = { entries: 0, checkpoints: 0 };
  let current: { tenant: string; headSeq: number; next: number; pending: EntryDoc[]; cps: CheckpointDoc[] } | undefined;
  /** The open section, which the current line (`what`, of `tenant`) must belong to. */
  const sectionOf = (what: string, tenant: string) => {
    if (current === undefined || tenant !== current.tenant) {
      throw new BackupError('OUT_OF_ORDER', `line ${n}: ${what} of tenant ${tenant} outside its tenant's section`);
    }
    return current;
  };

  const flush = async (): Promise<void> => {
    if (current === undefined || current.pending.length === 0) return;
    const chunk = current.pending;
    current.pending = [];
    await store.insertEntries(chunk);
  };
  const finishTenant = async (): Promise<void> => {
    if (current === undefined) return;
    const { tenant, headSeq, next, cps } = current;
    await flush();
    if (next - 1 !== headSeq) {
      throw new BackupError(
        'TRUNCATED',
        `tenant ${tenant}: the backup holds entries up to seq ${next - 1}, its head is seq ${headSeq}`,
      );
    }
    for (const cp of cps) {
      if (!(await store.insertCheckpoint({ ...cp, createdAt: cp.createdAt ?? (opts.now ?? (() => new Date()))() }))) {
        throw new BackupError('OUT_OF_ORDER', `tenant ${tenant}: two checkpoints at seq ${cp.seq}`);
      }
    }
    const result = await verifyStored(store, { tenant, checkpoints: cps.map(toCheckpoint), keys: opts.keys });
    if (!result.ok) throw chainError(tenant, result);
    if (result.head.seq !== headSeq) {
      throw new BackupError(
        'CHAIN_DOES_NOT_VERIFY',
        `tenant ${tenant}: the restored chain ends at seq ${result.head.seq}, not ${headSeq}`,
      );
    }
    if (headSeq > 0) await store.saveHeadHint(tenant, headSeq, result.head.hash.toString('hex'), new Date());
    done.push({ tenant, entries: headSeq, checkpoints: cps.length, checkpointSeq: result.matchedCheckpoint?.seq ?? 0 });
    current = undefined;
  };

  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    if (ended) throw new BackupError('MALFORMED_LINE', `line ${n}: text after the end line`);
    const line = parseLine(text, n);
    if (!header) {
      if (line.type !== 'backup' || line.format !== BACKUP_FORMAT) {
        throw new BackupError('NOT_A_BACKUP', `line ${n}: expected the header of an ${BACKUP_FORMAT} backup`);
      }
      header = true;
      continue;
    }
    switch (line.type) {
      case 'backup':
        throw new BackupError('MALFORMED_LINE', `line ${n}: a second header`);
      case 'tenant': {
        await finishTenant();
        if (done.some((d) => d.tenant === line.tenant)) {
          throw new BackupError('OUT_OF_ORDER', `line ${n}: tenant ${line.tenant} appears twice`);
        }
        await prepareTarget(store, line.tenant, opts.drop === true);
        current = { tenant: line.tenant, headSeq: line.headSeq, next: 1, pending: [], cps: [] };
        break;
      }
      case 'entry': {
        const e = line.entry;
        const section = sectionOf('an entry', e.tenant);
        if (e.seq !== section.next || e.seq > section.headSeq) {
          throw new BackupError(
            'OUT_OF_ORDER',
            `line ${n}: tenant ${e.tenant}: entry seq ${e.seq} where seq ${section.next} was expected (head ${section.headSeq})`,
          );
        }
        section.next++;
        totals.entries++;
        section.pending.push(e);
        if (section.pending.length >= INSERT_CHUNK) await flush();
        break;
      }
      case 'checkpoint': {
        const cp = line.checkpoint;
        const section = sectionOf('a checkpoint', cp.tenant);
        if (cp.seq > section.headSeq) {
          throw new BackupError(
            'OUT_OF_ORDER',
            `line ${n}: tenant ${cp.tenant}: checkpoint seq ${cp.seq} beyond the head ${section.headSeq}`,
          );
        }
        totals.checkpoints++;
        section.cps.push({ ...cp, published: cp.published === true });
        break;
      }
      case 'end': {
        await finishTenant();
        const got = { tenants: done.length, ...totals };
        if (line.tenants !== got.tenants || line.entries !== got.entries || line.checkpoints !== got.checkpoints) {
          throw new BackupError(
            'TRUNCATED',
            `line ${n}: the end line counts ${line.tenants} tenants, ${line.entries} entries, ${line.checkpoints} checkpoints; the backup holds ${got.tenants}, ${got.entries}, ${got.checkpoints}`,
          );
        }
        ended = true;
        break;
      }
    }
  }
  if (!header) throw new BackupError('NOT_A_BACKUP', 'empty input: not a backup');
  if (!ended) {
    throw new BackupError(
      'TRUNCATED',
      `the backup ends at line ${n} without its end line${current ? ` (inside tenant ${current.tenant})` : ''}`,
    );
  }
  return done;
}

async function prepareTarget(store: ChainStore, tenant: string, drop: boolean): Promise<void> {
  const [last, checkpoint] = await Promise.all([store.lastEntry(tenant), store.checkpointsDesc(tenant, 1)]);
  if (last === undefined && checkpoint.length === 0) return;
  if (!drop) {
    throw new BackupError(
      'TARGET_NOT_EMPTY',
      `tenant ${tenant} already has a chain in database ${store.db.databaseName} (head seq ${last?.seq ?? 0}): ` +
        'import with --drop to replace it',
    );
  }
  await store.clearTenantChain(tenant);
}

function chainError(tenant: string, r: VerifyStoredResult): BackupError {
  return new BackupError(
    'CHAIN_DOES_NOT_VERIFY',
    `tenant ${tenant}: ${r.fault ?? 'fault'} at seq ${r.firstBadSeq ?? '?'}: ${r.message ?? ''}`,
  );
}

/**
 * A saved checkpoint: one line of `<prefix>checkpoints` (a proto3 JSON `Checkpoint`), or a
 * GetCheckpoint answer (`{"checkpoint": {...}}`). Its signature is checked where it is applied.
 */
export function parseSavedCheckpoint(text: string, n: number): SignedCheckpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupError('MALFORMED_CHECKPOINT', `line ${n}: not JSON`);
  }
  const inner =
    typeof json === 'object' && json !== null && 'checkpoint' in json
      ? (json as { checkpoint: unknown }).checkpoint
      : json;
  let cp: pb.Checkpoint;
  try {
    cp = decodeEvent(pb.CheckpointSchema, JSON.stringify(inner));
  } catch (err) {
    throw new BackupError('MALFORMED_CHECKPOINT', `line ${n}: not a Checkpoint (${(err as Error).message})`);
  }
  if (cp.tenant === '' || cp.seq <= 0n || cp.time === undefined || cp.signature.length === 0) {
    throw new BackupError('MALFORMED_CHECKPOINT', `line ${n}: a Checkpoint needs tenant, seq, time and signature`);
  }
  return {
    tenant: cp.tenant,
    seq: Number(cp.seq),
    headHash: cp.headHash,
    time: Number(cp.time.seconds),
    keyId: cp.keyId,
    signature: Buffer.from(cp.signature).toString('base64url'),
  };
}

export interface SavedCheckpointResult {
  tenant: string;
  /** The highest saved checkpoint of the tenant. */
  savedSeq: number;
  ok: boolean;
  /** The stored chain's head. */
  headSeq: number;
  fault?: string;
  firstBadSeq?: number;
  message?: string;
}

/**
 * Verifies each tenant's stored chain against its stored checkpoints AND the saved ones: every
 * saved checkpoint's signature with the auditor's keys, and the chain's hash at its seq against its
 * head. A chain shorter than a saved checkpoint is `truncated` (re-ingest has not reached it yet).
 */
export async function checkSavedCheckpoints(
  store: ChainStore,
  saved: readonly SignedCheckpoint[],
  keys: CheckpointKeyResolver,
): Promise<SavedCheckpointResult[]> {
  const byTenant = new Map<string, SignedCheckpoint[]>();
  for (const cp of saved) byTenant.set(cp.tenant, [...(byTenant.get(cp.tenant) ?? []), cp]);
  const results: SavedCheckpointResult[] = [];
  for (const [tenant, cps] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
    const savedSeq = Math.max(...cps.map((c) => c.seq));
    const stored = (await store.checkpointsAsc(tenant, 0)).map(toCheckpoint);
    // Every checkpoint is applied where it falls: its signature with the auditor's keys, its head
    // against the chain's hash at its seq (a saved one beyond the stored head: `truncated`).
    const r = await verifyStored(store, { tenant, checkpoints: [...stored, ...cps], keys });
    const headSeq = (await store.lastEntry(tenant))?.seq ?? 0;
    results.push({
      tenant,
      savedSeq,
      ok: r.ok,
      headSeq,
      ...(r.ok ? {} : { fault: r.fault ?? 'fault', firstBadSeq: r.firstBadSeq ?? 0, message: r.message ?? '' }),
    });
  }
  return results;
}

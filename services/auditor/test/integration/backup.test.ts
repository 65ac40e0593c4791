// The audit-chain backup tool (src/backup-main.ts) as an operator runs it, on the real FerretDB and
// Kafka: export while the auditor runs, more events after the backup, import into an empty
// database, an auditor on it re-ingests what came after the backup, and the restored chains verify
// (VerifyChain, and `check` against checkpoints saved from the checkpoints topic). Tampered,
// truncated and misplaced backups are refused with their reason code (exit 65).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chainHash, genesisHash } from '@authority/core';
import { silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { encodeEvent, pb } from '@authority/proto';
import { Binary, BSON, type MongoClient } from 'mongodb';
import { checkpointEvent } from '../../src/adapters/kafka';
import {
  checkpointsCollectionName,
  entriesCollectionName,
  toCheckpoint,
  type CheckpointDoc,
} from '../../src/adapters/mongo';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditorEnv,
  auditRecord,
  call,
  eventually,
  publishAll,
  type TestEnv,
  testRig,
} from '../helpers';

const TOOL = resolve(__dirname, '../../src/backup-main.js');
const A = 't-backup-a';
const B = 't-backup-b';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tool(env: TestEnv, args: string[], stdin = '', db?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [TOOL, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...auditorEnv(env, db ? { AUTHORITY_AUDITOR_DB: db } : {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
interface BackupLine {
  type: string;
  format?: string;
  entry?: { tenant: string; seq: number; raw: Binary; hash: string; prevHash: string };
  checkpoint?: { tenant: string; seq: number };
  checkpoints?: number;
}
const parse = (l: string) => BSON.EJSON.parse(l, { relaxed: true }) as BackupLine;

describe('audit chain backup and restore (real FerretDB and Kafka)', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let mongo: MongoClient;
  let source: RunningAuditor;
  let restored: RunningAuditor | undefined;
  let backup = '';
  let n = 0;
  const restoredDb = () => `${env.db}_restored`;
  const scratchDb = (name: string) => `${env.db}_${name}`;

  const publish = async (tenant: string, count: number) => {
    const records: EventMessage[] = [];
    for (let i = 0; i < count; i++) {
      records.push(auditRecord(auditEvent({ tenant, eventId: `${tenant}-${n}`, message: String(n++) })));
    }
    await publishAll(bus, `${env.prefix}audit`, records);
  };
  const checkpointAt = (db: string, tenant: string, seq: number) =>
    eventually(
      async () =>
        (await mongo.db(db).collection<CheckpointDoc>(checkpointsCollectionName(tenant)).findOne({ tenant, seq })) ??
        undefined,
      `checkpoint ${tenant}/${seq} in ${db}`,
      60_000,
      100,
    );

  before(async () => {
    ({ env, bus, mongo } = await testRig('backup'));
    // A checkpoint every 10 entries and none on a timer: they fall at 10, 20, ...
    source = await startAuditor(
      auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '10', AUTHORITY_CHECKPOINT_INTERVAL: '1h' }),
      { logger: silentLogger() },
    );
    await publish(A, 45);
    await publish(B, 25);
    await checkpointAt(env.db, A, 40);
    await checkpointAt(env.db, B, 20);
    await eventually(
      async () =>
        (await mongo.db(env.db).collection(entriesCollectionName(A)).countDocuments({ tenant: A })) === 45
          ? true
          : undefined,
      'all 45 entries of A chained',
    );
  });

  after(async () => {
    await restored?.stop();
    await source?.stop();
    await bus?.disconnect();
    for (const db of [env.db, restoredDb(), ...['notempty', 'edited', 'rewritten', 'truncated'].map(scratchDb)]) {
      await mongo
        ?.db(db)
        .dropDatabase()
        .catch(() => undefined);
    }
    await mongo?.close();
  });

  it('export while the auditor runs: every entry and checkpoint of every tenant, then an end line', async () => {
    const run = await tool(env, ['export']);
    assert.equal(run.code, 0, run.stderr);
    backup = run.stdout;
    const parsed = lines(backup).map(parse);
    assert.equal(parsed[0]?.format, 'authority.audit-backup.v1');
    const of = (type: string, tenant: string) =>
      parsed.filter((l) => l.type === type && (l.entry ?? l.checkpoint)?.tenant === tenant);
    assert.deepEqual(
      of('entry', A).map((l) => l.entry?.seq),
      Array.from({ length: 45 }, (_, i) => i + 1),
    );
    assert.equal(of('entry', B).length, 25);
    assert.ok(of('entry', A)[0]?.entry?.raw instanceof Binary, 'raw bytes kept as binary');
    assert.deepEqual(
      of('checkpoint', A).map((l) => l.checkpoint?.seq),
      [10, 20, 30, 40],
    );
    assert.deepEqual(parsed.at(-1), { type: 'end', tenants: 2, entries: 70, checkpoints: 6 });
  });

  it('import into an empty database, re-ingest what came after the backup: VerifyChain and the saved checkpoints agree', async () => {
    // After the backup: 15 more events of A, and the checkpoint at 60 saved from the topic.
    await publish(A, 15);
    const savedDoc = await checkpointAt(env.db, A, 60);
    const dir = mkdtempSync(join(tmpdir(), 'backup-test-'));
    const saved = join(dir, 'checkpoints.jsonl');
    writeFileSync(saved, `${encodeEvent(pb.CheckpointSchema, checkpointEvent(toCheckpoint(savedDoc))).toString()}\n`);

    const imported = await tool(env, ['import', '--db', restoredDb()], backup);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(
      lines(imported.stdout).map((l) => JSON.parse(l)),
      [
        { tenant: A, entries: 45, checkpoints: 4, checkpointSeq: 40, ok: true },
        { tenant: B, entries: 25, checkpoints: 2, checkpointSeq: 20, ok: true },
      ],
    );
    // Not re-ingested yet: the restored chain stops short of the saved checkpoint.
    const early = await tool(env, ['check', '--checkpoints', saved, '--db', restoredDb()]);
    assert.equal(early.code, 65, early.stdout);
    assert.match(early.stderr, /CHAIN_DOES_NOT_VERIFY: tenant t-backup-a: truncated at seq 46/);

    // An auditor on the restored database, its consumer group at the start of the audit topic
    // (docs: reset the group to before the backup): re-delivered events are no-ops.
    restored = await startAuditor(
      auditorConfig(
        { ...env, db: restoredDb() },
        {
          AUTHORITY_CHECKPOINT_EVERY: '10',
          AUTHORITY_CHECKPOINT_INTERVAL: '1h',
          AUTHORITY_AUDITOR_GROUP_ID: `auditor-${env.id}-restored`,
        },
      ),
      { logger: silentLogger() },
    );
    const verified = await eventually(
      async () => {
        const v = await call(auditorClient(restored!.address), 'VerifyChain', { tenant: A }, env.operatorKey);
        return v.ok && v.headSeq === '60' ? v : undefined;
      },
      'the restored chain of A re-ingested to seq 60',
      60_000,
    );
    assert.equal(verified.checked, '60');
    const b = await call(auditorClient(restored.address), 'VerifyChain', { tenant: B }, env.operatorKey);
    assert.equal(b.ok, true, b.message);
    assert.equal(b.headSeq, '25');
    const check = await tool(env, ['check', '--checkpoints', saved, '--db', restoredDb()]);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(JSON.parse(lines(check.stdout)[0] ?? '{}'), { tenant: A, savedSeq: 60, ok: true, headSeq: 60 });
    // The restored chain is the original, entry for entry.
    const hashes = async (db: string) =>
      (await mongo.db(db).collection(entriesCollectionName(A)).find({ tenant: A }).sort({ seq: 1 }).toArray()).map(
        (e) => e['hash'],
      );
    assert.deepEqual(await hashes(restoredDb()), await hashes(env.db));
  });

  it('a database that already holds a tenant: refused without --drop, replaced with it', async () => {
    const first = await tool(env, ['import', '--db', scratchDb('notempty')], backup);
    assert.equal(first.code, 0, first.stderr);
    const again = await tool(env, ['import', '--db', scratchDb('notempty')], backup);
    assert.equal(again.code, 65);
    assert.match(again.stderr, /^TARGET_NOT_EMPTY: tenant t-backup-a already has a chain .*head seq 45.*--drop/);
    const dropped = await tool(env, ['import', '--drop', '--db', scratchDb('notempty')], backup);
    assert.equal(dropped.code, 0, dropped.stderr);
  });

  it('an edited event in the backup: refused, the chain does not verify at that entry', async () => {
    const edited = lines(backup)
      .map((l) => {
        const o = parse(l);
        if (o.type !== 'entry' || o.entry!.tenant !== A || o.entry!.seq !== 17) return l;
        const event = JSON.parse(Buffer.from((o.entry!.raw as Binary).value()).toString('utf8'));
        event.message = 'nothing happened here';
        o.entry!.raw = new Binary(Buffer.from(JSON.stringify(event)));
        return BSON.EJSON.stringify(o, { relaxed: true });
      })
      .join('\n');
    const run = await tool(env, ['import', '--db', scratchDb('edited')], edited);
    assert.equal(run.code, 65);
    assert.match(run.stderr, /^CHAIN_DOES_NOT_VERIFY: tenant t-backup-a: modified at seq 17/);
  });

  it('a backup rewritten with recomputed hashes and without the checkpoints after the edit: imports, but the saved checkpoints expose it', async () => {
    let prev: Buffer = Buffer.alloc(0);
    const rewritten: string[] = [];
    let dropped = 0;
    for (const l of lines(backup)) {
      const o = parse(l);
      if (o.type === 'entry' && o.entry!.tenant === A) {
        const e = o.entry!;
        if (e.seq === 1) prev = genesisHash(A);
        if (e.seq >= 17) {
          if (e.seq === 17) {
            const event = JSON.parse(Buffer.from((e.raw as Binary).value()).toString('utf8'));
            event.message = 'nothing happened here';
            e.raw = new Binary(Buffer.from(JSON.stringify(event)));
          }
          e.prevHash = prev.toString('hex');
          e.hash = chainHash(A, e.seq, prev, (e.raw as Binary).value()).toString('hex');
        }
        prev = Buffer.from(e.hash as string, 'hex');
      }
      if (o.type === 'checkpoint' && o.checkpoint!.tenant === A && o.checkpoint!.seq >= 17) {
        dropped++;
        continue;
      }
      if (o.type === 'end') o.checkpoints = (o.checkpoints ?? 0) - dropped;
      rewritten.push(BSON.EJSON.stringify(o, { relaxed: true }));
    }
    const run = await tool(env, ['import', '--db', scratchDb('rewritten')], rewritten.join('\n'));
    assert.equal(run.code, 0, `consistent in itself: ${run.stderr}`);
    // The checkpoint at 20, saved from the topic, signed over the original chain.
    const saved = toCheckpoint(await checkpointAt(env.db, A, 20));
    const dir = mkdtempSync(join(tmpdir(), 'backup-test-'));
    const file = join(dir, 'checkpoints.jsonl');
    // The GetCheckpoint answer's form is accepted as well as the topic's.
    writeFileSync(file, `{"checkpoint":${encodeEvent(pb.CheckpointSchema, checkpointEvent(saved)).toString()}}\n`);
    const check = await tool(env, ['check', '--checkpoints', file, '--db', scratchDb('rewritten')]);
    assert.equal(check.code, 65, check.stdout);
    assert.match(check.stderr, /^CHAIN_DOES_NOT_VERIFY: tenant t-backup-a: forked at seq 20/);
    assert.equal(JSON.parse(lines(check.stdout)[0] ?? '{}').ok, false);
  });

  it('a truncated backup, a forged saved checkpoint and bad arguments: each refused with its reason', async () => {
    const all = lines(backup);
    const cut = await tool(env, ['import', '--db', scratchDb('truncated')], all.slice(0, 30).join('\n'));
    assert.equal(cut.code, 65);
    assert.match(
      cut.stderr,
      /^TRUNCATED: the backup ends at line 30 without its end line \(inside tenant t-backup-a\)/,
    );

    const notBackup = await tool(env, ['import', '--db', scratchDb('truncated')], '{"hello":1}\n');
    assert.equal(notBackup.code, 65);
    assert.match(notBackup.stderr, /^MALFORMED_LINE: line 1: unknown line type undefined/);

    const saved = toCheckpoint(await checkpointAt(env.db, A, 40));
    const forged = { ...saved, signature: Buffer.alloc(64, 7).toString('base64url') };
    const dir = mkdtempSync(join(tmpdir(), 'backup-test-'));
    const file = join(dir, 'forged.jsonl');
    writeFileSync(file, `${encodeEvent(pb.CheckpointSchema, checkpointEvent(forged)).toString()}\n`);
    const check = await tool(env, ['check', '--checkpoints', file]);
    assert.equal(check.code, 65);
    assert.match(check.stderr, /^CHAIN_DOES_NOT_VERIFY: tenant t-backup-a: \w+ at seq 40: .*signature/i);

    const usage = await tool(env, ['import', '--db', 'no/such db']);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /^--db: expected 1-63 letters/);
  });
});

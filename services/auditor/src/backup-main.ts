// The audit-chain backup tool, shipped in the auditor's image (docs/operations.md, "Back up and
// restore the audit chains"). It reads the auditor's own configuration (MongoDB, database, keys),
// so it runs wherever an auditor would, e.g. `kubectl exec deploy/auditor -- node <this> export`.
//   export [--tenant T]...               the backup (JSON lines) on stdout
//   import [--drop] [--db NAME]          a backup from stdin; one result line per tenant on stdout
//   check --checkpoints FILE|- [--db NAME]  the stored chains against saved checkpoints (JSON lines)
// Exit codes: 0 done, 64 usage, 65 a refused backup or a chain that does not verify (the reason
// code and message on stderr), 78 bad configuration, 70 anything else (MongoDB unreachable, …).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { cryptoReady } from '@authority/core';
import { ConfigError, connectMongo, loadConfig, silentLogger } from '@authority/platform';
import { ChainStore } from './adapters/mongo';
import { auditorConfigChecks, auditorConfigSchema } from './config';
import { AuditorKeys } from './keys';
import { BackupError, checkSavedCheckpoints, exportChains, importChains, parseSavedCheckpoint } from './backup';

const USAGE = `usage: backup.js export [--tenant T]...
       backup.js import [--drop] [--db NAME]          (the backup on stdin)
       backup.js check --checkpoints FILE|- [--db NAME] (saved Checkpoint JSON, one per line; -: stdin)
The auditor's environment configures MongoDB, the database and the keys.`;
const DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;

class UsageError extends Error {}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let args;
  try {
    args = parseArgs({
      args: rest,
      options: {
        tenant: { type: 'string', multiple: true },
        drop: { type: 'boolean' },
        db: { type: 'string' },
        checkpoints: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (command !== 'export' && command !== 'import' && command !== 'check') {
    throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  }
  if (args.db !== undefined && !DB_NAME.test(args.db)) {
    throw new UsageError(`--db: expected 1-63 letters, digits, "_" or "-", got ${JSON.stringify(args.db)}`);
  }
  if (command === 'check' && args.checkpoints === undefined) throw new UsageError('check needs --checkpoints FILE');
  const config = loadConfig(auditorConfigSchema, process.env, auditorConfigChecks());
  await cryptoReady();
  const keys = AuditorKeys.fromBase64Seed(
    config.AUTHORITY_AUDITOR_SIGNING_KEY.reveal(),
    config.AUTHORITY_AUDITOR_PREVIOUS_KEYS ?? [],
  );
  const dbName = args.db ?? config.AUTHORITY_AUDITOR_DB;
  const mongo = await connectMongo(config.MONGODB_URI, {
    appName: `${config.AUTHORITY_SERVICE_NAME}-backup`,
    logger: silentLogger(),
    database: dbName,
  });
  try {
    const store = new ChainStore(mongo.db(dbName), mongo);
    switch (command) {
      case 'export':
        for await (const line of exportChains(store, args.tenant ? { tenants: args.tenant } : {})) await write(line);
        return 0;
      case 'import': {
        await store.ensureIndexes();
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for (const t of await importChains(store, lines, { drop: args.drop === true, keys: keys.resolve })) {
          await write(`${JSON.stringify({ ...t, ok: true })}\n`);
        }
        return 0;
      }
      case 'check': {
        // `-`: from stdin (`kubectl exec -i … check --checkpoints - < saved.jsonl`).
        const file = args.checkpoints === '-' ? 0 : (args.checkpoints as string);
        const saved = readFileSync(file, 'utf8')
          .split('\n')
          .map((text, i) => ({ text, n: i + 1 }))
          .filter((l) => l.text.trim() !== '')
          .map((l) => parseSavedCheckpoint(l.text, l.n));
        const results = await checkSavedCheckpoints(store, saved, keys.resolve);
        for (const r of results) await write(`${JSON.stringify(r)}\n`);
        const bad = results.filter((r) => !r.ok);
        if (bad.length > 0) {
          throw new BackupError(
            'CHAIN_DOES_NOT_VERIFY',
            bad.map((r) => `tenant ${r.tenant}: ${r.fault} at seq ${r.firstBadSeq}: ${r.message}`).join('; '),
          );
        }
        return 0;
      }
    }
  } finally {
    await mongo.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exitCode = 64;
    } else if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 78;
    } else if (err instanceof BackupError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exitCode = 65;
    } else {
      process.stderr.write(`backup failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);

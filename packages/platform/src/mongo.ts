// MongoDB client helpers kept to what FerretDB v1 (the local server) supports: basic CRUD and
// unique indexes; no transactions, no change streams.
import {
  MongoClient,
  type Collection,
  type CreateIndexesOptions,
  type Document,
  type IndexSpecification,
} from 'mongodb';
import { Secret } from './config';
import type { Logger } from './logger';

export interface ConnectMongoOptions {
  appName: string;
  logger: Logger;
  /** How long an operation waits for a usable server (default 5 s): fail fast, report UNAVAILABLE. */
  serverSelectionTimeoutMS?: number;
  connectTimeoutMS?: number;
  /** Default 10. */
  maxPoolSize?: number;
  /** The database the service uses (logged; the URI's own default database is often `test`). */
  database?: string;
}

/** Host part of a connection string with credentials removed (for logs). */
export function redactMongoUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/, '$1[redacted]@');
}

/**
 * Connects (and pings) a MongoClient with short timeouts. The URI may be a `Secret`; it is
 * logged only with credentials removed.
 */
export async function connectMongo(uri: string | Secret, opts: ConnectMongoOptions): Promise<MongoClient> {
  const text = uri instanceof Secret ? uri.reveal() : uri;
  const client = new MongoClient(text, {
    appName: opts.appName,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 5_000,
    connectTimeoutMS: opts.connectTimeoutMS ?? 5_000,
    maxPoolSize: opts.maxPoolSize ?? 10,
  });
  try {
    await client.connect();
    await client.db().command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  opts.logger.info(
    { mongodb: redactMongoUri(text), db: opts.database ?? client.db().databaseName },
    'connected to MongoDB',
  );
  return client;
}

/** True for a unique-index violation (E11000), also inside bulk write errors. */
export function isDuplicateKeyError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; writeErrors?: unknown; errorResponse?: { code?: unknown } };
  if (e.code === 11000 || e.code === 11001 || e.errorResponse?.code === 11000) return true;
  const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  return writeErrors.some(
    (w: { code?: unknown; err?: { code?: unknown } }) => w?.code === 11000 || w?.err?.code === 11000,
  );
}

export interface IndexSpec {
  key: IndexSpecification & Document;
  name: string;
  unique?: boolean;
  /** Extra createIndex options (keep to what FerretDB supports: unique, name, expireAfterSeconds). */
  options?: CreateIndexesOptions;
}

/** Creates the indexes if missing (idempotent: same name and spec is a no-op). */
export async function ensureIndexes<T extends Document>(
  collection: Collection<T>,
  specs: readonly IndexSpec[],
): Promise<void> {
  for (const spec of specs) {
    await collection.createIndex(spec.key, {
      name: spec.name,
      ...(spec.unique ? { unique: true } : {}),
      ...spec.options,
    });
  }
}

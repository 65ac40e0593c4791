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
  /** How often the driver checks the server (default the driver's 10 s). */
  heartbeatFrequencyMS?: number;
  /** The database the service uses (logged; the URI's own default database is often `test`). */
  database?: string;
  /**
   * A server check still unanswered after this long means the driver's monitor is stuck, and the
   * client reconnects (see watchServerMonitors). Default: 4 × connectTimeoutMS, or
   * heartbeatFrequencyMS + 2 × connectTimeoutMS if longer, at least 20 s (20 s with the defaults).
   */
  monitorStallMs?: number;
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
  const connectTimeoutMS = opts.connectTimeoutMS ?? 5_000;
  const client = new MongoClient(text, {
    appName: opts.appName,
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 5_000,
    connectTimeoutMS,
    maxPoolSize: opts.maxPoolSize ?? 10,
    ...(opts.heartbeatFrequencyMS !== undefined ? { heartbeatFrequencyMS: opts.heartbeatFrequencyMS } : {}),
  });
  try {
    await client.connect();
    await client.db().command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  watchServerMonitors(client, {
    logger: opts.logger,
    // A polling check ends within connectTimeoutMS for the socket plus as much for `hello`; a
    // streaming one (MongoDB, not FerretDB) waits up to heartbeatFrequencyMS for its answer.
    stallMs:
      opts.monitorStallMs ??
      Math.max(4 * connectTimeoutMS, (opts.heartbeatFrequencyMS ?? 10_000) + 2 * connectTimeoutMS, 20_000),
  });
  opts.logger.info(
    { mongodb: redactMongoUri(text), db: opts.database ?? client.db().databaseName },
    'connected to MongoDB',
  );
  return client;
}

/**
 * Reconnects a client whose server monitor is stuck (issue 14, fault 5). In mongodb 7.9 (7.9.1
 * too), when the monitor's connection closes just as its polling check writes `hello` (seen with
 * FerretDB restarting under load, on a starved event loop), socket.write() on the destroyed
 * socket returns false and the check waits for a 'drain' that never comes: only an 'error' ends
 * that wait, and neither the socket timeout nor a CSOT deadline applies. The monitor never checks
 * again, the server stays Unknown, and every operation fails server selection until the process
 * restarts. A healthy check ends within its connect and socket timeouts (connectTimeoutMS each),
 * so a heartbeat started `stallMs` ago and still unanswered is stuck: the client is closed and
 * connected again (a new topology and monitors; Db and Collection objects keep working, and
 * operations started meanwhile fail and are retried by their callers). Uses only the driver's
 * public SDAM events.
 */
function watchServerMonitors(client: MongoClient, opts: { logger: Logger; stallMs: number }): void {
  /** When the unanswered check of each server started (ms, monotonic). */
  const pending = new Map<string, number>();
  let recovering: Promise<void> | undefined;
  /** The last reconnect failed (the server still down): try again on the next pass. */
  let retry = false;
  let closed = false;
  client.on('serverHeartbeatStarted', (e) => pending.set(e.connectionId, performance.now()));
  client.on('serverHeartbeatSucceeded', (e) => pending.delete(e.connectionId));
  client.on('serverHeartbeatFailed', (e) => pending.delete(e.connectionId));
  // The service's own close() ends the watch (and waits for a reconnect under way, so that it
  // closes the new topology, not the old one).
  const closeClient = client.close.bind(client);
  client.close = async (force?: boolean) => {
    closed = true;
    clearInterval(timer);
    await recovering;
    await closeClient(force);
  };
  const reconnect = async (): Promise<void> => {
    try {
      await closeClient();
      pending.clear();
      if (closed) return;
      await client.connect();
      retry = false;
      opts.logger.info('MongoDB client reconnected');
    } catch (err) {
      retry = true;
      opts.logger.warn({ err }, 'MongoDB client reconnect failed; retrying');
    } finally {
      recovering = undefined;
    }
  };
  const timer = setInterval(
    () => {
      if (closed || recovering) return;
      const now = performance.now();
      const stuck = [...pending].find(([, since]) => now - since > opts.stallMs);
      if (stuck !== undefined) {
        opts.logger.warn(
          { server: stuck[0], check_pending_ms: Math.round(now - stuck[1]) },
          'MongoDB server monitor stuck: reconnecting the client',
        );
      } else if (!retry) {
        return;
      }
      recovering = reconnect();
    },
    Math.min(1_000, opts.stallMs),
  );
  timer.unref();
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

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomId } from '@authority/core';
import type { MongoClient } from 'mongodb';
import {
  connectMongo,
  createLogger,
  ensureIndexes,
  isDuplicateKeyError,
  redactMongoUri,
  Secret,
  silentLogger,
  toGrpcError,
} from '../../src';
import { requireEnv } from './env';

const uri = requireEnv('MONGODB_URI');
const dbName = `it_platform_${Date.now()}_${randomId(4).replace(/[^A-Za-z0-9]/g, 'x')}`;

describe('MongoDB (real server)', { timeout: 60_000 }, () => {
  let client: MongoClient;

  before(async () => {
    client = await connectMongo(new Secret(uri), { appName: 'platform-it', logger: silentLogger() });
  });

  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it("logs the service's database, not the URI's default one", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'platform-it',
      destination: { write: (line: string) => void lines.push(line) } as never,
    });
    const other = await connectMongo(new Secret(uri), { appName: 'platform-it', logger, database: dbName });
    await other.close();
    const connected = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'connected to MongoDB');
    assert.equal(connected?.['db'], dbName);
  });

  it('connects and round-trips a document', async () => {
    const col = client.db(dbName).collection('docs');
    await col.insertOne({ _id: 'a' as never, tenant: 't1', n: 1 });
    const got = await col.findOne({ tenant: 't1' });
    assert.equal(got?.['n'], 1);
  });

  it('ensureIndexes creates a unique index idempotently and duplicates are detected', async () => {
    const col = client.db(dbName).collection('chain');
    const specs = [{ key: { tenant: 1, seq: 1 }, name: 'tenant_seq_unique', unique: true }];
    await ensureIndexes(col, specs);
    await ensureIndexes(col, specs); // idempotent
    const names = (await col.listIndexes().toArray()).map((i) => i['name'] as string);
    assert.ok(names.includes('tenant_seq_unique'), names.join(','));

    await col.insertOne({ tenant: 't1', seq: 1 });
    await col.insertOne({ tenant: 't2', seq: 1 });
    const dup = await col.insertOne({ tenant: 't1', seq: 1 }).then(
      () => assert.fail('expected a duplicate key error'),
      (e: unknown) => e,
    );
    assert.equal(isDuplicateKeyError(dup), true);
    const bulk = await col
      .insertMany(
        [
          { tenant: 't3', seq: 1 },
          { tenant: 't1', seq: 1 },
        ],
        { ordered: true },
      )
      .then(
        () => assert.fail('expected a bulk duplicate error'),
        (e: unknown) => e,
      );
    assert.equal(isDuplicateKeyError(bulk), true);
    assert.equal(isDuplicateKeyError(new Error('other')), false);
    assert.equal(await col.countDocuments({ tenant: 't1' }), 1);
  });

  it('fails fast (UNAVAILABLE) when the server is unreachable', async () => {
    const err = await connectMongo('mongodb://127.0.0.1:1/x', {
      appName: 'platform-it',
      logger: silentLogger(),
      serverSelectionTimeoutMS: 500,
    }).then(
      () => assert.fail('expected a connection failure'),
      (e: unknown) => e,
    );
    assert.equal(toGrpcError(err).code, 14 /* UNAVAILABLE */);
  });

  it('redacts credentials in URIs for logs', () => {
    assert.equal(redactMongoUri('mongodb://user:pw@h:27017/db'), 'mongodb://[redacted]@h:27017/db');
    assert.equal(redactMongoUri('mongodb://h:27017/db'), 'mongodb://h:27017/db');
  });
});

// subscribeAudit against the real stack (in-process services, real Kafka + FerretDB): the chained
// feed yields a tenant's entries in chain order with every hash recomputed, drops a redelivered
// record, and refuses a record whose hash does not recompute; the raw feed yields the producers'
// signed events and drops an unsigned record written to the audit topic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { createMessage, encodeEvent, pb } from '@authority/proto';
import {
  AuditFeedError,
  IssuerClient,
  subscribeAudit,
  type AuditFeedItem,
  type AuditSubscription,
  type ChainedAuditItem,
} from '../../src';
import { eventually, requireInfra, startStack, type StackHandle } from '@authority/test-helpers';

requireInfra();

/** The parts of the e2e stack this test uses beyond the shared handle. */
type FeedStack = StackHandle & {
  brokers: string[];
  eventKeys: Record<'issuer' | 'enforcer' | 'policy', { kid: string; publicKey: Uint8Array }>;
};

/** The next `n` items of a subscription (fails after `timeoutMs`; the caller closes the subscription). */
async function take(sub: AuditSubscription, n: number, timeoutMs = 60_000): Promise<AuditFeedItem[]> {
  const out: AuditFeedItem[] = [];
  let done = false;
  let failure: unknown;
  const reading = (async () => {
    while (out.length < n) {
      const r = await sub.next();
      if (r.done) return;
      out.push(r.value);
    }
  })()
    .catch((err: unknown) => void (failure = err))
    .finally(() => (done = true));
  await eventually(() => (done ? true : undefined), `${n} feed items`, { timeoutMs, intervalMs: 20 });
  await reading;
  if (failure !== undefined) throw failure;
  if (out.length < n) throw new Error(`the feed ended after ${out.length} of ${n} items`);
  return out;
}

describe('subscribeAudit against the real stack', { timeout: 240_000 }, () => {
  let stack: FeedStack;
  let producer: Producer;
  const tenant = `feed-${randomBytes(3).toString('hex')}`;
  let admin: IssuerClient;
  const mint = (agentId: string) =>
    admin.mint({
      agentId,
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        constraintsJson: '{"unconstrained":true}',
      },
      ttlSeconds: 600,
    });

  before(async () => {
    stack = (await startStack({ enforcers: 1, withAuditor: true })) as FeedStack;
    const operator = new IssuerClient(stack.issuer.address, { credential: stack.operatorKey, deadlineMs: 15_000 });
    const t = await operator.createTenant({ tenant, displayName: 'feed test' });
    operator.close();
    admin = new IssuerClient(stack.issuer.address, {
      credential: t.adminCredential?.secret ?? '',
      tenant,
      deadlineMs: 15_000,
    });
    await mint('reader');
    producer = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });
  after(async () => {
    admin?.close();
    await producer?.disconnect();
    await stack?.stop();
  });

  // First: the next test writes a tampered record on the chain topic, which ends every reader.
  test('the JSON-lines example forwards the chained feed, one verified entry per line, and stops on Ctrl-C', async (t) => {
    const example = resolve(__dirname, '../../../examples/audit-jsonl.mjs');
    const child = spawn(process.execPath, [example], {
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.brokers.join(','),
        AUTHORITY_TENANT: tenant,
        AUTHORITY_TOPIC_PREFIX: stack.prefix,
        AUDIT_FEED_GROUP: `${stack.prefix}feed-jsonl`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Killed however the test ends: a running example keeps this file from exiting.
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    const lines = await eventually(
      () => {
        const complete = out.split('\n').slice(0, -1);
        if (complete.length >= 4) return complete;
        throw new Error(`${complete.length} lines so far:\n${out}\n${err}`);
      },
      'four JSON lines from the example',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const items = lines.map(
      (l) => JSON.parse(l) as { kind: string; seq: number; tenant: string; event: { eventId: string } },
    );
    assert.deepEqual(
      items.slice(0, 4).map((i) => [i.kind, i.seq, i.tenant]),
      [1, 2, 3, 4].map((n) => ['chained', n, tenant]),
    );
    assert.ok(items.every((i) => typeof i.event.eventId === 'string' && i.event.eventId !== ''));
  });

  test('chained: in chain order, hashes recomputed; a redelivery is dropped, a tampered record refused', async () => {
    const sub = subscribeAudit({
      brokers: stack.brokers,
      groupId: `${stack.prefix}feed-chained`,
      tenant,
      topicPrefix: stack.prefix,
    });
    try {
      // tenant.create, key.create, credential.create, envelope.mint: the first entries of the chain.
      const first = (await take(sub, 4)) as ChainedAuditItem[];
      assert.deepEqual(
        first.map((i) => [i.kind, i.seq]),
        [
          ['chained', 1],
          ['chained', 2],
          ['chained', 3],
          ['chained', 4],
        ],
      );
      assert.ok(first.every((i) => i.tenant === tenant && i.event.eventId === i.eventId));
      assert.ok(first.some((i) => i.event.action === 'envelope.mint'));
      for (let k = 1; k < first.length; k++) assert.equal(first[k]?.prevHash, first[k - 1]?.hash);

      // A redelivered record (the same seq again) is not yielded twice: the next item is seq 5.
      const again = first[0] as ChainedAuditItem;
      const record = (seq: bigint, raw: Uint8Array, hash = again.hash) =>
        encodeEvent(
          pb.ChainRecordSchema,
          createMessage(pb.ChainRecordSchema, {
            tenant,
            seq,
            hash,
            prevHash: again.prevHash,
            eventId: again.eventId,
            rawEvent: raw,
          }),
        );
      await producer.send({
        topic: `${stack.prefix}chain`,
        messages: [{ key: tenant, value: record(1n, again.rawEvent) }],
      });
      await mint('writer');
      const [next] = (await take(sub, 1)) as ChainedAuditItem[];
      assert.equal(next?.seq, 5);
      assert.equal(next?.event.action, 'envelope.mint');

      // A record whose raw event was altered does not recompute: the feed ends with AuditFeedError.
      const altered = Buffer.from(
        Buffer.from(again.rawEvent).toString('utf8').replace('tenant.create', 'tenant.xreate'),
      );
      await producer.send({
        topic: `${stack.prefix}chain`,
        messages: [{ key: tenant, value: record(1000n, altered) }],
      });
      await assert.rejects(
        sub.next(),
        (err: unknown) => err instanceof AuditFeedError && /does not recompute/.test(err.message),
      );
    } finally {
      await sub.close();
    }
  });

  test("raw: the producers' signed events; an unsigned record on the audit topic is dropped", async () => {
    const trusted = Object.entries(stack.eventKeys)
      .map(([source, k]) => `${k.kid}=${Buffer.from(k.publicKey).toString('base64url')};sources=${source}`)
      .join(',');
    const rejected: string[] = [];
    const sub = subscribeAudit({
      brokers: stack.brokers,
      groupId: `${stack.prefix}feed-raw`,
      tenant,
      topicPrefix: stack.prefix,
      feed: 'raw',
      trustedKeys: trusted,
      onRejected: (r) => rejected.push(r.problem),
    });
    try {
      const forged = createMessage(pb.AuditEventSchema, {
        eventId: `forged-${randomBytes(4).toString('hex')}`,
        tenant,
        source: 'enforcer',
        action: 'check',
      });
      await producer.send({
        topic: `${stack.prefix}audit`,
        messages: [{ key: tenant, value: encodeEvent(pb.AuditEventSchema, forged) }],
      });
      await mint('auditor-bot');
      const seen: AuditFeedItem[] = [];
      while (!seen.some((i) => i.kind === 'raw' && i.event.actor?.agentId === 'auditor-bot')) {
        seen.push(...(await take(sub, 1)));
      }
      assert.ok(seen.every((i) => i.kind === 'raw' && i.tenant === tenant));
      assert.ok(
        !seen.some((i) => i.kind === 'raw' && i.eventId === forged.eventId),
        'the unsigned record is not yielded',
      );
      assert.ok(rejected.includes('unsigned'), JSON.stringify(rejected));
      const minted = seen.find((i) => i.kind === 'raw' && i.event.action === 'envelope.mint');
      assert.equal(minted?.kind === 'raw' ? minted.keyId : '', stack.eventKeys.issuer.kid);
      assert.equal(new Set(seen.map((i) => (i.kind === 'raw' ? i.eventId : ''))).size, seen.length, 'no repeats');
    } finally {
      await sub.close();
    }
  });
});

// Restarts: a version stored but never published (a crash between the MongoDB insert and the Kafka
// publish) is published by the next start before it reports SERVING; a consumer replaying the
// policies topic (the PolicyView the issuer and enforcer use) rebuilds the same latest version per
// tenant as the database holds; the restarted service serves the same policies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { decodeEvent, pb } from '@authority/proto';
import type { KafkaEventBus } from '@authority/platform';
import { PolicyView } from '@authority/views';
import { PolicyStore, versionKey } from '../../src/adapters/mongo';
import type { PolicyServiceHandle } from '../../src/index';
import {
  ferpaPolicyYaml,
  OPERATOR_KEY,
  PolicyClient,
  readTopics,
  smallPolicy,
  startService,
  withMongo,
  type TestEnv,
  testRig,
  closeRig,
} from './helpers';

let env: TestEnv;
let bus: KafkaEventBus;
let svc: PolicyServiceHandle | undefined;

before(async () => {
  ({ env, bus } = await testRig());
});

after(async () => {
  await svc?.stop();
  await closeRig({ env, bus });
});

/** Replays the policies topic into a PolicyView, as the issuer and enforcer do at start. */
async function replayView(): Promise<PolicyView> {
  const view = new PolicyView();
  const records = await readTopics(bus, [`${env.prefix}policies`]);
  for (const m of records) {
    if (m.value === null) continue;
    const problem = view.apply(decodeEvent(pb.PolicyVersionEventSchema, m.value));
    assert.equal(problem, undefined, 'every published policy parses');
  }
  return view;
}

test('a version left unpublished by a crash is published at the next start; replay rebuilds the same view', async () => {
  svc = await startService(env);
  let c = new PolicyClient(svc.port, OPERATOR_KEY);
  const ferpa = ferpaPolicyYaml();
  await c.put('college-1', ferpa, 0);
  await c.put('college-1', smallPolicy('second'), 1);
  await c.put('college-2', smallPolicy('gone'), 0);
  await c.delete('college-2', 1);
  const beforeRestart = await c.get('college-1');
  c.close();
  await svc.stop();
  svc = undefined;

  // The crash: version 3 of college-1 inserted (the linearization point passed) but never published.
  const crashedYaml = smallPolicy('committed-before-crash', ['vault:records:read', 'vault:records:write']);
  await withMongo(env, async (client) => {
    const store = new PolicyStore(client.db(env.database));
    await store.insert({
      _id: versionKey('college-1', 3),
      tenant: 'college-1',
      version: 3,
      yaml: crashedYaml,
      sha256: createHash('sha256').update(crashedYaml, 'utf8').digest('hex'),
      author: 'operator',
      createdAt: new Date(),
      deleted: false,
      diffSummary: 'agent reader: scopes added: vault:records:write',
      auditEventId: randomUUID(),
      published: false,
    });
  });
  const viewBefore = await replayView();
  assert.equal(viewBefore.versionOf('college-1'), 2, 'the crashed version is not on the topic yet');

  // Restart: SERVING only after the pending version is published.
  svc = await startService(env);
  assert.equal(svc.health.status(), 'SERVING');
  const view = await replayView();
  await withMongo(env, async (client) => {
    const store = new PolicyStore(client.db(env.database));
    for (const tenant of ['college-1', 'college-2']) {
      const latest = await store.latest(tenant);
      assert.ok(latest);
      assert.equal(latest.published, true, `${tenant} v${latest.version} marked published`);
      assert.equal(
        view.versionOf(tenant),
        latest.version,
        `replayed view of ${tenant} is at the stored latest version`,
      );
      if (latest.deleted) assert.equal(view.get(tenant), undefined, `${tenant} has no policy after its tombstone`);
      else assert.equal(view.get(tenant)?.sha256, latest.sha256);
    }
    assert.equal(await store.collection.countDocuments({ published: false }), 0);
  });
  assert.deepEqual(view.get('college-1')?.policy.agents.get('reader')?.scopes, [
    'vault:records:read',
    'vault:records:write',
  ]);

  // The restarted service serves the same data, byte for byte.
  c = new PolicyClient(svc.port, OPERATOR_KEY);
  const v2 = await c.get('college-1', 2);
  assert.equal(v2.policy!.yaml, beforeRestart.policy!.yaml);
  assert.equal((await c.get('college-1', 1)).policy!.yaml, ferpa);
  const latest = await c.get('college-1');
  assert.equal(latest.policy!.version, '3');
  assert.equal(latest.policy!.yaml, crashedYaml);
  // ... and continues the sequence.
  const next = await c.put('college-1', smallPolicy('after-restart'), 3);
  assert.equal(next.policy!.version, '4');

  // The audit event of the crashed version went out too (once: the same event id on every retry).
  const audit = (await readTopics(bus, [`${env.prefix}audit`]))
    .map((m) => decodeEvent(pb.AuditEventSchema, m.value!))
    .filter((e) => e.tenant === 'college-1' && e.action === 'policy.put');
  assert.deepEqual(audit.map((e) => e.policyVersion).sort(), ['1', '2', '3', '4']);
  c.close();
});

// End to end through the policies topic: the enforcer's answer changes after a policy tightening
// put through the policy service, for an envelope issued before it. The delay from PutPolicy
// returning to the enforcer denying is measured and printed (never asserted: tests do not time).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { cryptoReady, generateEd25519KeyPair, mintRoot, parsePolicy, randomId } from '@authority/core';
import { cloudEventHeaders, loadConfig, unaryCall, type KafkaEventBus } from '@authority/platform';
import {
  createMessage,
  encodeEvent,
  loadAuthorityProto,
  pb,
  timestampFromDate,
  type CheckRequest,
  type CheckResponse__Output,
  type EnforcerServiceClient,
} from '@authority/proto';
import { enforcerConfigSchema, startEnforcer, type EnforcerHandle } from '@authority/enforcer';
import type { PolicyServiceHandle } from '../../src/index';
import {
  eventually,
  ferpaPolicyYaml,
  OPERATOR_KEY,
  PolicyClient,
  publishCredential,
  startService,
  type TestEnv,
  testRig,
  closeRig,
} from './helpers';

const TENANT = 'college-enforced';
const AGENT = 'academic-advisor';
const RESOURCE = 'slos://vaults/student-records/s-1001';

let env: TestEnv;
let bus: KafkaEventBus;
let policy: PolicyServiceHandle | undefined;
let enforcer: EnforcerHandle | undefined;
let enforcerClient: EnforcerServiceClient | undefined;

before(async () => {
  await cryptoReady();
  ({ env, bus } = await testRig());
});

after(async () => {
  enforcerClient?.close();
  await enforcer?.stop();
  await policy?.stop();
  await closeRig({ env, bus });
});

test("the enforcer's answer changes after a policy tightening (delay measured and printed)", async () => {
  // Tenant state as the issuer would publish it: a signing key and a CHECKER credential.
  const key = generateEd25519KeyPair();
  const kid = `${TENANT}-k1`;
  await bus.publish(`${env.prefix}keys`, [
    {
      key: `${TENANT}/key/${kid}`,
      value: encodeEvent(
        pb.KeyEventSchema,
        createMessage(pb.KeyEventSchema, {
          tenant: TENANT,
          keyId: kid,
          publicKey: key.publicKey,
          status: pb.KeyStatus.ACTIVE,
          createdAt: timestampFromDate(new Date()),
        }),
      ),
      headers: cloudEventHeaders({
        id: randomId(),
        type: 'authority.key.v1',
        source: '/test',
        subject: TENANT,
        time: new Date(),
      }),
    },
  ]);
  const checker = await publishCredential(bus, env, TENANT, 'CHECKER');

  policy = await startService(env);
  const enforcerConfig = loadConfig(enforcerConfigSchema, {
    KAFKA_BROKERS: env.brokers,
    AUTHORITY_TOPIC_PREFIX: env.prefix,
    AUTHORITY_OPERATOR_API_KEY: OPERATOR_KEY,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    AUTHORITY_SHUTDOWN_GRACE: '5s',
    AUTHORITY_REFLECTION: 'false',
    AUTHORITY_EVENT_SIGNING_KEY: randomBytes(32).toString('base64url'),
  });
  enforcer = await startEnforcer({ ...enforcerConfig, AUTHORITY_GRPC_PORT: 0 }, { onFatal: () => undefined });
  await enforcer.ready;
  const { grpcObject } = loadAuthorityProto();
  const client = new grpcObject.authority.v1.EnforcerService(
    `127.0.0.1:${enforcer.port}`,
    grpc.credentials.createInsecure(),
  );
  enforcerClient = client;
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${checker.secret}`);
  const check = (req: CheckRequest) =>
    unaryCall(client.check.bind(client), req, { metadata: md, deadlineMs: 10_000 }) as Promise<CheckResponse__Output>;

  // Version 1: the FERPA policy. The advisor's envelope is minted within it.
  const admin = new PolicyClient(policy.port, OPERATOR_KEY);
  const yaml = ferpaPolicyYaml();
  const v1 = await admin.put(TENANT, yaml, 0);
  const advisor = parsePolicy(yaml).agents.get(AGENT);
  assert.ok(advisor, 'the fixture has the academic advisor');
  const { token } = mintRoot(
    {
      tenant: TENANT,
      agent: AGENT,
      scopes: advisor.scopes,
      resources: advisor.resources,
      context: [],
      constraints: advisor.constraints,
      ttlSeconds: 3600,
    },
    { secretKey: key.secretKey, kid, now: Math.floor(Date.now() / 1000) },
  );
  const request: CheckRequest = {
    token,
    requiredScope: 'vault:student-records:read',
    resource: RESOURCE,
    context: { purpose: 'advising appointment', recordCount: 1 },
  };
  const allowed = await eventually(async () => {
    const r = await check(request);
    return r.decision === 'ALLOW' && r.policyVersion === v1.policy!.version ? r : undefined;
  }, 'the enforcer to ALLOW under policy version 1');
  assert.equal(allowed.reason, 'ALLOWED');

  // Version 2 tightens: an explicit deny rule for the advisor on student records.
  const tightened = `${yaml.trimEnd()}\n\ndeny:\n  - agents: [${AGENT}]\n    resources: ["slos://vaults/student-records/*"]\n    description: "advising access suspended"\n`;
  let version = Number(v1.policy!.version);
  const delays: number[] = [];
  const putLatencies: number[] = [];
  // Five rounds: tighten (measure PutPolicy returning -> first DENY), then loosen again.
  for (let round = 0; round < 5; round++) {
    const putStarted = performance.now();
    const put = await admin.put(TENANT, tightened, version);
    const putReturned = performance.now();
    version = Number(put.policy!.version);
    const denied = await eventually(async () => {
      const r = await check(request);
      return r.decision === 'DENY' ? r : undefined;
    }, `the enforcer to DENY after the tightening (round ${round})`);
    delays.push(performance.now() - putReturned);
    putLatencies.push(putReturned - putStarted);
    assert.equal(denied.reason, 'POLICY_DENIED');
    assert.equal(denied.policyVersion, String(version), 'the decision names the new policy version');
    assert.match(denied.message, /advising access suspended/);

    const loosened = await admin.put(TENANT, yaml, version);
    version = Number(loosened.policy!.version);
    await eventually(async () => {
      const r = await check(request);
      return r.decision === 'ALLOW' && r.policyVersion === String(version) ? r : undefined;
    }, `the enforcer to ALLOW again after loosening (round ${round})`);
  }
  const sorted = [...delays].sort((x, y) => x - y);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  // Printed for the report; no assertion on time.
  console.log(
    JSON.stringify({
      name: 'policy_tightening_to_enforcer_deny',
      rounds: delays.length,
      delay_ms: {
        p50: round1(sorted[Math.floor(sorted.length / 2)]!),
        max: round1(sorted[sorted.length - 1]!),
        all: delays.map(round1),
      },
      put_policy_latency_ms: putLatencies.map(round1),
      note: 'delay = PutPolicy returned (both events acked by all in-sync replicas) -> first DENY from the enforcer, polling Check back to back; same host, real Kafka and FerretDB',
      machine: { cpus: cpus().length, node: process.version },
    }),
  );
  admin.close();
});

// The dev overlay applied for real on the cluster of scripts/k8s/up.sh (issue 18): Kafka and
// FerretDB come up from their local images, the topics Job completes, every service turns Ready
// through its native gRPC probes, and a Check sent from a client pod through the enforcer's
// Service is allowed and lands in the audit chain. Then the operations of docs/operations.md: a
// rolling update of the enforcer under a bounded load (PodDisruptionBudget respected, no wrong
// answer, no lost ALLOW event) and `kubectl rollout undo`.
// Applied through test/k8s/fixtures/dev-local (the services' local image tag, no collector pod).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadAuthorityProto } from '@authority/proto';
import type {
  CheckResponse__Output,
  CreateCredentialResponse__Output,
  CreateTenantResponse__Output,
  GetCheckpointResponse__Output,
  ListAuditorKeysResponse__Output,
  MintResponse__Output,
  QueryEventsResponse__Output,
  RotateKeyResponse__Output,
  VerifyChainResponse__Output,
} from '@authority/proto';
import { rpc } from '../src/stack';
import { eventually } from '../src/eventually';
import { REPO_ROOT, getJson, kubectl, kubectlRaw, render, toInput, type K8sObject } from '../src/k8s';

const NS = 'authority-dev';
const FIXTURE = resolve(REPO_ROOT, 'test/k8s/fixtures/dev-local');
const RUN = randomBytes(4).toString('hex');
const CLIENT_NS = `k8s-client-${RUN}`;
const SERVICES = ['issuer', 'policy', 'enforcer', 'auditor'] as const;
/** Label of the PersistentVolumes this suite creates (the cluster has no provisioner). */
const PV_LABEL = 'authority.dev/k8s-suite';
const READY_TIMEOUT = '600s';
/** The services' image tag: what scripts/containers/build-images.sh built and up.sh imported. */
const IMAGE_TAG = process.env['AUTHORITY_IMAGE_TAG'] ?? 'dev';

let objects: K8sObject[] = [];
const clients: grpc.Client[] = [];

function secretValue(name: string, key: string): string {
  const secret = objects.find((o) => o['kind'] === 'Secret' && o['metadata']['name'].startsWith(`${name}-`));
  assert.ok(secret, `Secret ${name} in the overlay`);
  const b64 = secret['data']?.[key] as string | undefined;
  assert.ok(b64, `${key} in Secret ${name}`);
  return Buffer.from(b64, 'base64').toString('utf8');
}

async function clusterAddress(service: string): Promise<string> {
  const svc = await getJson(['-n', NS, 'get', 'service', service]);
  const port = (svc['spec']['ports'] as K8sObject[]).find((p) => p['name'] === 'grpc');
  assert.ok(port, `port grpc of Service ${service}`);
  // The test runs on the node: kube-proxy routes the ClusterIP from here as from a pod.
  return `${svc['spec']['clusterIP']}:${port['port']}`;
}

function client(kind: 'IssuerService' | 'EnforcerService' | 'AuditorService', address: string): grpc.Client {
  const v1 = loadAuthorityProto().grpcObject.authority.v1 as unknown as Record<
    string,
    new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client
  >;
  const Ctor = v1[kind];
  if (Ctor === undefined) throw new Error(`no ${kind} in the contract`);
  const c = new Ctor(address, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

/** PersistentVolumes (hostPath under .infra/k8s/volumes) pre-bound to the StatefulSets' claims. */
async function createVolumes(): Promise<void> {
  const volumes: K8sObject[] = [];
  for (const sts of objects.filter((o) => o['kind'] === 'StatefulSet')) {
    for (const tpl of (sts['spec']['volumeClaimTemplates'] ?? []) as K8sObject[]) {
      for (let i = 0; i < Number(sts['spec']['replicas'] ?? 1); i++) {
        const claim = `${tpl['metadata']['name']}-${sts['metadata']['name']}-${i}`;
        const dir = resolve(REPO_ROOT, '.infra/k8s/volumes', RUN, claim);
        mkdirSync(dir, { recursive: true });
        // Any uid the pod runs as writes here (hostPath volumes get no fsGroup ownership).
        chmodSync(dir, 0o777);
        volumes.push({
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: `k8s-suite-${RUN}-${claim}`, labels: { [PV_LABEL]: 'true' } },
          spec: {
            capacity: { storage: tpl['spec']['resources']['requests']['storage'] },
            accessModes: tpl['spec']['accessModes'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName: '',
            claimRef: { namespace: NS, name: claim },
            hostPath: { path: dir, type: 'Directory' },
          },
        });
      }
    }
  }
  await kubectl(['apply', '-f', '-'], toInput(volumes));
}

before(async () => {
  // A clean start: the namespace and volumes of an earlier run go first.
  await kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=300s']);
  await kubectl(['delete', 'persistentvolume', '-l', PV_LABEL, '--ignore-not-found']);
  objects = await render(FIXTURE);
  if (IMAGE_TAG !== 'dev') {
    // Images built under another tag (AUTHORITY_IMAGE_TAG) than the fixture's.
    const retag = (image: string): string => image.replace(/^(authority\/[a-z]+):dev$/, `$1:${IMAGE_TAG}`);
    for (const o of objects) {
      for (const c of (o['spec']?.['template']?.['spec']?.['containers'] ?? []) as K8sObject[])
        c['image'] = retag(c['image']);
    }
  }
  await createVolumes();
  await kubectl(['apply', '-f', '-'], toInput(objects));
});

after(async () => {
  for (const c of clients) c.close();
  await kubectlRaw(['delete', 'namespace', CLIENT_NS, '--ignore-not-found', '--wait=false']);
});

describe('the dev overlay on a real cluster', () => {
  test('Kafka and FerretDB run from their local images and the topics Job completes', async () => {
    for (const sts of ['kafka', 'mongodb']) {
      await kubectl(['-n', NS, 'rollout', 'status', `statefulset/${sts}`, `--timeout=${READY_TIMEOUT}`]);
    }
    const pods = await getJson(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name in (kafka,mongodb)']);
    const images = (pods['items'] as K8sObject[]).map((p) => p['spec']['containers'][0]['image'] as string).sort();
    assert.deepEqual(images, ['authority-infra/ferretdb:1.24.2', 'authority-k8s/kafka:4.4.0']);
    await kubectl(['-n', NS, 'wait', '--for=condition=Complete', 'job/authority-topics', `--timeout=${READY_TIMEOUT}`]);
    const log = await kubectl(['-n', NS, 'logs', 'job/authority-topics']);
    for (const topic of ['keys', 'policies', 'revocations', 'audit', 'checkpoints']) {
      assert.match(log, new RegExp(`(created|checked) authority\\.${topic} `), `the Job handled authority.${topic}`);
    }
  });

  test('every service turns Ready through its native gRPC probes', async () => {
    for (const name of SERVICES) {
      await kubectl(['-n', NS, 'rollout', 'status', `deployment/${name}`, `--timeout=${READY_TIMEOUT}`]);
      const deployment = await getJson(['-n', NS, 'get', 'deployment', name]);
      const container = (deployment['spec']['template']['spec']['containers'] as K8sObject[]).find(
        (c) => c['name'] === 'server',
      );
      assert.ok(container, `${name}: container server`);
      const grpcPort = (container['ports'] as K8sObject[]).find((p) => p['name'] === 'grpc')?.['containerPort'];
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        assert.equal(container[probe]?.['grpc']?.['port'], grpcPort, `${name}: ${probe} is a gRPC probe`);
      }
      assert.equal(
        deployment['status']['readyReplicas'],
        deployment['spec']['replicas'],
        `${name}: all replicas Ready`,
      );
      const pods = await getJson(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/name=${name}`]);
      for (const pod of pods['items'] as K8sObject[]) {
        if (pod['metadata']['deletionTimestamp']) continue;
        const ready = (pod['status']['conditions'] as K8sObject[]).find((c) => c['type'] === 'Ready');
        assert.equal(ready?.['status'], 'True', `${pod['metadata']['name']} Ready`);
        assert.equal(pod['spec']['containers'][0]['image'], `authority/${name}:${IMAGE_TAG}`);
      }
    }
  });

  describe('a tenant', () => {
    const tenant = `k8s-${RUN}`;
    let issuer: grpc.Client;
    let enforcer: grpc.Client;
    let auditor: grpc.Client;
    let admin = '';
    let checker = '';
    let auditorKey = '';
    let token = '';
    const allowedRequest = (): object => ({
      token,
      requiredScope: 'vault:records:read',
      resource: 'slos://vaults/records/r-1',
    });
    const deniedRequest = (): object => ({
      token,
      requiredScope: 'vault:records:read',
      resource: 'slos://vaults/other/r-1',
    });

    before(async () => {
      issuer = client('IssuerService', await clusterAddress('issuer'));
      enforcer = client('EnforcerService', await clusterAddress('enforcer'));
      auditor = client('AuditorService', await clusterAddress('auditor'));
      const operatorKey = secretValue('authority-api-keys', 'AUTHORITY_OPERATOR_API_KEY');
      const created = await rpc<CreateTenantResponse__Output>(
        issuer,
        'CreateTenant',
        { tenant, displayName: tenant },
        operatorKey,
      );
      admin = created.adminCredential?.secret ?? '';
      const credential = async (kind: string): Promise<string> =>
        (await rpc<CreateCredentialResponse__Output>(issuer, 'CreateCredential', { tenant, kind }, admin)).credential
          ?.secret ?? '';
      checker = await credential('CHECKER');
      auditorKey = await credential('AUDITOR');
      token = await mint();
      // The enforcer replays the issuer's keys from Kafka; until the tenant's key arrived it fails
      // closed (never ALLOWs).
      await eventually(
        async () => {
          const r = await rpc<CheckResponse__Output>(enforcer, 'Check', allowedRequest(), checker);
          return r.decision === 'ALLOW' ? r : undefined;
        },
        'the enforcer knows the tenant key',
        120_000,
      );
    });

    async function mint(): Promise<string> {
      const minted = await rpc<MintResponse__Output>(
        issuer,
        'Mint',
        {
          tenant,
          agentId: 'records-reader',
          grant: {
            scopes: ['vault:records:read'],
            resources: ['slos://vaults/records/*'],
            constraintsJson: '{"unconstrained":true}',
          },
          ttlSeconds: 3600,
        },
        admin,
      );
      const sealed = minted.envelope?.token ?? '';
      assert.ok(sealed.length > 0, 'minted a sealed token');
      return sealed;
    }

    async function podNames(app: string): Promise<string[]> {
      const pods = await getJson(['-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/name=${app}`]);
      return (pods['items'] as K8sObject[]).map((p) => p['metadata']['name'] as string).sort();
    }

    async function auditedDecisions(ids: string[]): Promise<Map<string, string>> {
      return eventually(
        async () => {
          const seen = new Map<string, string>();
          let pageToken = '';
          do {
            const page = await rpc<QueryEventsResponse__Output>(
              auditor,
              'QueryEvents',
              { tenant, pageSize: 500, pageToken },
              auditorKey,
            );
            for (const e of page.entries) seen.set(e.event?.eventId ?? '', e.event?.decision ?? '');
            pageToken = page.nextPageToken ?? '';
          } while (pageToken !== '');
          return ids.every((id) => seen.has(id)) ? seen : undefined;
        },
        `${ids.length} decisions in the auditor's chain`,
        120_000,
      );
    }

    test('a Check from a client pod through the enforcer Service is allowed and lands in the audit chain', async () => {
      await kubectl(['create', 'namespace', CLIENT_NS]);
      await kubectl(['label', 'namespace', CLIENT_NS, 'pod-security.kubernetes.io/enforce=restricted']);
      await kubectl([
        '-n',
        CLIENT_NS,
        'create',
        'configmap',
        'check-client',
        `--from-file=check.mjs=${resolve(REPO_ROOT, 'test/k8s/fixtures/check-client.mjs')}`,
      ]);
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'check-client', namespace: CLIENT_NS },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'check',
              // Any image with node, grpc-js and the contract: the enforcer's own.
              image: `authority/enforcer:${IMAGE_TAG}`,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '/client/check.mjs'],
              env: [
                { name: 'ENFORCER_ADDR', value: `enforcer.${NS}.svc.cluster.local:50052` },
                { name: 'CHECKER_KEY', value: checker },
                { name: 'CHECK_REQUEST', value: JSON.stringify(allowedRequest()) },
              ],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'client', mountPath: '/client', readOnly: true }],
            },
          ],
          volumes: [{ name: 'client', configMap: { name: 'check-client' } }],
        },
      };
      await kubectl(['apply', '-f', '-'], toInput([pod]));
      await kubectl([
        '-n',
        CLIENT_NS,
        'wait',
        '--for=jsonpath={.status.phase}=Succeeded',
        'pod/check-client',
        '--timeout=180s',
      ]);
      const done = await getJson(['-n', CLIENT_NS, 'get', 'pod', 'check-client']);
      const message = done['status']['containerStatuses'][0]['state']['terminated']['message'] as string;
      const answer = JSON.parse(message) as { decision: string; decisionId: string; agentId: string };
      assert.equal(answer.decision, 'ALLOW', message);
      assert.equal(answer.agentId, 'records-reader');
      const audited = await auditedDecisions([answer.decisionId]);
      assert.equal(audited.get(answer.decisionId), 'ALLOW');
      const verified = await rpc<VerifyChainResponse__Output>(auditor, 'VerifyChain', { tenant }, auditorKey);
      assert.equal(verified.ok, true, JSON.stringify(verified));
    });

    test('a rolling update of the enforcer under load: PDB respected, no wrong answer, no lost ALLOW; rollout undo', async () => {
      // Two replicas, as in production (the PodDisruptionBudget allows one down).
      await kubectl(['-n', NS, 'scale', 'deployment/enforcer', '--replicas=2']);
      await kubectl(['-n', NS, 'rollout', 'status', 'deployment/enforcer', `--timeout=${READY_TIMEOUT}`]);
      const revisionBefore = (await getJson(['-n', NS, 'get', 'deployment', 'enforcer']))['metadata']['annotations'][
        'deployment.kubernetes.io/revision'
      ] as string;

      // Bounded load: one Check in flight at a time, alternating one that must be allowed and one
      // that must be denied. Transport errors and fail-closed denials are counted, never wrong.
      const answers: { expected: 'ALLOW' | 'DENY'; decision?: string; reason?: string; id?: string; error?: string }[] =
        [];
      let loading = true;
      const load = (async () => {
        for (let i = 0; loading; i++) {
          const expected = i % 2 === 0 ? 'ALLOW' : 'DENY';
          try {
            const r = await rpc<CheckResponse__Output>(
              enforcer,
              'Check',
              expected === 'ALLOW' ? allowedRequest() : deniedRequest(),
              checker,
              { deadlineMs: 5_000 },
            );
            answers.push({ expected, decision: r.decision, reason: r.reason, id: r.decisionId });
          } catch (err) {
            answers.push({ expected, error: String(err) });
          }
        }
      })();

      // The PodDisruptionBudget's view while the rollout runs.
      const budget: { healthy: number; desired: number }[] = [];
      const sampling = (async () => {
        while (loading) {
          const pdb = await getJson(['-n', NS, 'get', 'poddisruptionbudget', 'enforcer']);
          budget.push({ healthy: pdb['status']['currentHealthy'], desired: pdb['status']['desiredHealthy'] });
        }
      })();

      try {
        // An update of the pod template (as a new image or configuration would do).
        await kubectl([
          '-n',
          NS,
          'patch',
          'deployment/enforcer',
          '--type=merge',
          '-p',
          JSON.stringify({
            spec: { template: { metadata: { annotations: { 'authority.dev/k8s-suite-rollout': RUN } } } },
          }),
        ]);
        await kubectl(['-n', NS, 'rollout', 'status', 'deployment/enforcer', `--timeout=${READY_TIMEOUT}`]);
        const updated = await getJson(['-n', NS, 'get', 'deployment', 'enforcer']);
        assert.equal(updated['spec']['template']['metadata']['annotations']['authority.dev/k8s-suite-rollout'], RUN);
        assert.notEqual(updated['metadata']['annotations']['deployment.kubernetes.io/revision'], revisionBefore);

        await kubectl(['-n', NS, 'rollout', 'undo', 'deployment/enforcer']);
        await kubectl(['-n', NS, 'rollout', 'status', 'deployment/enforcer', `--timeout=${READY_TIMEOUT}`]);
        const undone = await getJson(['-n', NS, 'get', 'deployment', 'enforcer']);
        assert.equal(
          undone['spec']['template']['metadata']['annotations']?.['authority.dev/k8s-suite-rollout'],
          undefined,
          'rollout undo restored the previous pod template',
        );
        assert.equal(undone['status']['readyReplicas'], 2);
      } finally {
        loading = false;
        await Promise.all([load, sampling]);
      }

      assert.ok(budget.length > 0, 'sampled the budget');
      const breaches = budget.filter((b) => b.healthy < b.desired);
      assert.deepEqual(breaches, [], 'fewer healthy enforcers than the PodDisruptionBudget wants');
      const wrong = answers.filter(
        (a) =>
          (a.expected === 'DENY' && a.decision === 'ALLOW') ||
          (a.expected === 'ALLOW' && a.decision === 'DENY' && a.reason === 'RESOURCE_NOT_ALLOWED'),
      );
      assert.deepEqual(wrong, [], 'answers contradicting the grant');
      const allowed = answers.filter((a) => a.decision === 'ALLOW').map((a) => a.id ?? '');
      const denied = answers.filter((a) => a.expected === 'DENY' && a.decision === 'DENY');
      assert.ok(
        allowed.length >= 10 && denied.length >= 10,
        `load ran: ${allowed.length} allowed, ${denied.length} denied`,
      );
      const failedClosed = answers.filter(
        (a) => a.error !== undefined || (a.expected === 'ALLOW' && a.decision !== 'ALLOW'),
      );
      console.log(
        `rolling update: ${answers.length} checks, ${allowed.length} allowed, ${denied.length} denied, ` +
          `${failedClosed.length} failed closed; PDB samples ${budget.length}, min healthy ` +
          `${Math.min(...budget.map((b) => b.healthy))} (desired ${Math.max(...budget.map((b) => b.desired))})`,
      );
      // Every ALLOW answered during the rollout is in the tenant's chain.
      const audited = await auditedDecisions(allowed);
      for (const id of allowed) assert.equal(audited.get(id), 'ALLOW', `decision ${id} audited as ALLOW`);
      const verified = await rpc<VerifyChainResponse__Output>(auditor, 'VerifyChain', { tenant }, auditorKey);
      assert.equal(verified.ok, true, JSON.stringify(verified));
    });

    test("key rotation, a tenant's signing key: envelopes of both keys allowed, nothing restarts", async () => {
      const enforcersBefore = await podNames('enforcer');
      const rotated = await rpc<RotateKeyResponse__Output>(issuer, 'RotateKey', { tenant }, admin);
      assert.ok(rotated.active?.keyId && rotated.previous?.keyId, JSON.stringify(rotated));
      assert.notEqual(rotated.active?.keyId, rotated.previous?.keyId);
      const fresh = await mint();
      // The enforcers learn the new key from the keys topic; until then they fail closed.
      await eventually(
        async () => {
          const r = await rpc<CheckResponse__Output>(enforcer, 'Check', { ...allowedRequest(), token: fresh }, checker);
          return r.decision === 'ALLOW' ? r : undefined;
        },
        'an ALLOW for an envelope of the new key',
        120_000,
      );
      const old = await rpc<CheckResponse__Output>(enforcer, 'Check', allowedRequest(), checker);
      assert.equal(old.decision, 'ALLOW', `the previous key still verifies its envelopes: ${old.reason}`);
      assert.deepEqual(await podNames('enforcer'), enforcersBefore, 'no enforcer restarted');
    });

    test("key rotation, the auditor's signing key: Secret + rollout restart; old checkpoints verify, new ones use the new key", async () => {
      const before = await eventually(
        async () => {
          const r = await rpc<GetCheckpointResponse__Output>(auditor, 'GetCheckpoint', { tenant }, auditorKey);
          return r.checkpoint && Number(r.checkpoint.seq) > 0 ? r.checkpoint : undefined;
        },
        'a checkpoint of the tenant chain',
        120_000,
      );
      const keys = await rpc<ListAuditorKeysResponse__Output>(auditor, 'ListAuditorKeys', {}, auditorKey);
      const active = keys.keys.find((k) => k.active);
      assert.ok(active, JSON.stringify(keys));
      assert.equal(before.keyId, active.keyId, 'the checkpoint is signed by the active key');
      // docs/operations.md, "The auditor's signing key", steps 2 and 3, on the Secret the
      // Deployment reads (the dev overlay's generated name).
      const deployment = await getJson(['-n', NS, 'get', 'deployment', 'auditor']);
      const env = deployment['spec']['template']['spec']['containers'][0]['env'] as K8sObject[];
      const secretName = env.find((e) => e['name'] === 'AUTHORITY_AUDITOR_SIGNING_KEY')?.['valueFrom']['secretKeyRef'][
        'name'
      ] as string;
      assert.ok(secretName, 'the auditor reads its key from a Secret');
      const secretYaml = await kubectl([
        '-n',
        NS,
        'create',
        'secret',
        'generic',
        secretName,
        `--from-literal=AUTHORITY_AUDITOR_SIGNING_KEY=${randomBytes(32).toString('base64')}`,
        `--from-literal=AUTHORITY_AUDITOR_PREVIOUS_KEYS=${Buffer.from(active.publicKey).toString('base64')}`,
        '--dry-run=client',
        '-o',
        'yaml',
      ]);
      await kubectl(['apply', '-f', '-'], secretYaml);
      await kubectl(['-n', NS, 'rollout', 'restart', 'deployment/auditor']);
      await kubectl(['-n', NS, 'rollout', 'status', 'deployment/auditor', `--timeout=${READY_TIMEOUT}`]);

      const rotated = await eventually(
        async () => {
          const r = await rpc<ListAuditorKeysResponse__Output>(auditor, 'ListAuditorKeys', {}, auditorKey);
          const now = r.keys.find((k) => k.active);
          return now && now.keyId !== active.keyId ? r : undefined;
        },
        'the new auditor key active',
        120_000,
      );
      const previous = rotated.keys.find((k) => k.keyId === active.keyId);
      assert.equal(previous?.active, false, 'the replaced key is verify-only');
      const newKeyId = rotated.keys.find((k) => k.active)?.keyId;
      const old = await rpc<VerifyChainResponse__Output>(
        auditor,
        'VerifyChain',
        { tenant, checkpointSeq: before.seq },
        auditorKey,
      );
      assert.equal(old.ok, true, `the old checkpoint still verifies: ${JSON.stringify(old)}`);
      // A new event, then a checkpoint signed by the new key.
      await rpc<CheckResponse__Output>(enforcer, 'Check', allowedRequest(), checker);
      const after = await eventually(
        async () => {
          const r = await rpc<GetCheckpointResponse__Output>(auditor, 'GetCheckpoint', { tenant }, auditorKey);
          return r.checkpoint?.keyId === newKeyId && Number(r.checkpoint?.seq) > Number(before.seq)
            ? r.checkpoint
            : undefined;
        },
        'a checkpoint signed by the new auditor key',
        180_000,
      );
      const verified = await rpc<VerifyChainResponse__Output>(
        auditor,
        'VerifyChain',
        { tenant, checkpointSeq: after?.seq },
        auditorKey,
      );
      assert.equal(verified.ok, true, JSON.stringify(verified));
    });
  });
});

// Every overlay of deploy/k8s against a real API server (issue 18): `kubectl apply
// --dry-run=server --warnings-as-errors` in the overlay's own namespace, which enforces the
// `restricted` Pod Security Standard; and negative fixtures (the overlays' own objects broken one
// way each) fail with the server's own message. Needs the cluster of scripts/k8s/up.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { REPO_ROOT, ensurePrometheusRuleCrd, kubectl, kubectlRaw, render, toInput, type K8sObject } from '../src/k8s';

const OVERLAYS = ['dev', 'prod'] as const;
const rendered = new Map<string, K8sObject[]>();

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x['kind'] === kind && x['metadata']?.['name'] === name);
  assert.ok(o, `${kind}/${name} in the overlay`);
  return structuredClone(o);
}

/** Server-side dry run of OBJECTS with warnings as errors. */
function dryRun(objects: K8sObject[]): ReturnType<typeof kubectlRaw> {
  return kubectlRaw(['apply', '--dry-run=server', '--warnings-as-errors', '-f', '-'], toInput(objects));
}

before(async () => {
  // prod ships a PrometheusRule: its CRD, as prometheus-operator defines it, validates it.
  await ensurePrometheusRuleCrd();
  for (const overlay of OVERLAYS) {
    rendered.set(overlay, await render(resolve(REPO_ROOT, 'deploy/k8s/overlays', overlay)));
  }
});

describe('overlays against the API server', () => {
  for (const overlay of OVERLAYS) {
    test(`${overlay}: the server accepts every object, warnings as errors, in a namespace enforcing "restricted"`, async () => {
      const objects = rendered.get(overlay) ?? [];
      const namespaces = objects.filter((o) => o['kind'] === 'Namespace');
      assert.equal(namespaces.length, 1, 'the overlay creates its namespace');
      const ns = namespaces[0] as K8sObject;
      assert.equal(ns['metadata']['labels']['pod-security.kubernetes.io/enforce'], 'restricted');
      // A dry-run namespace is not kept: the namespace must exist for its objects' dry run.
      await kubectl(['apply', '-f', '-'], toInput([ns]));
      // What an operator runs (kustomize inside kubectl), against the server.
      const r = await kubectlRaw([
        'apply',
        '--dry-run=server',
        '--warnings-as-errors',
        '-k',
        resolve(REPO_ROOT, 'deploy/k8s/overlays', overlay),
      ]);
      assert.equal(r.code, 0, `the server refused ${overlay}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', 'no warning');
      const accepted = r.stdout.split('\n').filter((l) => /\(server dry run\)$/.test(l));
      assert.equal(accepted.length, objects.length, r.stdout);
      const live = JSON.parse(await kubectl(['get', 'namespace', ns['metadata']['name'], '-o', 'json'])) as K8sObject;
      assert.equal(live['metadata']['labels']['pod-security.kubernetes.io/enforce'], 'restricted');
    });
  }
});

describe('negative fixtures fail with the server message', () => {
  const ns = `k8s-neg-${randomBytes(4).toString('hex')}`;
  const inNamespace = (o: K8sObject): K8sObject => {
    o['metadata'] = { name: o['metadata']['name'], namespace: ns, labels: o['metadata']['labels'] };
    return o;
  };

  before(async () => {
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
  });

  after(async () => {
    await kubectlRaw(['delete', 'namespace', ns, '--wait=false']);
  });

  test('the unmodified objects the fixtures start from are accepted', async () => {
    const dev = rendered.get('dev') ?? [];
    const prod = rendered.get('prod') ?? [];
    const r = await dryRun([
      inNamespace(find(dev, 'Deployment', 'enforcer')),
      inNamespace(find(prod, 'HorizontalPodAutoscaler', 'enforcer')),
      inNamespace(find(prod, 'PodDisruptionBudget', 'enforcer')),
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a root container: PodSecurity "restricted" refuses it', async () => {
    const deployment = inNamespace(find(rendered.get('dev') ?? [], 'Deployment', 'enforcer'));
    const container = deployment['spec']['template']['spec']['containers'][0];
    container['securityContext']['runAsUser'] = 0;
    container['securityContext']['runAsNonRoot'] = false;
    deployment['spec']['template']['spec']['securityContext']['runAsUser'] = 0;
    deployment['spec']['template']['spec']['securityContext']['runAsNonRoot'] = false;
    const r = await dryRun([deployment]);
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /would violate PodSecurity "restricted:latest"/);
    assert.match(r.stderr, /runAsNonRoot != true/);
    assert.match(r.stderr, /runAsUser=0/);
  });

  test('an unknown field: strict field validation names it', async () => {
    const deployment = inNamespace(find(rendered.get('dev') ?? [], 'Deployment', 'enforcer'));
    const container = deployment['spec']['template']['spec']['containers'][0];
    container['securityContxt'] = container['securityContext'];
    const r = await dryRun([deployment]);
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /unknown field "spec\.template\.spec\.containers\[0\]\.securityContxt"/);
  });

  test('an impossible HorizontalPodAutoscaler: maxReplicas below minReplicas', async () => {
    const hpa = inNamespace(find(rendered.get('prod') ?? [], 'HorizontalPodAutoscaler', 'enforcer'));
    hpa['spec']['minReplicas'] = 5;
    hpa['spec']['maxReplicas'] = 2;
    const r = await dryRun([hpa]);
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /spec\.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  });

  test('an impossible PodDisruptionBudget: minAvailable and maxUnavailable together', async () => {
    const pdb = inNamespace(find(rendered.get('prod') ?? [], 'PodDisruptionBudget', 'enforcer'));
    pdb['spec']['minAvailable'] = 2;
    pdb['spec']['maxUnavailable'] = 1;
    const r = await dryRun([pdb]);
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /minAvailable and maxUnavailable cannot be both set/);
  });

  test('a PodDisruptionBudget above 100 %', async () => {
    const pdb = inNamespace(find(rendered.get('dev') ?? [], 'PodDisruptionBudget', 'enforcer'));
    pdb['spec']['maxUnavailable'] = '150%';
    const r = await dryRun([pdb]);
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /spec\.maxUnavailable: Invalid value: "150%": must not be greater than 100%/);
  });
});

// Offline checks of the Kubernetes manifests (issue 7): every overlay renders with kustomize,
// every object validates against the Kubernetes schemas (kubernetes-models 4.5.0), every
// container is probed, limited and locked down, every referenced ConfigMap/Secret key exists or
// is operator-provided (deploy/k8s/external-secrets.yaml, docs/operations.md), every variable the
// services' config schemas require is set and every value set parses, and the network policies
// allow exactly the paths of ARCHITECTURE §1.
//   node --test deploy/k8s/test/
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';

import { allowedConnections } from '../lib/netpol.mjs';
import { GRPC_PORTS, K8S_DIR, REPO_ROOT, SERVICES, platform, readYaml, render, serviceConfig } from '../lib/repo.mjs';

/**
 * The Prometheus Operator's PrometheusRule (not in kubernetes-models): the fields Prometheus needs,
 * checked strictly enough that a misspelt key or an empty expression fails.
 */
class PrometheusRule {
  constructor(o) {
    this.o = o;
  }
  validate() {
    const { o } = this;
    assert.deepEqual(Object.keys(o).sort(), ['apiVersion', 'kind', 'metadata', 'spec'], 'PrometheusRule keys');
    assert.ok(o.metadata?.name, 'metadata.name');
    assert.deepEqual(Object.keys(o.spec), ['groups'], 'spec has only groups');
    assert.ok(Array.isArray(o.spec.groups) && o.spec.groups.length > 0, 'spec.groups');
    for (const g of o.spec.groups) {
      assert.ok(typeof g.name === 'string' && g.name !== '', 'group name');
      assert.ok(Array.isArray(g.rules) && g.rules.length > 0, `group ${g.name}: rules`);
      for (const r of g.rules) {
        const allowed = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
        for (const k of Object.keys(r)) assert.ok(allowed.has(k), `rule key ${k}`);
        assert.ok((r.alert === undefined) !== (r.record === undefined), 'a rule is an alert or a record');
        assert.ok(typeof r.expr === 'string' && r.expr.trim() !== '', `${r.alert ?? r.record}: expr`);
        for (const v of Object.values({ ...r.labels, ...r.annotations })) assert.equal(typeof v, 'string');
      }
    }
  }
}

/** Every kind the manifests emit, with its schema class. A new kind must be added here. */
const MODELS = {
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const OVERLAYS = ['dev', 'prod'];
const RENDERED = {
  base: render('base'),
  dev: render('overlays/dev'),
  prod: render('overlays/prod'),
};
const EXTERNAL = readYaml(join(K8S_DIR, 'external-secrets.yaml'));
const OPERATIONS_DOC = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];
const LONG_RUNNING = ['Deployment', 'StatefulSet'];
const id = (o) => `${o.kind}/${o.metadata.name}`;
const workloads = (objs) => objs.filter((o) => WORKLOAD_KINDS.includes(o.kind));
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (w) => w.spec.template.spec;
const allContainers = (w) => [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers];
/** The Deployment of a service (its container is `server`). */
const serviceDeployment = (objs, svc) => {
  const d = find(objs, 'Deployment', svc);
  assert.ok(d, `Deployment ${svc} missing`);
  return d;
};
const serverContainer = (d) => {
  const c = podSpec(d).containers.find((x) => x.name === 'server');
  assert.ok(c, `${id(d)}: no container named "server"`);
  return c;
};

/** An object by its rendered name, or by its generator name (kustomize appends `-<10-char hash>`). */
function byName(objs, kind, name) {
  return (
    objs.find((o) => o.kind === kind && o.metadata.name === name) ??
    objs.find(
      (o) =>
        o.kind === kind &&
        new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[a-z0-9]{10}$`).test(o.metadata.name),
    )
  );
}

function decodeSecretData(secret, key) {
  if (secret.stringData && key in secret.stringData) return secret.stringData[key];
  if (secret.data && key in secret.data) return Buffer.from(secret.data[key], 'base64').toString('utf8');
  return undefined;
}

function externalKey(secretName, key) {
  const s = EXTERNAL.secrets.find((x) => x.name === secretName);
  return s?.keys.find((k) => k.key === key);
}

/**
 * Every ConfigMap/Secret reference of a workload: { kind, name, key?, optional, where }.
 * Covers env valueFrom, envFrom, volumes (configMap, secret, projected).
 */
function references(w) {
  const refs = [];
  for (const c of allContainers(w)) {
    for (const e of c.env ?? []) {
      const cm = e.valueFrom?.configMapKeyRef;
      const s = e.valueFrom?.secretKeyRef;
      if (cm)
        refs.push({
          kind: 'ConfigMap',
          name: cm.name,
          key: cm.key,
          optional: cm.optional === true,
          where: `${id(w)} ${c.name} env ${e.name}`,
        });
      if (s)
        refs.push({
          kind: 'Secret',
          name: s.name,
          key: s.key,
          optional: s.optional === true,
          where: `${id(w)} ${c.name} env ${e.name}`,
        });
    }
    for (const ef of c.envFrom ?? []) {
      if (ef.configMapRef)
        refs.push({
          kind: 'ConfigMap',
          name: ef.configMapRef.name,
          optional: ef.configMapRef.optional === true,
          where: `${id(w)} ${c.name} envFrom`,
        });
      if (ef.secretRef)
        refs.push({
          kind: 'Secret',
          name: ef.secretRef.name,
          optional: ef.secretRef.optional === true,
          where: `${id(w)} ${c.name} envFrom`,
        });
    }
  }
  for (const v of podSpec(w).volumes ?? []) {
    const vols = [v, ...(v.projected?.sources ?? [])];
    for (const src of vols) {
      const cm = src.configMap;
      const s = src.secret;
      if (cm) {
        if ((cm.items ?? []).length === 0)
          refs.push({
            kind: 'ConfigMap',
            name: cm.name,
            optional: cm.optional === true,
            where: `${id(w)} volume ${v.name}`,
          });
        for (const it of cm.items ?? [])
          refs.push({
            kind: 'ConfigMap',
            name: cm.name,
            key: it.key,
            optional: cm.optional === true,
            where: `${id(w)} volume ${v.name}`,
          });
      }
      if (s) {
        const name = s.secretName ?? s.name;
        if ((s.items ?? []).length === 0)
          refs.push({ kind: 'Secret', name, optional: s.optional === true, where: `${id(w)} volume ${v.name}` });
        for (const it of s.items ?? [])
          refs.push({
            kind: 'Secret',
            name,
            key: it.key,
            optional: s.optional === true,
            where: `${id(w)} volume ${v.name}`,
          });
      }
    }
  }
  return refs;
}

/**
 * The environment a container would see, resolved from the rendered objects (generated Secrets
 * decoded; operator-provided Secrets take the `example` of external-secrets.yaml; fieldRefs get a
 * stand-in). `env` entries override `envFrom` ones, as in Kubernetes.
 */
function resolveEnv(objs, w, c) {
  const env = {};
  for (const ef of c.envFrom ?? []) {
    if (ef.configMapRef) {
      const cm = byName(objs, 'ConfigMap', ef.configMapRef.name);
      if (cm) Object.assign(env, cm.data ?? {});
    }
    if (ef.secretRef) {
      const s = byName(objs, 'Secret', ef.secretRef.name);
      for (const k of Object.keys({ ...(s?.data ?? {}), ...(s?.stringData ?? {}) })) env[k] = decodeSecretData(s, k);
    }
  }
  for (const e of c.env ?? []) {
    if ('value' in e) {
      env[e.name] = String(e.value);
      continue;
    }
    const cm = e.valueFrom?.configMapKeyRef;
    const s = e.valueFrom?.secretKeyRef;
    const f = e.valueFrom?.fieldRef;
    if (cm) {
      const value = byName(objs, 'ConfigMap', cm.name)?.data?.[cm.key];
      if (value !== undefined) env[e.name] = value;
    } else if (s) {
      const generated = byName(objs, 'Secret', s.name);
      const value = generated
        ? decodeSecretData(generated, s.key)
        : s.optional
          ? undefined
          : externalKey(s.name, s.key)?.example;
      if (value !== undefined) env[e.name] = value;
    } else if (f) {
      env[e.name] = f.fieldPath === 'metadata.name' ? `${w.metadata.name}-7d9f8c6b5-x2x4z` : `fieldref:${f.fieldPath}`;
    }
  }
  return env;
}

const MOUNTED = mkdtempSync(join(tmpdir(), 'authority-k8s-mounts-'));
/**
 * The env with every value that names a file in one of the container's Secret or ConfigMap volumes
 * replaced by a local copy of that file (the Secret's content, generated or the `example` of
 * external-secrets.yaml), so the config schemas' file checks run as they would in the pod. A path
 * that no mount provides is left as it is, and fails the schema's "file not found".
 */
function withMountedFiles(objs, w, c, env) {
  const out = { ...env };
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || !value.startsWith('/')) continue;
    for (const m of c.volumeMounts ?? []) {
      if (!value.startsWith(`${m.mountPath}/`)) continue;
      const volume = (podSpec(w).volumes ?? []).find((v) => v.name === m.name);
      const file = value.slice(m.mountPath.length + 1);
      const src = volume?.secret ?? volume?.configMap;
      if (!src) continue;
      const item = (src.items ?? []).find((i) => i.path === file) ?? { key: file };
      const secretName = src.secretName ?? src.name;
      let content;
      if (volume.secret) {
        const generated = byName(objs, 'Secret', secretName);
        content = generated ? decodeSecretData(generated, item.key) : externalKey(secretName, item.key)?.example;
      } else {
        content = byName(objs, 'ConfigMap', secretName)?.data?.[item.key];
      }
      if (content === undefined) continue;
      const local = join(MOUNTED, `${w.metadata.name}-${name}`);
      writeFileSync(local, content);
      out[name] = local;
    }
  }
  return out;
}

/** Keys a container may have; the schemas accept unknown keys, so a misspelt probe would pass. */
const KNOWN = {
  container:
    'name image imagePullPolicy command args workingDir ports env envFrom resources resizePolicy restartPolicy volumeMounts volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath terminationMessagePolicy securityContext stdin stdinOnce tty',
  podSpec:
    'activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes',
  probe:
    'exec httpGet tcpSocket grpc initialDelaySeconds periodSeconds timeoutSeconds successThreshold failureThreshold terminationGracePeriodSeconds',
  securityContext:
    'allowPrivilegeEscalation appArmorProfile capabilities privileged procMount readOnlyRootFilesystem runAsGroup runAsNonRoot runAsUser seLinuxOptions seccompProfile windowsOptions',
  podSecurityContext:
    'appArmorProfile fsGroup fsGroupChangePolicy runAsGroup runAsNonRoot runAsUser seLinuxChangePolicy seLinuxOptions seccompProfile supplementalGroups supplementalGroupsPolicy sysctls windowsOptions',
  lifecycle: 'postStart preStop',
  handler: 'exec httpGet tcpSocket sleep',
  topologySpread:
    'labelSelector matchLabelKeys maxSkew minDomains nodeAffinityPolicy nodeTaintsPolicy topologyKey whenUnsatisfiable',
};
function unknownKeys(obj, kind) {
  const allowed = new Set(KNOWN[kind].split(' '));
  return Object.keys(obj ?? {}).filter((k) => !allowed.has(k));
}

describe('kustomize renders offline', () => {
  for (const [name, objs] of Object.entries(RENDERED)) {
    test(`${name}: renders, no duplicate objects`, () => {
      assert.ok(objs.length > 0);
      const ids = objs.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.deepEqual(
        ids.filter((x, i) => ids.indexOf(x) !== i),
        [],
      );
    });
  }

  test('overlays put everything in their namespace, under the restricted Pod Security Standard', () => {
    for (const [overlay, ns] of [
      ['dev', 'authority-dev'],
      ['prod', 'authority'],
    ]) {
      const objs = RENDERED[overlay];
      const namespace = find(objs, 'Namespace', ns);
      assert.ok(namespace, `${overlay}: Namespace ${ns}`);
      assert.equal(namespace.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const o of objs.filter((x) => x.kind !== 'Namespace'))
        assert.equal(o.metadata.namespace, ns, `${overlay}: ${id(o)}`);
    }
  });
});

/**
 * kustomize wraps long base64 Secret data at 76 columns; the API server decodes it ignoring the
 * line breaks (Go's base64), the schema's "byte" format does not: validate the unwrapped form.
 */
function forValidation(o) {
  if (o.kind !== 'Secret' || !o.data) return o;
  return { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s+/g, '')])) };
}

describe('schemas (kubernetes-models 4.5.0)', () => {
  for (const [name, objs] of Object.entries(RENDERED)) {
    test(`${name}: every object validates`, () => {
      for (const o of objs) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        assert.ok(Model, `${id(o)}: ${o.apiVersion} ${o.kind} has no schema class in MODELS`);
        assert.doesNotThrow(() => new Model(forValidation(o)).validate(), `${id(o)} does not validate`);
      }
    });
  }

  test('the validator rejects an invalid object (it is really validating)', () => {
    const d = structuredClone(serviceDeployment(RENDERED.dev, 'issuer'));
    podSpec(d).containers[0].ports[0].containerPort = 'grpc';
    assert.throws(() => new Deployment(d).validate(), /containerPort/);
  });

  for (const name of OVERLAYS) {
    test(`${name}: pod and container fields are known keys (no misspelt probe or securityContext)`, () => {
      for (const w of workloads(RENDERED[name])) {
        const spec = podSpec(w);
        assert.deepEqual(unknownKeys(spec, 'podSpec'), [], `${id(w)} pod spec`);
        assert.deepEqual(unknownKeys(spec.securityContext, 'podSecurityContext'), [], `${id(w)} pod securityContext`);
        for (const t of spec.topologySpreadConstraints ?? [])
          assert.deepEqual(unknownKeys(t, 'topologySpread'), [], `${id(w)} topologySpreadConstraints`);
        for (const c of allContainers(w)) {
          assert.deepEqual(unknownKeys(c, 'container'), [], `${id(w)} container ${c.name}`);
          assert.deepEqual(unknownKeys(c.securityContext, 'securityContext'), [], `${id(w)} ${c.name} securityContext`);
          for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe'])
            assert.deepEqual(unknownKeys(c[p], 'probe'), [], `${id(w)} ${c.name} ${p}`);
          assert.deepEqual(unknownKeys(c.lifecycle, 'lifecycle'), [], `${id(w)} ${c.name} lifecycle`);
          for (const h of Object.values(c.lifecycle ?? {}))
            assert.deepEqual(unknownKeys(h, 'handler'), [], `${id(w)} ${c.name} lifecycle handler`);
        }
      }
    });
  }
});

describe('containers: probes, resources, security', () => {
  for (const name of OVERLAYS) {
    const objs = RENDERED[name];

    test(`${name}: every long-running container has readiness and liveness probes`, () => {
      for (const w of objs.filter((o) => LONG_RUNNING.includes(o.kind))) {
        for (const c of podSpec(w).containers) {
          assert.ok(c.readinessProbe, `${id(w)} ${c.name}: readinessProbe`);
          assert.ok(c.livenessProbe, `${id(w)} ${c.name}: livenessProbe`);
        }
      }
    });

    test(`${name}: the services use native gRPC probes (readiness, liveness, startup) on their gRPC port`, () => {
      for (const svc of SERVICES) {
        const c = serverContainer(serviceDeployment(objs, svc));
        for (const p of ['readinessProbe', 'startupProbe']) {
          assert.deepEqual(c[p]?.grpc, { port: GRPC_PORTS[svc] }, `${svc} ${p}`);
        }
        // Liveness asks the `liveness` health service (SERVING while the process can answer), so a
        // replica that is not ready because Kafka is down is taken out of rotation, not restarted.
        assert.deepEqual(c.livenessProbe?.grpc, { port: GRPC_PORTS[svc], service: 'liveness' }, `${svc} livenessProbe`);
        // The startup probe covers the first replay; liveness is slower to fail than readiness.
        const budget = (p) => (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
        assert.ok(budget(c.startupProbe) >= 120, `${svc}: startup probe allows at least 2 minutes`);
        assert.ok(budget(c.livenessProbe) > budget(c.readinessProbe), `${svc}: liveness slower to fail than readiness`);
      }
    });

    test(`${name}: every container (Jobs included) has cpu and memory requests and limits, requests <= limits`, () => {
      const qty = (v) => {
        const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(String(v));
        assert.ok(m, `quantity ${v}`);
        const f = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2]] ?? 1;
        return Number(m[1]) * f;
      };
      for (const w of workloads(objs)) {
        for (const c of allContainers(w)) {
          for (const r of ['cpu', 'memory']) {
            const req = c.resources?.requests?.[r];
            const lim = c.resources?.limits?.[r];
            assert.ok(req !== undefined && lim !== undefined, `${id(w)} ${c.name}: ${r} request and limit`);
            assert.ok(qty(req) <= qty(lim), `${id(w)} ${c.name}: ${r} request ${req} > limit ${lim}`);
          }
        }
      }
    });

    test(`${name}: every pod is non-root with a read-only root filesystem and no capabilities`, () => {
      for (const w of workloads(objs)) {
        const spec = podSpec(w);
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${id(w)}: pod runAsNonRoot`);
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${id(w)}: pod seccomp`);
        assert.notEqual(spec.hostNetwork, true, `${id(w)}: hostNetwork`);
        assert.notEqual(spec.hostPID, true, `${id(w)}: hostPID`);
        assert.notEqual(spec.hostIPC, true, `${id(w)}: hostIPC`);
        assert.equal(spec.automountServiceAccountToken, false, `${id(w)}: no API token`);
        for (const v of spec.volumes ?? []) assert.equal(v.hostPath, undefined, `${id(w)}: hostPath volume ${v.name}`);
        for (const c of allContainers(w)) {
          const sc = c.securityContext ?? {};
          const where = `${id(w)} ${c.name}`;
          assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
          const uid = sc.runAsUser ?? spec.securityContext.runAsUser;
          assert.ok(Number.isInteger(uid) && uid > 0, `${where}: numeric non-root runAsUser`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
          assert.notEqual(sc.privileged, true, `${where}: privileged`);
          assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drop ALL capabilities`);
          assert.equal(sc.capabilities?.add, undefined, `${where}: adds no capability`);
          assert.equal(
            sc.seccompProfile?.type ?? spec.securityContext.seccompProfile.type,
            'RuntimeDefault',
            `${where}: seccomp`,
          );
        }
      }
      for (const sa of objs.filter((o) => o.kind === 'ServiceAccount')) {
        assert.equal(sa.automountServiceAccountToken, false, `${id(sa)}: automountServiceAccountToken`);
      }
    });

    test(`${name}: the services run as uid 10001 (the images' USER) with a writable /tmp only`, () => {
      for (const svc of SERVICES) {
        const d = serviceDeployment(objs, svc);
        const c = serverContainer(d);
        assert.equal(c.securityContext.runAsUser, 10001);
        assert.equal(podSpec(d).securityContext.runAsUser, 10001);
        const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
        assert.ok(tmp, `${svc}: /tmp mount`);
        assert.ok(podSpec(d).volumes.find((v) => v.name === tmp.name)?.emptyDir, `${svc}: /tmp is an emptyDir`);
      }
    });

    test(`${name}: image tags are pinned (never latest, never untagged)`, () => {
      for (const w of workloads(objs)) {
        for (const c of allContainers(w)) {
          const m = /^([^@]+?)(?::([^:/@]+))?(@sha256:[0-9a-f]{64})?$/.exec(c.image);
          assert.ok(m, `${id(w)} ${c.name}: image ${c.image}`);
          assert.ok(m[2] !== undefined || m[3] !== undefined, `${id(w)} ${c.name}: ${c.image} has no tag`);
          assert.notEqual(m[2], 'latest', `${id(w)} ${c.name}: ${c.image}`);
          assert.notEqual(c.imagePullPolicy, 'Always', `${id(w)} ${c.name}: pinned images need no Always pull`);
        }
      }
      for (const svc of SERVICES) {
        assert.match(
          serverContainer(serviceDeployment(objs, svc)).image,
          new RegExp(`^authority/${svc}:\\d+\\.\\d+\\.\\d+$`),
        );
      }
    });

    test(`${name}: topology spread and graceful termination longer than preStop + AUTHORITY_SHUTDOWN_GRACE`, () => {
      const { parseDuration } = platform();
      for (const svc of SERVICES) {
        const d = serviceDeployment(objs, svc);
        const spec = podSpec(d);
        const keys = (spec.topologySpreadConstraints ?? []).map((t) => t.topologyKey).sort();
        assert.deepEqual(
          keys,
          ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
          `${svc}: spread over zones and nodes`,
        );
        for (const t of spec.topologySpreadConstraints) {
          assert.ok(
            matchesLabels(t.labelSelector.matchLabels, d.spec.template.metadata.labels),
            `${svc}: spread selector matches the pods`,
          );
        }
        const env = resolveEnv(objs, d, serverContainer(d));
        const graceMs = parseDuration(env.AUTHORITY_SHUTDOWN_GRACE ?? '10s');
        const preStopMs = (serverContainer(d).lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
        const budgetMs = spec.terminationGracePeriodSeconds * 1000;
        assert.ok(
          budgetMs >= preStopMs + graceMs + 5000,
          `${svc}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds}s must exceed preStop ${preStopMs}ms + drain ${graceMs}ms with margin`,
        );
      }
    });
  }
});

function matchesLabels(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

describe('Services and ports', () => {
  for (const name of ['base', ...OVERLAYS]) {
    test(`${name}: each service's Service names its port grpc and reaches the container's grpc port`, () => {
      const objs = RENDERED[name];
      for (const svc of SERVICES) {
        const d = serviceDeployment(objs, svc);
        const c = serverContainer(d);
        const grpcPort = c.ports.find((p) => p.name === 'grpc');
        assert.equal(grpcPort?.containerPort, GRPC_PORTS[svc], `${svc}: container port grpc`);
        const services = objs.filter(
          (o) => o.kind === 'Service' && matchesLabels(o.spec.selector, d.spec.template.metadata.labels),
        );
        assert.ok(services.length >= 1, `${svc}: a Service selects the pods`);
        for (const s of services) {
          assert.deepEqual(
            s.spec.ports.map((p) => p.name),
            ['grpc'],
            `${id(s)}: port named grpc`,
          );
          assert.equal(s.spec.ports[0].port, GRPC_PORTS[svc], `${id(s)}: port`);
          assert.ok(
            s.spec.ports[0].targetPort === 'grpc' || s.spec.ports[0].targetPort === GRPC_PORTS[svc],
            `${id(s)}: targetPort`,
          );
        }
        assert.ok(find(objs, 'Service', svc), `${svc}: Service named ${svc} (the address other services and docs use)`);
      }
    });
  }

  test('every named Service port of every overlay targets a named container port of its pods', () => {
    for (const name of OVERLAYS) {
      const objs = RENDERED[name];
      for (const s of objs.filter((o) => o.kind === 'Service')) {
        const pods = workloads(objs).filter((w) => matchesLabels(s.spec.selector, w.spec.template.metadata.labels));
        assert.ok(pods.length > 0, `${name} ${id(s)} selects no workload`);
        for (const p of s.spec.ports) {
          assert.ok(p.name, `${name} ${id(s)}: unnamed port`);
          if (typeof p.targetPort === 'string') {
            for (const w of pods) {
              assert.ok(
                allContainers(w).some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)),
                `${name} ${id(s)}: ${id(w)} has no port ${p.targetPort}`,
              );
            }
          }
        }
      }
    }
  });
});

describe('ConfigMaps and Secrets', () => {
  test('the base references the Secrets but creates none', () => {
    assert.deepEqual(RENDERED.base.filter((o) => o.kind === 'Secret').map(id), []);
    const referenced = new Set(
      workloads(RENDERED.base)
        .flatMap(references)
        .filter((r) => r.kind === 'Secret')
        .map((r) => r.name),
    );
    for (const s of [
      'authority-issuer-kek',
      'authority-auditor-signing-key',
      'authority-api-keys',
      'authority-mongodb',
    ]) {
      assert.ok(referenced.has(s), `base references Secret ${s}`);
    }
  });

  for (const name of OVERLAYS) {
    test(`${name}: every referenced ConfigMap/Secret key exists in the rendered output or is operator-provided`, () => {
      const objs = RENDERED[name];
      const external = [];
      for (const r of workloads(objs).flatMap(references)) {
        const obj = byName(objs, r.kind, r.name);
        if (obj) {
          if (r.key !== undefined) {
            const has =
              r.kind === 'Secret' ? decodeSecretData(obj, r.key) !== undefined : obj.data && r.key in obj.data;
            assert.ok(has || r.optional, `${r.where}: ${r.kind} ${r.name} has no key ${r.key}`);
          }
          continue;
        }
        assert.equal(
          r.kind,
          'Secret',
          `${r.where}: ConfigMap ${r.name} does not exist (ConfigMaps are never operator-provided)`,
        );
        const documented = EXTERNAL.secrets.find((s) => s.name === r.name);
        assert.ok(documented, `${r.where}: Secret ${r.name} is neither generated nor in external-secrets.yaml`);
        if (r.key !== undefined)
          assert.ok(
            externalKey(r.name, r.key),
            `${r.where}: key ${r.key} of Secret ${r.name} is not in external-secrets.yaml`,
          );
        external.push(`${r.name}/${r.key}`);
      }
      if (name === 'dev') assert.deepEqual(external, [], 'the dev overlay is self-contained');
    });
  }

  test('external-secrets.yaml lists exactly the Secret keys prod expects from the operator, and docs/operations.md names each', () => {
    const objs = RENDERED.prod;
    const referenced = new Set(
      workloads(objs)
        .flatMap(references)
        .filter((r) => r.kind === 'Secret' && !byName(objs, 'Secret', r.name))
        .map((r) => `${r.name}/${r.key}`),
    );
    const listed = new Set(EXTERNAL.secrets.flatMap((s) => s.keys.map((k) => `${s.name}/${k.key}`)));
    assert.deepEqual([...listed].sort(), [...referenced].sort());
    assert.deepEqual(objs.filter((o) => o.kind === 'Secret').map(id), [], 'prod generates no Secret');
    for (const s of EXTERNAL.secrets) {
      assert.ok(OPERATIONS_DOC.includes(s.name), `docs/operations.md names Secret ${s.name}`);
      for (const k of s.keys) {
        assert.ok(OPERATIONS_DOC.includes(k.key), `docs/operations.md names key ${k.key}`);
        assert.ok(k.description && k.create && k.example, `${s.name}/${k.key}: description, create, example`);
        // Which workloads use it, as the file claims.
        const users = new Set(
          workloads(objs)
            .filter((w) => references(w).some((r) => r.kind === 'Secret' && r.name === s.name && r.key === k.key))
            .map((w) => w.metadata.name),
        );
        assert.deepEqual([...users].sort(), [...k.usedBy].sort(), `${s.name}/${k.key} usedBy`);
      }
    }
  });

  test('dev: the generated Secrets are marked as fake', () => {
    const secrets = RENDERED.dev.filter((o) => o.kind === 'Secret');
    assert.ok(secrets.length >= 4);
    for (const s of secrets)
      assert.ok(s.metadata.annotations?.['authority.dev/fake-secret'], `${id(s)} carries authority.dev/fake-secret`);
    for (const key of ['AUTHORITY_OPERATOR_API_KEY', 'AUTHORITY_SERVICE_API_KEY']) {
      const value = decodeSecretData(
        secrets.find((s) => decodeSecretData(s, key) !== undefined),
        key,
      );
      assert.match(value, /FAKE/, `${key} says it is fake`);
    }
  });
});

describe('environment variables against the services config schemas', () => {
  const KNOWN_NON_SCHEMA = /^(OTEL_|NODE_OPTIONS$)/;
  // Loaded lazily: a service whose config does not build fails its own tests, not the file.
  const loaded = new Map();
  const configOf = (svc) => {
    if (!loaded.has(svc)) loaded.set(svc, serviceConfig(svc));
    return loaded.get(svc);
  };

  for (const svc of SERVICES) {
    test(`${svc}: the schema's gRPC port default is the one the manifests and images use`, () => {
      const row = platform()
        .describeConfig(configOf(svc).schema)
        .find((r) => r.name === 'AUTHORITY_GRPC_PORT');
      assert.equal(row?.default, String(GRPC_PORTS[svc]));
    });
  }

  for (const name of ['base', ...OVERLAYS]) {
    for (const svc of SERVICES) {
      test(`${name}: ${svc} gets every variable its schema requires, only variables its schema knows, and the values parse`, () => {
        const objs = RENDERED[name];
        const d = serviceDeployment(objs, svc);
        const c = serverContainer(d);
        const { schema, checks, schemaName } = configOf(svc);
        const { describeConfig, loadConfig } = platform();
        const rows = describeConfig(schema);
        const known = new Set(rows.map((r) => r.name));
        const setNames = new Set([
          ...(c.env ?? []).map((e) => e.name),
          ...(c.envFrom ?? []).flatMap((ef) =>
            Object.keys(byName(objs, 'ConfigMap', ef.configMapRef?.name)?.data ?? {}),
          ),
        ]);
        const optionalRefs = new Set(
          (c.env ?? [])
            .filter((e) => e.valueFrom?.secretKeyRef?.optional || e.valueFrom?.configMapKeyRef?.optional)
            .map((e) => e.name),
        );

        const missing = rows
          .filter((r) => r.required && (!setNames.has(r.name) || optionalRefs.has(r.name)))
          .map((r) => r.name);
        assert.deepEqual(missing, [], `${svc}: required variables not set by the manifests`);
        const unknown = [...setNames].filter((n) => !known.has(n) && !KNOWN_NON_SCHEMA.test(n));
        assert.deepEqual(unknown, [], `${svc}: variables set but not in ${schemaName} (typo or stale)`);

        if (name === 'base') return; // the base's Secrets are not rendered: values are checked per overlay
        const env = withMountedFiles(objs, d, c, resolveEnv(objs, d, c));
        const config = loadConfig(schema, env, checks);
        assert.equal(config.AUTHORITY_GRPC_PORT, GRPC_PORTS[svc], `${svc}: AUTHORITY_GRPC_PORT is the container port`);
        assert.ok(config.KAFKA_BROKERS.length > 0);
      });
    }
  }

  for (const name of OVERLAYS) {
    test(`${name}: the gateway's variables are known to its schema and parse (its mounted mapping file included)`, () => {
      const objs = RENDERED[name];
      const d = serviceDeployment(objs, 'gateway');
      const c = serverContainer(d);
      const { schema, checks } = configOf('gateway');
      const { describeConfig, loadConfig } = platform();
      const known = new Set(describeConfig(schema).map((r) => r.name));
      const env = withMountedFiles(objs, d, c, resolveEnv(objs, d, c));
      const unknown = Object.keys(env).filter((n) => !known.has(n) && !KNOWN_NON_SCHEMA.test(n));
      assert.deepEqual(unknown, [], 'gateway: variables set but not in gatewayConfigSchema');
      const config = loadConfig(schema, env, checks);
      assert.equal(config.AUTHORITY_GATEWAY_PORT, c.ports.find((p) => p.name === 'http').containerPort);
      assert.equal(config.AUTHORITY_ENFORCER_ADDR, `enforcer:${GRPC_PORTS.enforcer}`);
      // The enforcer verifies gateway-bound envelopes: it must accept the gateway's audience.
      const enforcer = serviceDeployment(objs, 'enforcer');
      const enforcerEnv = resolveEnv(objs, enforcer, serverContainer(enforcer));
      assert.equal(enforcerEnv.AUTHORITY_AUDIENCE, config.AUTHORITY_GATEWAY_AUDIENCE);
      // The document vault (authority.vault_*): the services' MongoDB, the vault's own database.
      const issuer = serviceDeployment(objs, 'issuer');
      const issuerEnv = resolveEnv(objs, issuer, serverContainer(issuer));
      assert.ok(env.MONGODB_URI, 'the gateway has the document vault');
      assert.equal(env.MONGODB_URI, issuerEnv.MONGODB_URI);
      assert.equal(config.AUTHORITY_GATEWAY_VAULT_DB, 'authority_vault');
      assert.notEqual(config.AUTHORITY_GATEWAY_VAULT_DB, issuerEnv.AUTHORITY_ISSUER_DB);
    });
  }

  test('the enforcer reaches the issuer through the issuer Service on its gRPC port', () => {
    for (const name of OVERLAYS) {
      const d = serviceDeployment(RENDERED[name], 'enforcer');
      const env = resolveEnv(RENDERED[name], d, serverContainer(d));
      assert.equal(env.AUTHORITY_ISSUER_ADDR, `issuer:${GRPC_PORTS.issuer}`);
      assert.ok(env.AUTHORITY_SERVICE_API_KEY, 'the enforcer presents the service credential');
      const i = serviceDeployment(RENDERED[name], 'issuer');
      assert.equal(
        resolveEnv(RENDERED[name], i, serverContainer(i)).AUTHORITY_SERVICE_API_KEY,
        env.AUTHORITY_SERVICE_API_KEY,
        'same service credential on both sides',
      );
    }
  });

  test('the OpenTelemetry component points the services at the collector over OTLP/HTTP', () => {
    for (const name of OVERLAYS) {
      const objs = RENDERED[name];
      assert.ok(find(objs, 'Deployment', 'otel-collector'));
      const collector = find(objs, 'Service', 'otel-collector');
      assert.deepEqual(collector.spec.ports.map((p) => p.port).sort(), [4317, 4318]);
      for (const svc of SERVICES) {
        const d = serviceDeployment(objs, svc);
        const env = resolveEnv(objs, d, serverContainer(d));
        assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318', `${name} ${svc}`);
        assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf', `${name} ${svc}`);
      }
    }
  });
});

describe('network policies allow exactly the paths of ARCHITECTURE §1', () => {
  const grpcClients = (from) => SERVICES.map((svc) => `${from} -> ${svc}:${GRPC_PORTS[svc]}/TCP`);
  const dns = (w) => [`${w} -> kube-dns:53/TCP`, `${w} -> kube-dns:53/UDP`];
  const otel = (w) => [`${w} -> otel-collector:4317/TCP`, `${w} -> otel-collector:4318/TCP`];

  function expected({ kafka, mongodb, infra }) {
    const rows = [
      // clients (other namespaces) and anything outside the cluster -> the four gRPC APIs
      ...grpcClients('client'),
      ...grpcClients('external'),
      // enforcer -> issuer (approvals)
      'enforcer -> issuer:50051/TCP',
      // agents -> the MCP gateway -> the enforcer (a check per tool call)
      'client -> gateway:8765/TCP',
      'external -> gateway:8765/TCP',
      'gateway -> enforcer:50052/TCP',
      // the gateway's document vault
      `gateway -> ${mongodb}:27017/TCP`,
      // all four -> Kafka; issuer, policy, auditor -> MongoDB
      ...SERVICES.map((svc) => `${svc} -> ${kafka}:9092/TCP`),
      ...['issuer', 'policy', 'auditor'].map((svc) => `${svc} -> ${mongodb}:27017/TCP`),
      // telemetry: services -> collector -> backend
      ...SERVICES.flatMap(otel),
      ...otel('gateway'),
      'otel-collector -> external:443/TCP',
      'otel-collector -> external:4317/TCP',
      'otel-collector -> external:4318/TCP',
      // the topics Job -> Kafka
      `authority-topics -> ${kafka}:9092/TCP`,
      // DNS for every pod
      ...[...SERVICES, 'gateway', 'otel-collector', 'authority-topics', ...(infra ? ['kafka', 'mongodb'] : [])].flatMap(
        dns,
      ),
    ];
    if (infra) {
      rows.push('kafka -> kafka:9092/TCP', 'kafka -> kafka:9093/TCP', 'mongodb -> mongodb:27017/TCP');
    }
    return rows.sort();
  }

  test('dev (in-cluster Kafka and MongoDB)', () => {
    assert.deepEqual(allowedConnections(RENDERED.dev), expected({ kafka: 'kafka', mongodb: 'mongodb', infra: true }));
  });

  test('prod (external Kafka and MongoDB)', () => {
    assert.deepEqual(
      allowedConnections(RENDERED.prod),
      expected({ kafka: 'external', mongodb: 'external', infra: false }),
    );
  });

  test('both overlays start from deny-all ingress and egress for every pod', () => {
    for (const name of OVERLAYS) {
      const deny = RENDERED[name].find(
        (o) =>
          o.kind === 'NetworkPolicy' &&
          Object.keys(o.spec.podSelector).length === 0 &&
          !o.spec.ingress &&
          !o.spec.egress,
      );
      assert.ok(deny, `${name}: a default-deny policy`);
      assert.deepEqual([...deny.spec.policyTypes].sort(), ['Egress', 'Ingress']);
    }
  });

  test('the evaluator sees a missing policy (removing enforcer -> issuer breaks the table)', () => {
    const objs = RENDERED.dev.filter(
      (o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'enforcer-egress-issuer'),
    );
    assert.ok(!allowedConnections(objs).includes('enforcer -> issuer:50051/TCP'));
  });
});

describe('replicas, disruption budgets, autoscaling, topics', () => {
  test('dev: one replica of everything', () => {
    for (const o of RENDERED.dev.filter((x) => LONG_RUNNING.includes(x.kind))) assert.equal(o.spec.replicas, 1, id(o));
  });

  test('prod: enforcer autoscaled 3-12 on CPU, no fixed replica count to fight the HPA', () => {
    const hpa = find(RENDERED.prod, 'HorizontalPodAutoscaler', 'enforcer');
    assert.ok(hpa);
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'enforcer' });
    assert.equal(hpa.spec.minReplicas, 3);
    assert.equal(hpa.spec.maxReplicas, 12);
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
    assert.equal(serviceDeployment(RENDERED.prod, 'enforcer').spec.replicas, undefined);
    assert.ok(
      serverContainer(serviceDeployment(RENDERED.prod, 'enforcer')).resources.requests.cpu,
      'CPU utilisation needs a CPU request',
    );
  });

  test('prod: issuer, policy and auditor run 3 replicas; every PDB keeps 2 of 3 available', () => {
    for (const svc of ['issuer', 'policy', 'auditor'])
      assert.equal(serviceDeployment(RENDERED.prod, svc).spec.replicas, 3, svc);
    for (const svc of SERVICES) {
      const pdb = find(RENDERED.prod, 'PodDisruptionBudget', svc);
      assert.equal(pdb.spec.minAvailable, 2, svc);
      assert.equal(pdb.spec.maxUnavailable, undefined, svc);
      assert.ok(
        matchesLabels(
          pdb.spec.selector.matchLabels,
          serviceDeployment(RENDERED.prod, svc).spec.template.metadata.labels,
        ),
      );
    }
  });

  test('every service has a PodDisruptionBudget that never blocks a drain (dev and base: maxUnavailable 1)', () => {
    for (const name of ['base', 'dev']) {
      for (const svc of SERVICES)
        assert.equal(find(RENDERED[name], 'PodDisruptionBudget', svc)?.spec.maxUnavailable, 1, `${name} ${svc}`);
    }
  });

  test('topics Job: replication 1 in dev, 3 in prod (min ISR 2); auditor replicas <= audit partitions', () => {
    const cfg = (name) => byName(RENDERED[name], 'ConfigMap', 'authority-topics-config').data;
    assert.equal(cfg('dev').REPLICATION_FACTOR, '1');
    assert.equal(cfg('prod').REPLICATION_FACTOR, '3');
    assert.equal(cfg('prod').MIN_INSYNC_REPLICAS, '2');
    for (const name of OVERLAYS) {
      const c = cfg(name);
      assert.ok(Number(c.MIN_INSYNC_REPLICAS) <= Number(c.REPLICATION_FACTOR));
      assert.ok(
        serviceDeployment(RENDERED[name], 'auditor').spec.replicas <= Number(c.AUDIT_PARTITIONS),
        `${name}: auditor replicas <= audit partitions`,
      );
      const job = find(RENDERED[name], 'Job', 'authority-topics');
      // dev runs the locally built Kafka image (scripts/k8s/images.sh), prod the published one.
      const kafkaImage = name === 'dev' ? /^authority-k8s\/kafka:\d+\.\d+\.\d+$/ : /^apache\/kafka:\d+\.\d+\.\d+$/;
      assert.match(serverlessContainer(job).image, kafkaImage);
      const env = resolveEnv(RENDERED[name], job, serverlessContainer(job));
      assert.ok(env.KAFKA_BROKERS, `${name}: the topics Job knows the brokers`);
      const services = resolveEnv(
        RENDERED[name],
        serviceDeployment(RENDERED[name], 'issuer'),
        serverContainer(serviceDeployment(RENDERED[name], 'issuer')),
      );
      assert.equal(env.KAFKA_BROKERS, services.KAFKA_BROKERS, `${name}: the Job and the services use the same brokers`);
      assert.equal(env.AUTHORITY_TOPIC_PREFIX, services.AUTHORITY_TOPIC_PREFIX, `${name}: same topic prefix`);
    }
  });

  test('topics script: compacted state topics never get time-based deletion; checkpoints are kept', () => {
    const script = byName(RENDERED.dev, 'ConfigMap', 'authority-topics-script').data['create-topics.sh'];
    assert.match(script, /state=\(cleanup\.policy=compact retention\.ms=-1 /);
    for (const t of ['keys', 'policies', 'revocations'])
      assert.match(script, new RegExp(`ensure ${t} "\\$state_partitions" "\\$\\{state\\[@\\]\\}"`));
    assert.match(
      script,
      /ensure audit "\$audit_partitions" cleanup\.policy=delete "retention\.ms=\$audit_retention_ms"/,
    );
    assert.match(script, /ensure checkpoints "\$checkpoint_partitions" cleanup\.policy=delete retention\.ms=-1/);
    assert.doesNotMatch(script, /compact,delete/);
  });
});

function serverlessContainer(job) {
  return podSpec(job).containers[0];
}

describe('Kafka authentication and audit-event signing keys', () => {
  const requireFromRoot = createRequire(join(REPO_ROOT, 'package.json'));
  const core = requireFromRoot('@authority/core');
  const PRODUCERS = ['issuer', 'enforcer', 'policy'];
  /** A service's parsed configuration in an overlay, as its pod would load it. */
  const configOf = (name, svc) => {
    const objs = RENDERED[name];
    const d = serviceDeployment(objs, svc);
    const c = serverContainer(d);
    const { schema, checks } = serviceConfig(svc);
    return {
      d,
      c,
      config: platform().loadConfig(schema, withMountedFiles(objs, d, c, resolveEnv(objs, d, c)), checks),
    };
  };

  test('prod: every service talks to Kafka over TLS (the CA from a Secret) as its own SCRAM-SHA-512 principal', () => {
    const usernames = new Set();
    for (const svc of SERVICES) {
      const { c, config } = configOf('prod', svc);
      const security = platform().kafkaSecurityFromConfig(config);
      assert.equal(security.sasl?.mechanism, 'scram-sha-512', `${svc}: SASL mechanism`);
      assert.equal(security.sasl?.username, `authority-${svc}`, `${svc}: its own principal`);
      usernames.add(security.sasl.username);
      assert.ok(typeof security.ssl === 'object' && security.ssl.ca, `${svc}: TLS verified against the brokers' CA`);
      const password = (c.env ?? []).find((e) => e.name === 'KAFKA_SASL_PASSWORD');
      assert.deepEqual(
        password?.valueFrom?.secretKeyRef,
        { name: 'authority-kafka-credentials', key: `${svc.toUpperCase()}_KAFKA_PASSWORD` },
        `${svc}: the password is referenced from a Secret, never inlined`,
      );
      const ca = (c.env ?? []).find((e) => e.name === 'KAFKA_SSL_CA_FILE')?.value;
      const mount = (c.volumeMounts ?? []).find((m) => ca?.startsWith(`${m.mountPath}/`));
      const volume = podSpec(serviceDeployment(RENDERED.prod, svc)).volumes.find((v) => v.name === mount?.name);
      assert.equal(volume?.secret?.secretName, 'authority-kafka-client', `${svc}: the CA file comes from the Secret`);
    }
    assert.equal(usernames.size, SERVICES.length, 'one principal per service (the ACLs tell them apart)');
  });

  test('prod: the topics Job authenticates with the admin client properties from a Secret', () => {
    const job = find(RENDERED.prod, 'Job', 'authority-topics');
    const c = serverlessContainer(job);
    const env = resolveEnv(RENDERED.prod, job, c);
    const mount = (c.volumeMounts ?? []).find((m) => env.KAFKA_COMMAND_CONFIG?.startsWith(`${m.mountPath}/`));
    const volume = podSpec(job).volumes.find((v) => v.name === mount?.name);
    assert.equal(volume?.secret?.secretName, 'authority-kafka-admin');
    assert.deepEqual(volume.secret.items, [{ key: 'client.properties', path: 'client.properties' }]);
  });

  test('dev: the in-cluster Kafka is unauthenticated (development only): no SASL, no TLS', () => {
    for (const svc of SERVICES) assert.deepEqual(platform().kafkaSecurityFromConfig(configOf('dev', svc).config), {});
  });

  for (const name of OVERLAYS) {
    test(`${name}: each producer signs with its own key from a Secret, and the auditor trusts exactly those keys, each for its own source`, async () => {
      await core.cryptoReady();
      const auditor = configOf(name, 'auditor').config;
      const trusted = new Map(auditor.AUTHORITY_EVENT_TRUSTED_KEYS.map((k) => [k.kid, k]));
      const kids = new Set();
      for (const svc of PRODUCERS) {
        const { c, config } = configOf(name, svc);
        const ref = (c.env ?? []).find((e) => e.name === 'AUTHORITY_EVENT_SIGNING_KEY')?.valueFrom?.secretKeyRef;
        assert.equal(ref?.key, `${svc.toUpperCase()}_EVENT_SIGNING_KEY`, `${svc}: its own key in the Secret`);
        assert.match(ref.name, /^authority-event-signing-keys(-[a-z0-9]{10})?$/, `${svc}: the signing-key Secret`);
        const { seed, kid } = platform().eventSigningSeedFromConfig(config);
        const key = core.eventSigningKey(seed, kid);
        kids.add(key.kid);
        const entry = trusted.get(key.kid);
        assert.ok(entry, `${name}: the auditor trusts ${svc}'s key id ${key.kid}`);
        assert.deepEqual(Buffer.from(entry.publicKey), Buffer.from(key.publicKey), `${name}: ${svc}'s public key`);
        assert.deepEqual(entry.sources, [svc], `${name}: ${svc}'s key signs only ${svc} events`);
      }
      assert.equal(kids.size, PRODUCERS.length, 'distinct key ids');
      assert.deepEqual([...trusted.keys()].sort(), [...kids].sort(), 'no other key is trusted');
    });
  }

  test('prod: an alert fires on any quarantined audit record (the metric the auditor exports)', () => {
    const rule = RENDERED.prod.find((o) => o.kind === 'PrometheusRule');
    assert.ok(rule, 'a PrometheusRule in prod');
    const alerts = rule.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    const metric = `${platform().METRIC_NAMES.auditorQuarantined.replace(/\./g, '_')}_total`;
    const quarantine = alerts.find((r) => r.expr.includes(metric));
    assert.ok(quarantine, `an alert on ${metric}`);
    assert.match(quarantine.expr, /increase\(authority_auditor_quarantined_total\[\d+m\]\)\) > 0$/, 'any increase');
    assert.equal(quarantine.for, undefined, 'no waiting period: one forged record is enough');
    assert.equal(quarantine.labels.severity, 'critical');
    assert.ok(OPERATIONS_DOC.includes(quarantine.alert), 'docs/operations.md explains the alert');
  });
});

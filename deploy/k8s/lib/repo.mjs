// Shared helpers of the deploy/k8s tests: repository paths, rendering kustomizations offline,
// building and loading the services' compiled config schemas.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(K8S_DIR, '..', '..');
export const SERVICES = ['issuer', 'enforcer', 'policy', 'auditor'];
/** Services built from the same Dockerfile that serve HTTP, not gRPC (no Kafka, no gRPC port). */
export const HTTP_SERVICES = ['gateway'];
/** The gRPC port of each service: containerPort, probes, Service, config default. */
export const GRPC_PORTS = { issuer: 50051, enforcer: 50052, policy: 50053, auditor: 50054 };

const requireFromRoot = createRequire(join(REPO_ROOT, 'package.json'));

/** The kustomize renderer: `kubectl kustomize` (kubectl >= 1.14 embeds kustomize) or `kustomize build`. */
function renderer() {
  for (const [bin, args] of [
    ['kubectl', ['kustomize']],
    ['kustomize', ['build']],
  ]) {
    const probe = spawnSync(bin, ['version', ...(bin === 'kubectl' ? ['--client'] : [])], { encoding: 'utf8' });
    if (probe.status === 0) return { bin, args };
  }
  throw new Error(
    'neither `kubectl` nor `kustomize` is on PATH: install kubectl (it embeds kustomize) or ' +
      '`go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0`',
  );
}

let cachedRenderer;
/** Renders a kustomization directory (relative to deploy/k8s) offline; returns the objects. */
export function render(dir) {
  cachedRenderer ??= renderer();
  const out = execFileSync(cachedRenderer.bin, [...cachedRenderer.args, join(K8S_DIR, dir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseYamlStream(out);
}

export function parseYamlStream(text) {
  const docs = parseAllDocuments(text);
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

export function readYaml(path) {
  const docs = parseYamlStream(readFileSync(path, 'utf8'));
  if (docs.length !== 1) throw new Error(`${path}: expected one YAML document, got ${docs.length}`);
  return docs[0];
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : -1;
}

/**
 * Makes sure services/<svc>/dist/src/<file>.js exists and is not older than its source, building
 * the service (tsc -b, which also builds the workspaces it references) when needed. In CI the
 * build has already run and this is a no-op.
 */
export function ensureBuilt(svc, file = 'config') {
  const js = join(REPO_ROOT, 'services', svc, 'dist', 'src', `${file}.js`);
  const ts = join(REPO_ROOT, 'services', svc, 'src', `${file}.ts`);
  if (!existsSync(ts)) throw new Error(`services/${svc}/src/${file}.ts does not exist`);
  if (mtime(js) >= mtime(ts)) return js;
  const tsc = requireFromRoot.resolve('typescript/bin/tsc');
  const res = spawnSync(process.execPath, [tsc, '-b', join('services', svc)], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (!existsSync(js)) {
    throw new Error(`building services/${svc} did not produce dist/src/${file}.js:\n${res.stdout}\n${res.stderr}`);
  }
  return js;
}

/** The platform package (compiled): loadConfig, describeConfig, checkTlsSettings, ... */
export function platform() {
  return requireFromRoot('@authority/platform');
}

/**
 * A service's config module: its zod schema (the export named `*ConfigSchema` with a shape) and
 * its cross-variable checks (exports named `check*`, plus platform's default checks: gRPC TLS and
 * Kafka security).
 */
export function serviceConfig(svc) {
  const path = ensureBuilt(svc);
  const mod = createRequire(path)(path);
  const schemas = Object.entries(mod).filter(
    ([name, v]) => /ConfigSchema$/.test(name) && v && typeof v === 'object' && 'shape' in v,
  );
  if (schemas.length !== 1) {
    throw new Error(
      `services/${svc}/src/config.ts must export exactly one zod object named *ConfigSchema; found ${schemas.map(([n]) => n).join(', ') || 'none'}`,
    );
  }
  // The checks main.ts passes to loadConfig: `<svc>ConfigChecks()` when exported, else every
  // `check*` export; platform's default checks (DEFAULT_CONFIG_CHECKS) always apply.
  const p = platform();
  const factory = Object.entries(mod).find(([name, v]) => /ConfigChecks$/.test(name) && typeof v === 'function');
  const listed = factory
    ? factory[1]()
    : Object.entries(mod)
        .filter(([name, v]) => /^check[A-Z]/.test(name) && typeof v === 'function')
        .map(([, v]) => v);
  const checks = [...new Set([...p.DEFAULT_CONFIG_CHECKS, ...listed])];
  return { schemaName: schemas[0][0], schema: schemas[0][1], checks };
}

/** The workspaces: package name -> { dir, pkg } (from the root package.json `workspaces`). */
export function workspaces() {
  const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const map = new Map();
  for (const dir of root.workspaces ?? []) {
    const file = join(REPO_ROOT, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    map.set(pkg.name, { dir, pkg });
  }
  return map;
}

/** The workspace directories a workspace depends on at run time (dependencies, transitively). */
export function runtimeWorkspaceDeps(dir) {
  const all = workspaces();
  const byDir = new Map([...all.values()].map((w) => [w.dir, w]));
  const seen = new Set();
  const visit = (d) => {
    const w = byDir.get(d);
    if (!w) throw new Error(`${d} is not a workspace`);
    for (const dep of Object.keys(w.pkg.dependencies ?? {})) {
      const target = all.get(dep);
      if (target && !seen.has(target.dir)) {
        seen.add(target.dir);
        visit(target.dir);
      }
    }
  };
  visit(dir);
  return [...seen].sort();
}

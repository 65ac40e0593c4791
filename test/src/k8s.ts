// Helpers of the Kubernetes suite (test/k8s): kubectl against the single-node cluster of
// scripts/k8s/up.sh (KUBECONFIG, or .infra/k8s/admin.kubeconfig of this checkout).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The cluster's kubeconfig; throws (naming the fix) when no cluster was started. */
export function kubeconfig(): string {
  const path = process.env['AUTHORITY_K8S_KUBECONFIG'] ?? resolve(REPO_ROOT, '.infra', 'k8s', 'admin.kubeconfig');
  if (!existsSync(path)) throw new Error(`no cluster kubeconfig at ${path}: start one with scripts/k8s/up.sh`);
  return path;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl ARGS (stdin `input`), never throwing: the caller asserts on code and output. */
export function kubectlRaw(args: string[], input?: string, timeoutMs = 300_000): Promise<KubectlResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig(), ...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, cwd: REPO_ROOT },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** kubectl ARGS; throws with kubectl's own message when it fails. */
export async function kubectl(args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const r = await kubectlRaw(args, input, timeoutMs);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kubernetes objects are checked field by field
export type K8sObject = Record<string, any>;

export async function getJson(args: string[]): Promise<K8sObject> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as K8sObject;
}

/**
 * Installs the PrometheusRule CRD (prometheus-operator's, a test fixture) that the prod overlay
 * ships an object of, and waits until the API server serves it: rendering that overlay needs it
 * (kubectl maps every kind through the server, even for a client-side dry run).
 */
export async function ensurePrometheusRuleCrd(): Promise<void> {
  await kubectl(['apply', '-f', resolve(REPO_ROOT, 'test/k8s/fixtures/prometheusrule-crd.yaml')]);
  await kubectl(['wait', '--for=condition=Established', 'crd/prometheusrules.monitoring.coreos.com', '--timeout=60s']);
}

/** `kubectl kustomize DIR` as a list of objects (JSON, one document per object). */
export async function render(dir: string): Promise<K8sObject[]> {
  const yaml = await kubectl(['kustomize', dir]);
  // kubectl converts the YAML stream to JSON without a server (client-side dry run): one
  // pretty-printed document per object, each opening with `{` at the start of a line.
  const json = await kubectl(['create', '--dry-run=client', '-o', 'json', '-f', '-', '--validate=false'], yaml);
  return json
    .split(/\n(?=\{\n)/)
    .filter((doc) => doc.trim() !== '')
    .map((doc) => JSON.parse(doc) as K8sObject);
}

/**
 * OBJECTS as one kubectl input: a single object as itself (kubectl then leaves field validation to
 * the server), several as a v1 List (applied item by item).
 */
export function toInput(objects: K8sObject[]): string {
  if (objects.length === 1) return JSON.stringify(objects[0]);
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

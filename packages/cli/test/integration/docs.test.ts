// Every shell block of README.md and docs/*.md runs against a real stack (the in-process services
// on the real Kafka and FerretDB), so the docs cannot drift from the product. Blocks of one page
// run in order in one bash (`set -eo pipefail`), as a reader would type them, from a fresh
// directory that looks like the repository root (its folders are linked, files written stay
// there), with `authority` on PATH and the addresses of the stack in the environment.
//
// A block that cannot run here (a Kubernetes cluster, a registry, the whole test suite) carries
// the line `<!-- docs-test: not run: <why> -->` right above its fence. Such blocks are kept rare
// and listed in NOT_RUN below: a new one fails this test until it is listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cli, startCliStack, testIo } from '../helpers';
import { requireInfra, type StackHandle } from '@authority/test-helpers';

requireInfra();

const repoRoot = resolve(__dirname, '../../../../..');
const SHELL_LANGS = new Set(['sh', 'bash', 'shell']);
const NOT_RUN_MARKER = /^<!-- docs-test: not run: (.+) -->$/;

/** Blocks that are not run, by page and first line (why: the marker above each says). */
const NOT_RUN: readonly string[] = [
  'README.md: npm start     # install, build, start Kafka + FerretDB + the four services + the MCP gateway, run the demo',
  'README.md: npm run build        # tsc -b over every package (project references)',
  'docs/auditor.md: npx tsc -b services/auditor',
  'docs/issuer.md: npx tsc -b services/issuer',
  'docs/operations.md: for s in issuer enforcer policy auditor; do',
  'docs/operations.md: kubectl apply -k deploy/k8s/overlays/dev',
  'docs/operations.md: kubectl -n authority-dev port-forward svc/enforcer 50052:50052',
  'docs/operations.md: kubectl create namespace authority',
  'docs/operations.md: kubectl apply -k deploy/k8s/overlays/prod   # everything, including the topics Job',
  'docs/operations.md: kubectl kustomize deploy/k8s/overlays/prod \\',
  'docs/operations.md: B="$KAFKA_BROKERS"; C=admin.properties; P=authority.',
  'docs/operations.md: grpcurl -plaintext -H "authorization: Bearer $OPERATOR_KEY" -d \'{"tenant":"acme"}\' \\',
  'docs/operations.md: grpcurl -plaintext -H "authorization: Bearer $ADMIN_SECRET" \\',
  'docs/operations.md: kubectl -n authority exec deploy/auditor -- node services/auditor/dist/src/backup-main.js export \\',
];

interface Block {
  page: string;
  line: number;
  text: string;
  notRun?: string;
}

/** The fenced shell blocks of a Markdown page, with the not-run marker of each. */
export function shellBlocks(page: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    if (SHELL_LANGS.has(open[1] as string)) {
      let prev = start - 1;
      while (prev >= 0 && (lines[prev] as string).trim() === '') prev--;
      const marker = prev >= 0 ? NOT_RUN_MARKER.exec((lines[prev] as string).trim()) : null;
      const block: Block = { page, line: start + 1, text: lines.slice(start + 1, end).join('\n') };
      if (marker !== null) block.notRun = marker[1] as string;
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).map((f) => `docs/${f}`)]
  .filter((p) => p.endsWith('.md'))
  .sort();
const blocks = pages.flatMap((p) => shellBlocks(p, readFileSync(join(repoRoot, p), 'utf8')));

/** The shells still running, each the leader of its own process group (see killShells). */
const shells = new Set<ChildProcess>();

/** Kills a shell's process group: the shell and whatever it started (an `authority audit tail -f`, a server). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every shell still running (the after hook: a failed test must not leave one behind). */
function killShells(): void {
  for (const child of shells) killGroup(child);
  shells.clear();
}

/** Runs a script in bash; resolves with the exit code and output (never rejects). */
function runBash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    // A process group of its own, so that killShells also reaches what the script started.
    const child = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd, env, timeout: timeoutMs, detached: true });
    shells.add(child);
    // What the script left running when it ended (or timed out) would hold its output open forever.
    child.on('exit', () => killGroup(child));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      shells.delete(child);
      done({ code, out });
    });
  });
}

test('shell blocks that are not run are marked, and listed here', () => {
  const marked = blocks
    .filter((b) => b.notRun !== undefined)
    .map((b) => `${b.page}: ${b.text.split('\n')[0] as string}`);
  assert.deepEqual(marked, [...NOT_RUN]);
  assert.ok(
    blocks.filter((b) => b.notRun === undefined).length >= 4,
    'the docs have runnable blocks (the extraction works)',
  );
});

describe('README.md and docs/*.md shell blocks run against the real stack', { timeout: 600_000 }, () => {
  let stack: StackHandle;
  const dirs: string[] = [];

  before(async () => {
    // A checkpoint every few entries, so `audit verify` in the docs rests on a signed checkpoint.
    stack = await startCliStack();
  });
  after(async () => {
    killShells();
    await stack?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A fresh directory that looks like the repository root after `npm start`. */
  function workdir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'authority-docs-'));
    dirs.push(dir);
    for (const name of ['node_modules', 'packages', 'services', 'deploy', 'scripts', 'test', 'proto', 'package.json'])
      symlinkSync(join(repoRoot, name), join(dir, name));
    // Where `npm start` keeps the operator key (the docs say so).
    mkdirSync(join(dir, '.infra'), { mode: 0o700 });
    writeFileSync(join(dir, '.infra/demo-secrets.json'), JSON.stringify({ operatorKey: stack.operatorKey }), {
      mode: 0o600,
    });
    return dir;
  }

  /** The environment of a reader's shell: `authority` on PATH, the stack's addresses, no other credential. */
  function readerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUTHORITY_')) env[k] = v;
    return {
      ...env,
      PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      AUTHORITY_ISSUER_ADDR: stack.issuer.address,
      AUTHORITY_ENFORCER_ADDR: stack.enforcers.map((e) => e.address).join(','),
      AUTHORITY_POLICY_ADDR: stack.policy?.address ?? '',
      AUTHORITY_AUDITOR_ADDR: stack.auditor?.address ?? '',
      AUTHORITY_TIMEOUT: '15s',
      ...extra,
    };
  }

  /** A tenant and its ADMIN key, for pages that assume one (operations: "your tenant"). */
  async function tenantSession(): Promise<Record<string, string>> {
    const tenant = `docs-${randomBytes(3).toString('hex')}`;
    const io = testIo({
      AUTHORITY_ISSUER_ADDR: stack.issuer.address,
      AUTHORITY_API_KEY: stack.operatorKey,
      AUTHORITY_TIMEOUT: '15s',
    });
    const r = await cli(io, '--json', 'tenant', 'create', tenant);
    assert.equal(r.code, 0, r.stderr);
    return {
      AUTHORITY_TENANT: tenant,
      AUTHORITY_API_KEY: r.json<{ adminCredential: { secret: string } }>().adminCredential.secret,
    };
  }

  const runnablePages = [...new Set(blocks.filter((b) => b.notRun === undefined).map((b) => b.page))];
  for (const page of runnablePages) {
    test(`${page}: every shell block runs as written`, async () => {
      const own = blocks.filter((b) => b.page === page && b.notRun === undefined);
      // README and the CLI page start from the operator key themselves; the others assume a tenant.
      const session = page === 'README.md' || page === 'docs/cli.md' ? {} : await tenantSession();
      const script = own.map((b) => `echo "### ${page}:${b.line}" >&2\n${b.text}\n`).join('\n');
      const { code, out } = await runBash(script, workdir(), readerEnv(session), 300_000);
      const where = [...out.matchAll(/^### (\S+)$/gm)].at(-1)?.[1];
      assert.equal(code, 0, `the block at ${where ?? page} failed (exit ${code}):\n${out.slice(-4000)}`);
    });
  }
});

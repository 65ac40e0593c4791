// The SDK as a new user installs it: `npm pack` of @authority/proto, core and sdk, installed from
// those tarballs into an empty project outside the repository, offline (third-party packages come
// from the local npm cache, pinned to this repository's lock file), then a tiny script that loads
// the contract and calls an enforcer through the SDK. Proves the packages ship what they need
// (`files`, `exports`, the .proto files) and do not reach back into the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../../../../..');
const PACKED = ['proto', 'core', 'sdk'] as const;

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * A lock file for the empty project: the three tarballs, and every third-party package they need
 * at the version and place this repository's lock has it (so `npm ci --offline` finds each one in
 * the cache by its integrity, without asking the registry).
 */
function appLock(tarballs: Record<string, string>): object {
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const repo = repoLock.packages;
  const workspaceDir = (name: string) => `packages/${name.replace('@authority/', '')}`;
  const out: Record<string, LockEntry> = {};
  // Where `name` resolves from `from` (a repo lock path), node's way: nested first, then upwards.
  const resolveIn = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
      if (repo[candidate] !== undefined) return candidate;
      if (base === '') return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
  };
  // Repo lock path → the app's path (workspace directories become their installed place).
  const appPath = (repoPath: string): string => {
    for (const name of Object.keys(tarballs)) {
      const dir = workspaceDir(name);
      if (repoPath === dir) return `node_modules/${name}`;
      if (repoPath.startsWith(`${dir}/`)) return `node_modules/${name}/${repoPath.slice(dir.length + 1)}`;
    }
    return repoPath;
  };
  const visit = (repoPath: string): void => {
    const target = appPath(repoPath);
    if (out[target] !== undefined) return;
    const entry = repo[repoPath];
    assert.ok(entry, `${repoPath} is not in package-lock.json`);
    const name = Object.keys(tarballs).find((n) => workspaceDir(n) === repoPath);
    if (name !== undefined) {
      const file = tarballs[name]!;
      const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
      const { devDependencies: _dev, ...rest } = entry as LockEntry & { devDependencies?: unknown };
      out[target] = { ...rest, resolved: `file:${file}`, integrity };
    } else {
      out[target] = entry;
    }
    const optionalPeers = new Set(
      Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    );
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const dep of names) {
      if (tarballs[dep] !== undefined) continue; // installed at the root from its tarball
      const found = resolveIn(repoPath, dep);
      if (found === undefined && entry.optionalDependencies?.[dep] !== undefined) continue;
      assert.ok(found, `${dep} (needed by ${repoPath}) is not in package-lock.json`);
      visit(found);
    }
  };
  for (const name of Object.keys(tarballs)) visit(workspaceDir(name));
  const dependencies = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`]));
  return {
    name: 'authority-sdk-user',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'authority-sdk-user', dependencies }, ...out },
  };
}

test(
  'sdk, proto and core install from their packed tarballs into an empty project and work',
  { timeout: 180_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'authority-pack-'));
    try {
      const tarballs: Record<string, string> = {};
      for (const p of PACKED) {
        const [packed] = JSON.parse(
          run('npm', ['pack', '--json', '--pack-destination', dir], join(repoRoot, 'packages', p)),
        ) as { name: string; filename: string; files: { path: string }[] }[];
        assert.ok(packed);
        const paths = packed.files.map((f) => f.path);
        assert.ok(
          !paths.some((f) => f.startsWith('src/') || f.startsWith('dist/test/')),
          `${p} ships sources or tests`,
        );
        if (p === 'proto')
          assert.ok(paths.includes('proto/authority/v1/enforcer.proto'), 'proto ships the .proto files');
        tarballs[packed.name] = join(dir, packed.filename);
      }

      const app = join(dir, 'app');
      mkdirSync(app);
      const lock = appLock(tarballs) as { packages: Record<string, unknown> };
      const root = lock.packages[''] as { name: string; dependencies: Record<string, string> };
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: root.name, private: true, dependencies: root.dependencies }),
      );
      writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock));
      run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);

      // Nothing listens on port 1: the call must fail UNAVAILABLE after the SDK loaded the contract
      // from the installed package.
      writeFileSync(
        join(app, 'use.js'),
        `const { EnforcerClient, Status } = require('@authority/sdk');
const { isValidTenantId } = require('@authority/core');
const { protoRoot } = require('@authority/proto');
const client = new EnforcerClient('127.0.0.1:1', { deadlineMs: 2000, retry: { maxAttempts: 1 } });
client.check({ token: 'not-a-token' }).then(
  () => { console.log(JSON.stringify({ answered: true })); client.close(); },
  (err) => {
    console.log(JSON.stringify({ error: err.name, unavailable: err.code === Status.UNAVAILABLE, tenantRule: isValidTenantId('acme'), protoRoot: protoRoot() }));
    client.close();
  },
);
`,
      );
      const result = JSON.parse(run(process.execPath, ['use.js'], app).trim()) as Record<string, unknown>;
      assert.equal(result['unavailable'], true, JSON.stringify(result));
      assert.equal(result['tenantRule'], true);
      assert.ok(
        String(result['protoRoot']).startsWith(join(app, 'node_modules', '@authority', 'proto')),
        String(result['protoRoot']),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

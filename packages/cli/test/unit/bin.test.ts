// The `authority` bin is a committed shim, so `npm ci` links it on a fresh clone before the build
// (npx authority then works as soon as the build ran, and says what to do before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const pkgDir = resolve(__dirname, '../../..');

test('package.json points the bin at the committed shim, not at build output', () => {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.deepEqual(pkg.bin, { authority: 'bin/authority.js' });
});

test('the shim runs the built CLI', () => {
  const r = spawnSync(process.execPath, [join(pkgDir, 'bin/authority.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: authority/);
});

test('before the build, the shim says to build instead of crashing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authority-bin-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(pkgDir, 'bin/authority.js'), join(dir, 'bin/authority.js'));
    const r = spawnSync(process.execPath, [join(dir, 'bin/authority.js'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not built yet; run `npm run build`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that closes early (| head) ends the CLI quietly, not with an EPIPE crash', async () => {
  const child = spawn(process.execPath, [join(pkgDir, 'bin/authority.js'), '--help'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  assert.equal(code, 0, stderr);
});

test('npx authority resolves through the workspace bin link to the shim', () => {
  // npm ci links node_modules/.bin/authority to the committed shim (before any build), which is
  // what `npx authority` runs from the repository root.
  const repoRoot = resolve(pkgDir, '../..');
  const r = spawnSync('npx', ['--no-install', 'authority', '--help'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: authority/);
});

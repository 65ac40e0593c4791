// Proves that every workspace package (packages/* and services/*) builds and passes its unit tests
// on its own: for each one, its dist is removed, then `npm run build -w <dir>` and
// `npm run test:unit -w <dir>` (or `test` when it has no unit split) run as a user of that one
// package would run them. A package whose build only worked because the root build had already
// produced its output, or whose tests lean on another package's test files, fails here.
//   check-packages.mjs            every package, in the root package.json's workspace order
//   check-packages.mjs <dir>...   only these (e.g. packages/sdk services/auditor)
// Prints one line per step and a summary; exits non-zero when any step failed. Needs no Kafka or
// MongoDB (unit tests only). Takes minutes (every package compiles once more): see the README's
// development section for why `npm test` does not run it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const all = rootPkg.workspaces.filter((w) => /^(packages|services)\//.test(w));
const asked = process.argv.slice(2).map((a) => a.replace(/\/+$/, ''));
const unknown = asked.filter((a) => !all.includes(a));
if (unknown.length > 0) {
  console.error(`not a workspace package: ${unknown.join(', ')} (one of: ${all.join(', ')})`);
  process.exit(2);
}
const dirs = asked.length > 0 ? asked : all;

function run(args) {
  const started = Date.now();
  const res = spawnSync('npm', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: res.status === 0, seconds: (Date.now() - started) / 1000, output: `${res.stdout}${res.stderr}` };
}

const failures = [];
const startedAll = Date.now();
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  // A clean state of this package only: its dependencies' output stays (tsc -b rebuilds it if stale).
  rmSync(join(root, dir, 'dist'), { recursive: true, force: true });
  const steps = [['build', ['run', '-s', 'build', '-w', dir]]];
  const testScript = pkg.scripts?.['test:unit'] ? 'test:unit' : pkg.scripts?.test ? 'test' : undefined;
  if (testScript) steps.push([testScript, ['run', '-s', testScript, '-w', dir]]);
  for (const [name, args] of steps) {
    const r = run(args);
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${dir} ${name} (${r.seconds.toFixed(1)} s)`);
    if (!r.ok) {
      failures.push(`${dir} ${name}`);
      console.log(r.output.split('\n').slice(-60).join('\n'));
      break;
    }
  }
  if (!testScript) {
    console.log(`     ${dir} has no test script: its behaviour is tested from the test/ workspace`);
  }
  if (!existsSync(join(root, dir, 'dist'))) failures.push(`${dir} build left no dist`);
}
const total = ((Date.now() - startedAll) / 1000).toFixed(0);
if (failures.length > 0) {
  console.log(`${failures.length} of ${dirs.length} packages failed (${total} s): ${failures.join('; ')}`);
  process.exit(1);
}
console.log(`${dirs.length} packages built and unit-tested on their own (${total} s)`);

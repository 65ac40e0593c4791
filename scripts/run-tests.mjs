// Runs every compiled test file with node's test runner in one invocation, prints the spec report,
// and ends with the plain `N passed, N failed` line CI reads. Exit code is non-zero on any failure
// or when no test ran at all.
//   run-tests.mjs [all]        every test except the container suites (needs Kafka and MongoDB)
//   run-tests.mjs --unit       tests that need no infrastructure
//   run-tests.mjs --containers the container suite (test/dist/containers: needs a Docker engine
//                              and the locally built images; see scripts/test-containers.sh)
//   run-tests.mjs --faults     the fault-injection suite (test/dist/faults: a Docker engine, the
//                              images, minutes of load; see scripts/test-faults.sh)
//   run-tests.mjs --k8s        the Kubernetes suite (test/dist/k8s: the single-node cluster of
//                              scripts/k8s/up.sh; see scripts/test-k8s.sh)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const mode = process.argv[2] ?? 'all';
if (!['all', '--unit', '--containers', '--faults', '--k8s'].includes(mode)) {
  console.error(`unknown mode '${mode}': all | --unit | --containers | --faults | --k8s`);
  process.exit(2);
}
const roots = ['packages', 'services'];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.test\.(c|m)?js$/.test(name)) out.push(p);
  }
  return out;
}

const files = [];
for (const root of roots) {
  for (const pkg of existsSync(root) ? readdirSync(root) : []) walk(join(root, pkg, 'dist', 'test'), files);
}
walk(join('test', 'dist'), files);
walk(join('test', 'infra-smoke'), files);
walk(join('deploy', 'k8s', 'test'), files);
const isContainerSuite = (f) => /[\\/]containers[\\/]/.test(f);
const isFaultSuite = (f) => /^test[\\/]dist[\\/]faults[\\/]/.test(f);
const isK8sSuite = (f) => /^test[\\/]dist[\\/]k8s[\\/]/.test(f);
const ownSuite = (f) => isContainerSuite(f) || isFaultSuite(f) || isK8sSuite(f);
const selected =
  mode === '--faults'
    ? files.filter(isFaultSuite)
    : mode === '--k8s'
      ? files.filter(isK8sSuite)
      : mode === '--containers'
        ? files.filter((f) => isContainerSuite(f) && !isFaultSuite(f))
        : mode === '--unit'
          ? files.filter((f) => !ownSuite(f) && !/[\\/](integration|e2e|infra-smoke)[\\/]/.test(f))
          : files.filter((f) => !ownSuite(f));
if (selected.length === 0) {
  console.error('no test files found (did the build run?)');
  process.exit(1);
}
mkdirSync('.infra', { recursive: true });
const tapName = {
  '--containers': 'test-results-containers.tap',
  '--faults': 'test-results-faults.tap',
  '--k8s': 'test-results-k8s.tap',
}[mode];
const tap = join('.infra', tapName ?? 'test-results.tap');
const res = spawnSync(
  process.execPath,
  [
    '--test',
    // The Kubernetes suite's files share one cluster (and the dev overlay's namespace): one at a time.
    ...(mode === '--k8s' ? ['--test-concurrency=1'] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...selected.sort(),
  ],
  { stdio: 'inherit' },
);
const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(res.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);

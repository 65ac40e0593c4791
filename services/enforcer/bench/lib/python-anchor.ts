// The original's Python check_envelope as a same-run anchor for the cold checks: a virtualenv
// under .infra/ (never committed) with the pinned authority-runtime from PyPI, created on first
// use, then bench/python/check_envelope_bench.py run in a child process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { note } from './common';

/** The original's release the anchor was written against. */
export const AUTHORITY_RUNTIME_VERSION = '0.6.1';

export interface PythonAnchor {
  check_envelope_ops_per_sec: number;
  pynacl_verify_ops_per_sec: number;
  authority_runtime_version: string;
  pynacl_version: string;
}

const ROOT = resolve(__dirname, '../../../../..');
const VENV = join(ROOT, '.infra', 'bench-pyvenv');
const SCRIPT = join(ROOT, 'services', 'enforcer', 'bench', 'python', 'check_envelope_bench.py');

function ensureVenv(): string | undefined {
  const python = join(VENV, 'bin', 'python');
  if (existsSync(python)) return python;
  note(`creating ${VENV} with authority-runtime==${AUTHORITY_RUNTIME_VERSION} (once)`);
  const mk = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  if (mk.status !== 0) return undefined;
  const pip = spawnSync(
    join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `authority-runtime==${AUTHORITY_RUNTIME_VERSION}`],
    { stdio: 'inherit' },
  );
  return pip.status === 0 ? python : undefined;
}

/** Runs the Python anchor for about `maxMs` per measurement; undefined (with a note) when unavailable. */
export function measurePythonAnchor(maxMs: number): PythonAnchor | undefined {
  const python = ensureVenv();
  if (python === undefined) {
    note('python anchor unavailable (no python3, or authority-runtime not installable)');
    return undefined;
  }
  const run = spawnSync(python, [SCRIPT, String(maxMs)], { encoding: 'utf8' });
  if (run.status !== 0) {
    note(`python anchor failed: ${run.stderr}`);
    return undefined;
  }
  return JSON.parse(run.stdout) as PythonAnchor;
}

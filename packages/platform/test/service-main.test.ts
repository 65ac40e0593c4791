// runServiceMain, as every services/*/src/main.ts uses it: the service's config from the
// environment (exit 78 naming each bad variable), logs where asked, the service stopped on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '@authority/test-helpers';

const MAIN = join(__dirname, 'fixtures', 'run-service-main.js');
const children: ReturnType<typeof spawn>[] = [];

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', PLATFORM_SERVICE_MAIN: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

describe('runServiceMain', () => {
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('exits 78 naming every bad variable of the schema, before starting anything', async () => {
    const m = startMain({ AUTHORITY_GRPC_PORT: 'abc' });
    assert.equal(await m.exited, 78);
    assert.match(m.out.stderr, /AUTHORITY_GRPC_PORT: expected an integer 1-65535, got "abc"/);
    assert.match(m.out.stderr, /KAFKA_BROKERS: required but not set/);
    assert.doesNotMatch(m.out.stdout + m.out.stderr, /fixture service running/);
  });

  it('starts the service with its parsed config, logs where asked, and stops it on SIGTERM (exit 0)', async () => {
    const m = startMain({ KAFKA_BROKERS: 'unused:9092', AUTHORITY_GRPC_PORT: '7001', FIXTURE_LOG_TO_STDERR: '1' });
    await waitFor(() => m.out.stderr.includes('fixture service running'), {
      what: 'the service start',
      timeoutMs: 20_000,
    });
    m.child.kill('SIGTERM');
    assert.equal(await m.exited, 0, m.out.stderr);
    assert.equal(m.out.stdout, '', 'nothing on stdout: the log lines went to stderr');
    const lines = m.out.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.find((l) => l['msg'] === 'fixture service running')?.['grpc_port'], 7001);
    assert.equal(lines.find((l) => l['msg'] === 'fixture service running')?.['service'], 'fixture-main');
    assert.ok(
      lines.some((l) => l['msg'] === 'fixture service stopped'),
      'stop() ran',
    );
  });
});

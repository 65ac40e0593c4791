import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const MAIN = join(__dirname, 'fixtures', 'service-main.js');

function startChild(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', PLATFORM_SERVICE_MAIN: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

describe('a service process (runService)', () => {
  it('on SIGTERM: NOT_SERVING, drains, runs the steps in order, exits 0', async () => {
    const c = startChild({ KAFKA_BROKERS: 'unused:9092' });
    const until = Date.now() + 10_000;
    while (!c.lines.some((l) => l['msg'] === 'fixture started')) {
      if (Date.now() > until) assert.fail(`no start: ${c.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    const msgs = c.lines.map((l) => l['msg']);
    const order = ['fixture shutting down', 'gRPC server stopped', 'closing storage', 'fixture stopped'].map((m) =>
      msgs.indexOf(m),
    );
    assert.ok(
      order.every((i) => i >= 0),
      JSON.stringify(msgs),
    );
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `steps ran in phase order: ${JSON.stringify(c.lines.map((l) => [l['time'], l['msg']]))}`,
    );
    assert.equal(c.lines.find((l) => l['msg'] === 'fixture stopped')!['exit_code'], 0);
  });

  it('exits 78 with every bad variable named on stderr when configuration is invalid', async () => {
    const c = startChild({ AUTHORITY_GRPC_PORT: 'abc' });
    assert.equal(await c.exited, 78);
    assert.match(c.stderr(), /AUTHORITY_GRPC_PORT: expected an integer 1-65535, got "abc"/);
    assert.match(c.stderr(), /KAFKA_BROKERS: required but not set/);
  });
});

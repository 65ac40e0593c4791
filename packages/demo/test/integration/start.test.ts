// Exercises the README's start command end to end: `scripts/start.sh` against the Kafka and
// MongoDB of the test run reaches READY, the scenario's decisions happen as expected, the report
// exists, and Ctrl-C (SIGINT to the process group) stops every process it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GatewaySessionResult } from '../../src/gateway-session';
import type { ScenarioResult } from '../../src/scenario';

const repoRoot = resolve(__dirname, '../../../../..');

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (npm test starts Kafka and FerretDB and sets it)`);
  return v;
}

/** Runs the demo's printed hints in bash from the repository root, without the test's AUTHORITY_* variables. */
function runHints(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('AUTHORITY_')) clean[k] = v;
  return new Promise((done) => {
    const c = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd: repoRoot, env: clean, timeout: 120_000 });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => done({ code, out }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'npm start: reaches READY, plays the scenario as expected, writes the report, and Ctrl-C leaves no process behind',
  { timeout: 240_000 },
  async () => {
    const env = { ...process.env, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'), MONGODB_URI: requireEnv('MONGODB_URI') };
    const runDir = mkdtempSync(join(tmpdir(), 'authority-demo-'));
    const child = spawn('bash', [join(repoRoot, 'scripts/start.sh')], {
      cwd: repoRoot,
      env: { ...env, AUTHORITY_INFRA_RUN: runDir },
      detached: true, // its own process group, so SIGINT reaches it like a terminal's Ctrl-C
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    const ready = await new Promise<boolean>((resolveReady) => {
      const onData = () => {
        if (output.includes('READY. Press Ctrl-C')) resolveReady(true);
      };
      child.stdout.on('data', onData);
      void exited.then(() => resolveReady(false));
    });
    assert.ok(ready, `the start command never reached READY:\n${output}`);

    const result = JSON.parse(readFileSync(join(runDir, 'demo-result.json'), 'utf8')) as ScenarioResult & {
      gateway?: GatewaySessionResult;
    };
    assert.equal(result.ok, true, output);
    const expected = new Map(result.decisions.map((d) => [d.step, d.expected]));
    for (const d of result.decisions) assert.equal(d.decision === 'ALLOW' ? 'ALLOW' : d.reason, d.expected, d.step);
    assert.equal(expected.get('advisor reads a student record for advising'), 'ALLOW');
    assert.equal(expected.get('the same approval used a second time'), 'APPROVAL_INVALID');
    assert.equal(expected.get("sub-agent after its parent's revocation"), 'REVOKED');
    // Holder keys: the sub-agent is named under its parent, truncation is refused, per-request
    // proofs are required where the envelope says so and cannot be replayed.
    assert.deepEqual(result.subAgent, {
      agentId: 'academic-advisor/summarizer',
      agentChain: ['academic-advisor', 'academic-advisor/summarizer'],
    });
    assert.equal(expected.get('sub-agent reads a transcript'), 'ALLOW');
    assert.equal(expected.get("sub-agent presents its parent's link alone (truncation, no seal)"), 'PROOF_REQUIRED');
    assert.equal(expected.get("sub-agent presents its parent's link alone, sealed with its own key"), 'INVALID_PROOF');
    assert.equal(expected.get('auditor presents its sealed token without a per-request proof'), 'PROOF_REQUIRED');
    assert.equal(expected.get('auditor reads with a per-request proof signed by its holder key'), 'ALLOW');
    assert.equal(expected.get('the same request and proof replayed'), 'PROOF_REPLAYED');
    assert.match(
      output,
      /academic-advisor\/summarizer: depth 1, lineage academic-advisor > academic-advisor\/summarizer/,
    );
    assert.equal(result.chainVerified, true);
    // The agent session over MCP: every outcome as expected, the traversal refused by the gateway.
    assert.ok(result.gateway, 'the gateway session ran');
    for (const d of result.gateway.decisions) assert.equal(d.outcome, d.expected, d.step);
    assert.equal(
      result.gateway.decisions.find((d) => d.step === 'read the grades through materials/../')?.outcome,
      'DENY INVALID_REQUEST (arguments.path)',
    );
    assert.ok(existsSync(result.reportPath), result.reportPath);
    const html = readFileSync(result.reportPath, 'utf8');
    assert.match(html, /<html/i);
    assert.ok(html.includes(result.tenant), 'the report names the tenant');
    assert.ok(!/<script/i.test(html), 'the report carries no script');

    // Times are ISO-8601, and the demo says where the operator key is.
    assert.match(
      output,
      /lineage academic-advisor > academic-advisor\/summarizer, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;/,
    );
    assert.match(output, /The operator key \(creates tenants\) is in .*demo-secrets\.json \(operatorKey\)/);
    // Every command the demo prints for exploring runs as printed, from the repository root.
    const hints = output
      .split('\n')
      .filter((l) => /^ {2}(export |npx authority )/.test(l))
      .map((l) => l.trim());
    assert.ok(hints.filter((h) => h.startsWith('npx authority')).length >= 3, output);
    const hinted = await runHints(hints.join('\n'), env).catch((err: unknown) => ({ code: -1, out: String(err) }));
    if (hinted.code !== 0) {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
      assert.fail(`the demo's hints failed (exit ${hinted.code}):\n${hints.join('\n')}\n${hinted.out}`);
    }

    const pids = JSON.parse(readFileSync(join(runDir, 'demo-pids.json'), 'utf8')) as number[];
    assert.equal(pids.length, 5, 'four services and the gateway');
    for (const pid of pids) assert.ok(alive(pid), `service pid ${pid} should run before Ctrl-C`);
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    assert.equal(code, 0, output);
    for (const pid of pids) assert.equal(alive(pid), false, `service pid ${pid} still running after Ctrl-C`);
    // Each service got ONE signal and drained: none exited 1, none saw a second signal.
    assert.doesNotMatch(output, /exited \(/, 'a service reported a non-zero exit');
    for (const name of ['issuer', 'policy', 'enforcer', 'auditor', 'gateway']) {
      const log = readFileSync(join(runDir, 'logs', `${name}.log`), 'utf8');
      assert.doesNotMatch(log, /second signal during shutdown/, `${name} got two signals`);
      assert.match(log, /"exit_code":0/, `${name} stopped cleanly`);
    }
  },
);

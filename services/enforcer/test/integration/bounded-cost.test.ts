// Issue 12, bounded cost per request, against real Kafka: one enforcer process with an explicit
// heap limit takes 100,000 distinct junk links — valid ~3.9 KB children signed offline with the
// holder key (the derivation the SDK's `attenuate` makes; they enter the memo) from five tenants,
// and as many invalid ones — and is still SERVING afterwards, still ALLOWs a normal check, and its
// memo's byte accounting (the `authority.enforcer.memo.bytes` metric) stayed within the budget.
// Before the memo was budgeted in bytes, the same flood (100,000 entries of ~4.4 KiB) exhausted
// the heap and killed the process.
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MEMO_BYTES,
  deriveChild,
  generateEd25519KeyPair,
  offlineSigner,
  randomId,
  type Ed25519KeyPair,
} from '@authority/core';
import type { CheckRequest } from '@authority/proto';
import {
  EnforcerClient,
  SERVING,
  StateFixture,
  healthStatus,
  mint,
  nowSec,
  testPrefix,
  waitFor,
  type TestTenant,
} from '../helpers';
import { spawnEnforcer, type EnforcerProcess } from '../process';

const SCOPE = 'vault:finance:read';
/** The heap limit of the enforcer process (production runs with 256 MiB). */
const HEAP_LIMIT_MIB = 192;
const TOTAL = Number(process.env['BOUNDED_COST_LINKS'] ?? 100_000);
const BATCH = 500;
const FLOODERS = 5;

interface Flooder {
  tenant: TestTenant;
  root: ReturnType<typeof mint>;
  childKey: Ed25519KeyPair;
}

/** 34 distinct resources of 63 characters: a ~3.9 KB child (links are at most 4 KiB). */
function resourcesFor(n: number): string[] {
  return Array.from(
    { length: 34 },
    (_, k) => `slos://vaults/finance/${String(n).padStart(8, '0')}-${String(k).padStart(3, '0')}-${'x'.repeat(28)}`,
  );
}

/** A valid, distinct child of the flooder's root, signed offline with the root's holder key and sealed. */
function validChild(f: Flooder, n: number): CheckRequest {
  const resources = resourcesFor(n);
  const child = deriveChild(
    f.root.token,
    { resources, holderKey: f.childKey },
    offlineSigner(f.root.holderSecretKey!),
    nowSec(),
  );
  return { token: child.token, requiredScope: SCOPE, resource: resources[0]! };
}

/**
 * A distinct child as large as a valid one whose signature is random bytes: parsed, then refused
 * INVALID_SIGNATURE (it costs a verification and never enters the memo).
 */
function invalidChild(f: Flooder, template: string, n: number): CheckRequest {
  const [header, payload] = template.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const resources = resourcesFor(n);
  claims['jti'] = randomId(16);
  claims['res'] = resources;
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = randomBytes(64).toString('base64url');
  return { token: `${f.root.chain}~${header}.${body}.${signature}`, requiredScope: SCOPE, resource: resources[0]! };
}

describe('bounded cost per request (one enforcer process, real Kafka)', { timeout: 30 * 60_000 }, () => {
  const prefix = testPrefix();
  let fixture: StateFixture;
  let proc: EnforcerProcess;
  let client: EnforcerClient;
  let normal: TestTenant;
  const flooders: Flooder[] = [];

  before(async () => {
    fixture = await StateFixture.create(prefix);
    normal = await fixture.tenant();
    for (let i = 0; i < FLOODERS; i++) {
      const tenant = await fixture.tenant();
      flooders.push({
        tenant,
        root: mint(tenant, { scopes: [SCOPE], resources: ['slos://vaults/finance/*'] }),
        childKey: generateEd25519KeyPair(),
      });
    }
    // The defaults: a 64 MiB memo budget, 25 % of it per tenant.
    proc = await spawnEnforcer(prefix, { nodeArgs: [`--max-old-space-size=${HEAP_LIMIT_MIB}`] });
    client = new EnforcerClient(proc.port);
    await waitFor(async () => (await healthStatus(proc.port)) === SERVING, {
      timeoutMs: 60_000,
      what: 'health SERVING',
    });
  });

  after(async () => {
    client?.close();
    await proc?.stop();
    await fixture?.close();
  });

  test(`${TOTAL} distinct junk links: still SERVING, a normal check still ALLOWs, the memo within its budget`, async () => {
    const started = performance.now();
    const templates = flooders.map((f) => (validChild(f, -1).token as string).split('~')[1]!);
    let valid = 0;
    let invalid = 0;
    let maxMemoBytes = 0;
    for (let sent = 0, n = 0; sent < TOTAL; sent += BATCH) {
      const f = flooders[(sent / BATCH) % FLOODERS]!;
      const checks: CheckRequest[] = [];
      for (let i = 0; i < BATCH && sent + i < TOTAL; i++, n++) {
        checks.push(i % 2 === 0 ? validChild(f, n) : invalidChild(f, templates[flooders.indexOf(f)]!, n));
      }
      const { results } = await client.batch(f.tenant.checkerSecret, checks).catch(async (err: Error) => {
        // Tell a dead enforcer (what the flood did before the memo was budgeted) from a failed call.
        await waitFor(() => proc.exited !== undefined, { timeoutMs: 5_000 }).catch(() => undefined);
        throw new Error(
          `BatchCheck after ${sent} checks: ${err.message}; enforcer exited: ${String(proc.exited)}; its stderr ends: ${proc.stderr.slice(-1500)}`,
        );
      });
      results.forEach((r, i) => {
        if (i % 2 === 0) {
          assert.equal(r.reason, 'ALLOWED', r.message);
          valid++;
        } else {
          assert.equal(r.reason, 'INVALID_SIGNATURE', r.message);
          invalid++;
        }
      });
      if ((sent / BATCH) % 20 === 19) {
        assert.equal(proc.exited, undefined, `the enforcer died: ${proc.stderr.slice(-2000)}`);
        assert.equal(await healthStatus(proc.port), SERVING);
        const { metrics } = await proc.stats();
        maxMemoBytes = Math.max(maxMemoBytes, metrics['authority.enforcer.memo.bytes'] ?? 0);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    assert.equal(valid + invalid, TOTAL);

    // Still alive and serving, and a normal check of another tenant is answered ALLOW.
    assert.equal(proc.exited, undefined, `the enforcer died: ${proc.stderr.slice(-2000)}`);
    assert.equal(await healthStatus(proc.port), SERVING);
    const ok = await client.check(normal.checkerSecret, {
      token: mint(normal).token,
      requiredScope: SCOPE,
      resource: 'slos://vaults/finance/doc-001',
    });
    assert.equal(ok.decision, 'ALLOW', ok.message);

    // The memo filled up to its budget and no further; its evictions made room.
    const { metrics, memory } = await proc.stats();
    const memoBytes = metrics['authority.enforcer.memo.bytes'];
    assert.ok(memoBytes !== undefined, `memo metric exported: ${JSON.stringify(metrics)}`);
    maxMemoBytes = Math.max(maxMemoBytes, memoBytes);
    assert.ok(maxMemoBytes <= DEFAULT_MEMO_BYTES, `memo charged ${maxMemoBytes} bytes`);
    assert.ok(memoBytes > 0.75 * DEFAULT_MEMO_BYTES, `the flood filled the memo (${memoBytes} bytes)`);
    const entries = metrics['authority.enforcer.memo.entries'] ?? 0;
    assert.ok(entries > 0 && entries < valid, `${entries} entries`);
    assert.ok((metrics['authority.enforcer.memo.evictions'] ?? 0) >= valid - entries);
    assert.ok(memory.heapUsed < HEAP_LIMIT_MIB * 1024 * 1024);
    process.stderr.write(
      `# bounded cost: ${TOTAL} checks (${valid} valid children, ${invalid} invalid) in ${seconds.toFixed(1)} s ` +
        `(${Math.round(TOTAL / seconds)}/s); memo ${entries} entries, ${(memoBytes / 1048576).toFixed(1)} MiB charged ` +
        `(max seen ${(maxMemoBytes / 1048576).toFixed(1)} MiB, budget ${DEFAULT_MEMO_BYTES / 1048576} MiB); ` +
        `heap used ${(memory.heapUsed / 1048576).toFixed(1)} MiB of ${HEAP_LIMIT_MIB} MiB, RSS ${(memory.rss / 1048576).toFixed(0)} MiB\n`,
    );
  });
});

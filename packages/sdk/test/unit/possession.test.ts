// Proof of possession, holder side: per-request proofs that core's verifier accepts for exactly the
// request the enforcer decodes, `enforced`/EnforcerClient attaching them (fresh per attempt),
// typed PROOF_* denials, the issuer's generated holder keys, and secret key material never showing
// up in logs, JSON or errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import {
  AuthorityError,
  ReplayCache,
  cryptoReady,
  declareUnconstrained,
  ed25519Verify,
  generateEd25519KeyPair,
  hashLink,
  mintRoot,
  parseConstraints,
  splitSeal,
  verifyEnvelope,
  verifyRequestProof,
  type CheckInput,
  type Ed25519KeyPair,
} from '@authority/core';
import type { CheckRequest__Output } from '@authority/proto';
import {
  AuthorityDeniedError,
  EnforcerClient,
  HolderKey,
  InternalError,
  InvalidProofError,
  IssuerClient,
  ProofRequiredError,
  attenuate,
  enforced,
  isSealed,
  requestProof,
  seal,
  tokenNeedsProof,
  withPurpose,
} from '../../src';
import { startFake, startFakeEnforcer, statusError, v1, type FakeServer } from './fake-server';

const NOW = Math.floor(Date.now() / 1000);
let tenantKey: Ed25519KeyPair;
before(async () => {
  await cryptoReady();
  tenantKey = generateEd25519KeyPair();
});

function rootChain(holderPublicKey: Uint8Array, constraints: Record<string, unknown> = { unconstrained: true }) {
  return mintRoot(
    {
      tenant: 'acme',
      agent: 'reader',
      scopes: ['vault:finance:read'],
      resources: ['slos://vaults/finance/*'],
      context: ['ticket'],
      constraints: parseConstraints(constraints, 'INVALID_REQUEST', 'constraints'),
      ttlSeconds: 3600,
      holderKey: holderPublicKey,
    },
    { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
  ).token;
}

/** What the enforcer hands the engine for a decoded request (proto3: '' is absent). */
function asEngineInput(req: CheckRequest__Output): CheckInput {
  const input: CheckInput = { token: req.token, requiredScope: req.requiredScope };
  if (req.resource !== '') input.resource = req.resource;
  if (req.action !== '') input.action = req.action;
  if (req.approvalId !== '') input.approvalId = req.approvalId;
  const ctx = req.context;
  if (ctx) {
    const context: NonNullable<CheckInput['context']> = {};
    if (ctx.purpose !== '') context.purpose = ctx.purpose;
    if (ctx.recordCount !== undefined && ctx.recordCount !== null) context.recordCount = ctx.recordCount;
    if (ctx.fields && Object.keys(ctx.fields).length > 0) context.fields = ctx.fields;
    input.context = context;
  }
  return input;
}

/** Verifies a received proof as the enforcer does; throws AuthorityError when it would refuse it. */
function verifyReceived(req: CheckRequest__Output, holder: HolderKey, replay = new ReplayCache(100)): void {
  const leaf = splitSeal(req.token).chain.split('~').pop() as string;
  verifyRequestProof(req.proof, {
    tenant: 'acme',
    leafHash: hashLink(leaf),
    holderKey: holder.publicKey,
    request: asEngineInput(req),
    now: Math.floor(Date.now() / 1000),
    skewSeconds: 30,
    windowSeconds: 60,
    replay,
    verifySignature: ed25519Verify,
  });
}

const ALLOW = { decision: 'ALLOW' as const, reason: 'ALLOWED' as const, decisionId: 'd-ok' };

describe('per-request proofs', { timeout: 30_000 }, () => {
  let server: FakeServer;
  let client: EnforcerClient;
  const received = () => server.calls.map((c) => c.request as CheckRequest__Output);
  before(async () => {
    server = await startFakeEnforcer(() => ALLOW);
    client = new EnforcerClient(server.address, { deadlineMs: 5000 });
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  test('enforced signs a proof that the verifier accepts for exactly this request, and only this one', async () => {
    const holder = await HolderKey.generate();
    const chain = rootChain(holder.publicKey);
    server.calls.length = 0;
    const read = enforced(
      async (doc: string) => `read ${doc}`,
      {
        scope: 'vault:finance:read',
        resource: (doc: string) => `slos://vaults/finance/${doc}`,
        context: () => ({ recordCount: 2, fields: { ticket: 'T-1' } }),
      },
      { enforcer: client, token: chain, holderKey: holder },
    );
    assert.equal(await withPurpose('audit', () => read('q1')), 'read q1');
    await read('q2'); // no purpose: '' on the wire
    const [first, second] = received();
    assert.ok(first && second);
    assert.equal(first.token, chain, 'the token is sent as it is');
    assert.ok(first.proof.length > 0 && second.proof.length > 0);
    verifyReceived(first, holder);
    verifyReceived(second, holder);
    // Bound to the request: another resource, scope or context is refused; so is a replay.
    const wrong = (patch: Partial<CheckRequest__Output>) => () => verifyReceived({ ...first, ...patch }, holder);
    assert.throws(wrong({ resource: 'slos://vaults/finance/q2' }), /another request \(res\)/);
    assert.throws(wrong({ requiredScope: 'vault:finance:write' }), /another request \(scp\)/);
    assert.throws(wrong({ context: { ...first.context!, recordCount: 3 } }), /another request \(cxd\)/);
    const replay = new ReplayCache(10);
    verifyReceived(first, holder, replay);
    assert.throws(
      () => verifyReceived(first, holder, replay),
      (e: unknown) => e instanceof AuthorityError && e.reason === 'PROOF_REPLAYED',
    );
  });

  test('withApproval: the proof covers the approval id (apr); the verifier refuses it for another id or none', async () => {
    const holder = await HolderKey.generate();
    const chain = rootChain(holder.publicKey);
    server.calls.length = 0;
    const read = enforced(
      async (doc: string) => `read ${doc}`,
      { scope: 'vault:finance:read', resource: (doc: string) => `slos://vaults/finance/${doc}` },
      { enforcer: client, token: chain, holderKey: holder },
    );
    assert.equal(await read.withApproval('apr-1')('q1'), 'read q1');
    const [sent] = received();
    assert.equal(sent?.approvalId, 'apr-1');
    const payload = JSON.parse(Buffer.from(sent!.proof.split('.')[1]!, 'base64url').toString()) as { apr?: string };
    assert.equal(payload.apr, 'apr-1');
    verifyReceived(sent!, holder);
    for (const approvalId of ['apr-2', '']) {
      assert.throws(
        () => verifyReceived({ ...sent!, approvalId }, holder),
        (e: unknown) => e instanceof AuthorityError && e.reason === 'INVALID_PROOF' && e.field === 'proof.apr',
        approvalId,
      );
    }
    // Without an approval the proof has no apr member, as before.
    const bare = requestProof(chain, holder, { requiredScope: 'vault:finance:read' });
    assert.equal('apr' in (JSON.parse(Buffer.from(bare.split('.')[1]!, 'base64url').toString()) as object), false);
  });

  test('auto: a proof only when the token is unsealed or says pop: required; always; never', async () => {
    const holder = await HolderKey.generate();
    const sealed = seal(rootChain(holder.publicKey), holder);
    const popSealed = seal(rootChain(holder.publicKey, { pop: 'required' }), holder);
    assert.equal(tokenNeedsProof(sealed), false);
    assert.equal(tokenNeedsProof(popSealed), true);
    assert.equal(tokenNeedsProof(splitSeal(sealed).chain), true);
    const run = async (token: string, proof?: 'auto' | 'always' | 'never') => {
      server.calls.length = 0;
      await enforced(
        async () => 'ok',
        { scope: 'vault:finance:read' },
        {
          enforcer: client,
          token,
          holderKey: holder,
          ...(proof ? { proof } : {}),
        },
      )();
      return received()[0]?.proof ?? '';
    };
    assert.equal(await run(sealed), '');
    assert.notEqual(await run(popSealed), '');
    assert.notEqual(await run(sealed, 'always'), '');
    assert.equal(await run(splitSeal(sealed).chain, 'never'), '');
    assert.throws(
      () => enforced(async () => 1, { scope: 'a:b' }, { enforcer: client, token: sealed, proof: 'always' }),
      /needs options.holderKey/,
    );
  });

  test("a key that is not the leaf's: INVALID_REQUEST, nothing is sent, the tool does not run", async () => {
    const holder = await HolderKey.generate();
    const other = await HolderKey.generate();
    const chain = rootChain(holder.publicKey);
    server.calls.length = 0;
    let runs = 0;
    for (const enforcer of [client, { check: client.check.bind(client) }]) {
      await assert.rejects(
        enforced(async () => runs++, { scope: 'vault:finance:read' }, { enforcer, token: chain, holderKey: other })(),
        (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'INVALID_REQUEST' && e.field === 'holder_key',
      );
    }
    assert.equal(runs, 0);
    assert.equal(server.calls.length, 0);
    assert.throws(() => requestProof(chain, other, { requiredScope: 'a:b' }), /not the last link's 'cnf' key/);
  });

  test('EnforcerClient: a default holder key, per-call override, batchCheck items', async () => {
    const holder = await HolderKey.generate();
    const chain = rootChain(holder.publicKey);
    const withKey = new EnforcerClient(server.address, { holderKey: holder });
    server.calls.length = 0;
    await withKey.check({ token: chain, requiredScope: 'vault:finance:read' });
    await withKey.check({ token: chain, requiredScope: 'vault:finance:read' }, { proof: 'never' });
    await withKey.check({ token: chain, requiredScope: 'vault:finance:read', proof: 'given-by-caller' });
    const [a, b, c] = received();
    verifyReceived(a!, holder);
    assert.equal(b?.proof, '');
    assert.equal(c?.proof, 'given-by-caller');
    assert.throws(() => new EnforcerClient(server.address, { proof: 'always' }), /needs a holderKey/);
    withKey.close();

    const batch = await startFake(v1().EnforcerService.service, {
      BatchCheck: (_call, cb) => cb(null, { results: [ALLOW, ALLOW] }),
    });
    const batcher = new EnforcerClient(batch.address);
    await batcher.batchCheck(
      {
        checks: [
          { token: chain, requiredScope: 'vault:finance:read' },
          { token: chain, requiredScope: 'x:y' },
        ],
      },
      { holderKey: holder },
    );
    const items = (batch.calls[0]?.request as { checks: CheckRequest__Output[] }).checks;
    assert.equal(items.length, 2);
    for (const item of items) verifyReceived(item, holder);
    assert.notEqual(items[0]?.proof, items[1]?.proof);
    batcher.close();
    await batch.stop();
  });

  test('a retried check carries a fresh proof (a retry never replays a nonce)', async () => {
    const holder = await HolderKey.generate();
    const chain = rootChain(holder.publicKey);
    const down = await startFakeEnforcer(() => statusError(grpc.status.UNAVAILABLE, 'restarting'));
    const up = await startFakeEnforcer(() => ALLOW);
    const replicas = new EnforcerClient([down.address, up.address], {
      holderKey: holder,
      retry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    assert.equal((await replicas.check({ token: chain, requiredScope: 'vault:finance:read' })).decision, 'ALLOW');
    const first = down.calls[0]?.request as CheckRequest__Output;
    const second = up.calls[0]?.request as CheckRequest__Output;
    const replay = new ReplayCache(10);
    verifyReceived(first, holder, replay);
    verifyReceived(second, holder, replay); // a different nonce: not a replay
    assert.notEqual(first.proof, second.proof);
    replicas.close();
    await down.stop();
    await up.stop();
  });

  test('PROOF_REQUIRED, INVALID_PROOF and PROOF_REPLAYED are typed errors', async () => {
    for (const [reason, Cls] of [
      ['PROOF_REQUIRED', ProofRequiredError],
      ['INVALID_PROOF', InvalidProofError],
      ['PROOF_REPLAYED', InvalidProofError],
    ] as const) {
      const deny = await startFakeEnforcer(() => ({
        decision: 'DENY',
        reason,
        message: 'no',
        decisionId: 'd',
        field: 'seal',
      }));
      const c = new EnforcerClient(deny.address);
      let runs = 0;
      const err = await enforced(async () => runs++, { scope: 'a:b' }, { enforcer: c, token: 't' })().catch(
        (e: unknown) => e,
      );
      assert.ok(err instanceof Cls, `${reason}: ${String(err)}`);
      assert.ok(err instanceof AuthorityDeniedError);
      assert.equal(err.reason, reason);
      assert.equal(err.field, 'seal');
      assert.equal(runs, 0);
      c.close();
      await deny.stop();
    }
  });
});

describe('issuer: generated holder keys, sealed parents', { timeout: 30_000 }, () => {
  test("mint returns the issuer's generated key as a HolderKey; delegate seals an unsealed parent", async () => {
    const generated = generateEd25519KeyPair();
    const minted = mintRoot(
      {
        tenant: 'acme',
        agent: 'reader',
        scopes: ['vault:finance:read'],
        resources: [],
        context: [],
        constraints: declareUnconstrained(),
        ttlSeconds: 600,
        holderKey: generated,
      },
      { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
    );
    const seed = Buffer.from(generated.secretKey.subarray(0, 32));
    let delegatedParent = '';
    const server = await startFake(v1().IssuerService.service, {
      Mint: (call, cb) => {
        const req = call.request as { agentId: string };
        if (req.agentId === 'wrong-seed')
          cb(null, { envelope: { token: minted.token, sealed: true }, holderSecretKey: Buffer.alloc(32, 7) });
        else if (req.agentId === 'no-envelope') cb(null, {});
        else
          cb(null, { envelope: { token: minted.token, sealed: true, agentChain: ['reader'] }, holderSecretKey: seed });
      },
      Delegate: (call, cb) => {
        delegatedParent = (call.request as { parentToken: string }).parentToken;
        cb(null, { envelope: { token: minted.token, sealed: false } });
      },
    });
    const issuer = new IssuerClient(server.address, { tenant: 'acme' });
    const res = await issuer.mint({ agentId: 'reader', ttlSeconds: 600 });
    assert.ok(res.holderKey instanceof HolderKey);
    assert.equal(res.envelope.token, minted.token);
    assert.deepEqual(res.envelope.agentChain, ['reader']);
    assert.equal(seal(splitSeal(minted.token).chain, res.holderKey), minted.token);
    assert.equal('holderSecretKey' in res, false);

    await assert.rejects(
      issuer.mint({ agentId: 'wrong-seed' }),
      (e: unknown) => e instanceof InternalError && /not the envelope's 'cnf' key/.test(e.message),
    );
    await assert.rejects(issuer.mint({ agentId: 'no-envelope' }), InternalError);

    const unsealed = splitSeal(minted.token).chain;
    const child = await issuer.delegate(
      { parentToken: unsealed, agentId: 'reader/summarizer', holderPublicKey: Buffer.alloc(32, 1) },
      { parentHolderKey: res.holderKey },
    );
    assert.equal(child.holderKey, undefined);
    assert.equal(isSealed(delegatedParent), true);
    assert.equal(
      verifyEnvelope(delegatedParent, {
        resolveKey: () => tenantKey.publicKey,
        now: NOW,
        isRevoked: () => false,
      }).agent,
      'reader',
    );
    issuer.close();
    await server.stop();
  });
});

describe('secret key material never shows', { timeout: 30_000 }, () => {
  test('HolderKey, issued envelopes and errors are rendered without the secret', async () => {
    const key = await HolderKey.generate();
    const seed = Buffer.from(key.exportSeed());
    const full = Buffer.from(key.exportPrivateJwk().d as string, 'base64url');
    assert.deepEqual(full, seed);
    const secretForms = [
      seed.toString('hex'),
      seed.toString('base64'),
      seed.toString('base64url'),
      seed.toString('base64').slice(0, 20),
      seed.toString('hex').slice(0, 20),
      [...seed.subarray(0, 8)].join(', '), // util.inspect of a Uint8Array
      [...seed.subarray(0, 8)].join(','),
      `"0":${seed[0]},"1":${seed[1]},"2":${seed[2]}`, // JSON of a Uint8Array
    ];
    const renderings = (value: unknown): string[] => [
      JSON.stringify(value) ?? '',
      String(value),
      inspect(value, { showHidden: true, depth: Infinity, getters: true }),
      inspect(value, { showHidden: true, depth: Infinity, customInspect: false }),
      format('%o %O %j %s', value, value, value, value),
      JSON.stringify(structuredClone(value)) ?? '',
      value instanceof Error
        ? `${value.stack ?? ''} ${inspect(value.cause, { depth: Infinity, showHidden: true })}`
        : '',
    ];
    const assertClean = (what: string, value: unknown) => {
      for (const text of renderings(value)) {
        for (const form of secretForms) assert.ok(!text.includes(form), `${what} shows the secret (${form}):\n${text}`);
      }
    };

    assertClean('a HolderKey', key);
    assertClean('an object holding a HolderKey', { agent: 'a', holderKey: key, nested: [key] });
    assert.deepEqual(Object.keys(key), ['publicKey']);
    assert.match(inspect(key), /secretKey: \[redacted\]/);
    assert.equal(JSON.parse(JSON.stringify(key)).secretKey, '[redacted]');

    // Errors raised around the key: a wrong key for a chain, attenuation with the wrong key, a
    // check whose key is not the leaf's.
    const other = await HolderKey.generate();
    const chain = rootChain(other.publicKey);
    const errors: unknown[] = [];
    try {
      seal(chain, key);
    } catch (e) {
      errors.push(e);
    }
    errors.push(await attenuate(chain, key, {}).catch((e: unknown) => e));
    errors.push(
      await enforced(
        async () => 1,
        { scope: 'vault:finance:read' },
        {
          enforcer: { check: async () => ALLOW as never },
          token: chain,
          holderKey: key,
        },
      )().catch((e: unknown) => e),
    );
    assert.equal(errors.length, 3);
    for (const e of errors) {
      assert.ok(e instanceof Error);
      assertClean(`error ${(e as Error).name}`, e);
    }

    // What Mint returns when the issuer generated the key.
    const generated = await HolderKey.fromSeed(seed);
    const root = rootChain(generated.publicKey);
    const server = await startFake(v1().IssuerService.service, {
      Mint: (_call, cb) =>
        cb(null, { envelope: { token: seal(root, generated), sealed: true }, holderSecretKey: seed }),
    });
    const issuer = new IssuerClient(server.address, { tenant: 'acme' });
    const issued = await issuer.mint({ agentId: 'reader' });
    assert.equal(issued.holderKey?.publicKeyBase64Url, key.publicKeyBase64Url);
    assertClean('an issued envelope', issued);
    issuer.close();
    await server.stop();
  });
});

// Holder keys on the command line, without infrastructure: keygen, seal, attenuate (offline),
// mint/delegate against a fake issuer (generated keys written 0600, never printed unless asked),
// check with per-request proofs against a fake enforcer. Secret key material never reaches
// stdout/stderr unless --print-secret.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  ReplayCache,
  cryptoReady,
  declareUnconstrained,
  ed25519Verify,
  generateEd25519KeyPair,
  hashLink,
  mintRoot,
  splitSeal,
  verifyEnvelope,
  verifyRequestProof,
  type Ed25519KeyPair,
} from '@authority/core';
import { loadAuthorityProto, type CheckRequest__Output } from '@authority/proto';
import { HolderKey, isSealed } from '@authority/sdk';
import { ExitCode } from '../../src';
import { cli, testIo, type TestIo } from '../helpers';

const NOW = Math.floor(Date.now() / 1000);
let tenantKey: Ed25519KeyPair;

before(async () => {
  await cryptoReady();
  tenantKey = generateEd25519KeyPair();
});

const verify = (token: string) =>
  verifyEnvelope(token, { resolveKey: () => tenantKey.publicKey, now: NOW, isRevoked: () => false });

function rootChain(holderPublicKey: Uint8Array, agent = 'planner'): string {
  return mintRoot(
    {
      tenant: 'acme',
      agent,
      scopes: ['vault:*:read'],
      resources: ['slos://vaults/*'],
      context: [],
      constraints: declareUnconstrained(),
      ttlSeconds: 3600,
      holderKey: holderPublicKey,
    },
    { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
  ).token;
}

async function mode(io: TestIo, file: string): Promise<number> {
  return (await fs.stat(path.resolve(io.dir, file))).mode & 0o777;
}

async function keyFile(io: TestIo, file: string): Promise<HolderKey> {
  return HolderKey.fromJwk(JSON.parse(await io.readFile(file)));
}

/** Every way the key's secret could be spelled in output. */
function secretForms(key: HolderKey): string[] {
  const seed = Buffer.from(key.exportSeed());
  return [seed.toString('base64url'), seed.toString('base64'), seed.toString('hex')];
}

function assertNoSecret(key: HolderKey, ...outputs: string[]): void {
  for (const out of outputs) for (const s of secretForms(key)) assert.ok(!out.includes(s), `secret in output:\n${out}`);
}

describe('keygen and seal', { timeout: 30_000 }, () => {
  test('keygen writes a 0600 key file, prints only the public key, never overwrites', async () => {
    const io = testIo();
    const r = await cli(io, 'envelope', 'keygen', '--out', 'agent.jwk');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await mode(io, 'agent.jwk'), 0o600);
    const key = await keyFile(io, 'agent.jwk');
    assert.match(r.stdout, new RegExp(`public key \\(x\\): ${key.publicKeyBase64Url}`));
    assertNoSecret(key, r.stdout, r.stderr);
    const again = await cli(io, 'envelope', 'keygen', '--out', 'agent.jwk');
    assert.equal(again.code, ExitCode.USAGE);
    assert.match(again.stderr, /file exists/);
    assert.equal((await keyFile(io, 'agent.jwk')).publicKeyBase64Url, key.publicKeyBase64Url);
    // -q prints the public x alone, for X=$(authority envelope keygen -o FILE -q) in scripts.
    const quiet = await cli(io, 'envelope', 'keygen', '--out', 'quiet.jwk', '-q');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, `${(await keyFile(io, 'quiet.jwk')).publicKeyBase64Url}\n`);
  });

  test("seal makes the holder's chain presentable; another key is refused", async () => {
    const io = testIo();
    await cli(io, 'envelope', 'keygen', '--out', 'agent.jwk');
    await cli(io, 'envelope', 'keygen', '--out', 'other.jwk');
    const key = await keyFile(io, 'agent.jwk');
    const chain = rootChain(key.publicKey);
    const r = await cli(io, 'envelope', 'seal', chain, '--holder-key', 'agent.jwk', '-q');
    assert.equal(r.code, 0, r.stderr);
    const sealed = r.stdout.trim();
    assert.ok(isSealed(sealed));
    assert.equal(verify(sealed).agent, 'planner');
    assertNoSecret(key, r.stdout, r.stderr);
    const wrong = await cli(io, '--json', 'envelope', 'seal', chain, '--holder-key', 'other.jwk');
    assert.equal(wrong.code, ExitCode.FAILURE);
    assert.deepEqual(
      (({ reason, field }) => ({ reason, field }))(wrong.errJson<{ error: { reason: string; field: string } }>().error),
      { reason: 'INVALID_REQUEST', field: 'holder_key' },
    );
    assertNoSecret(await keyFile(io, 'other.jwk'), wrong.stdout, wrong.stderr);
  });
});

describe('attenuate (offline)', { timeout: 30_000 }, () => {
  test("prints the UNSEALED child chain bound to the sub-agent's public key", async () => {
    const io = testIo({}, { now: () => NOW * 1000 });
    await cli(io, 'envelope', 'keygen', '--out', 'planner.jwk');
    const sub = await cli(io, '--json', 'envelope', 'keygen', '--out', 'sub.jwk');
    const subX = sub.json<{ publicKey: { x: string } }>().publicKey.x;
    const planner = await keyFile(io, 'planner.jwk');
    const parent = rootChain(planner.publicKey);

    const need = await cli(io, 'envelope', 'attenuate', parent, '--holder-key', 'planner.jwk');
    assert.equal(need.code, ExitCode.USAGE);
    assert.match(need.stderr, /--child-public-key/);

    const r = await cli(
      io,
      '--json',
      'envelope',
      'attenuate',
      parent,
      '--holder-key',
      'planner.jwk',
      '--agent',
      'planner/reader',
      '--scope',
      'vault:finance:read',
      '--child-public-key',
      subX,
      '--ttl',
      '5m',
    );
    assert.equal(r.code, 0, r.stderr);
    const body = r.json<{ envelope: { token: string; sealed: boolean; agentChain: string[]; agentId: string } }>();
    assert.equal(body.envelope.sealed, false);
    assert.deepEqual(body.envelope.agentChain, ['planner', 'planner/reader']);
    assert.equal('childKey' in body, false);
    assertNoSecret(planner, r.stdout, r.stderr);
    // The sub-agent seals it with its own key; then it verifies.
    const sealed = await cli(io, 'envelope', 'seal', body.envelope.token, '--holder-key', 'sub.jwk', '-q');
    assert.equal(verify(sealed.stdout.trim()).agent, 'planner/reader');

    const outside = await cli(
      io,
      'envelope',
      'attenuate',
      parent,
      '--holder-key',
      'planner.jwk',
      '--agent',
      'reader',
      '--child-public-key',
      subX,
    );
    assert.equal(outside.code, ExitCode.DENIED);
    assert.match(outside.stderr, /CHAIN_VIOLATION \(sub\)/);
  });

  test('a generated child key goes to a 0600 file, or to stdout only with --print-secret', async () => {
    const io = testIo({}, { now: () => NOW * 1000 });
    await cli(io, 'envelope', 'keygen', '--out', 'planner.jwk');
    const parent = rootChain((await keyFile(io, 'planner.jwk')).publicKey);
    const r = await cli(
      io,
      'envelope',
      'attenuate',
      parent,
      '--holder-key',
      'planner.jwk',
      '--agent',
      'planner/helper',
      '--child-key-out',
      'helper.jwk',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await mode(io, 'helper.jwk'), 0o600);
    const helper = await keyFile(io, 'helper.jwk');
    assert.match(r.stdout, /child's holder key written to helper\.jwk \(mode 0600\)/);
    assertNoSecret(helper, r.stdout, r.stderr);
    const chain = r.stdout.trim().split('\n').pop() as string;
    const sealed = await cli(io, 'envelope', 'seal', chain, '--holder-key', 'helper.jwk', '-q');
    assert.equal(verify(sealed.stdout.trim()).agent, 'planner/helper');

    const printed = await cli(
      io,
      '--json',
      'envelope',
      'attenuate',
      parent,
      '--holder-key',
      'planner.jwk',
      '--print-secret',
    );
    assert.equal(printed.code, 0, printed.stderr);
    const jwk = printed.json<{ childKey: { jwk: { d: string; x: string } } }>().childKey.jwk;
    const printedKey = await HolderKey.fromJwk({ kty: 'OKP', crv: 'Ed25519', ...jwk });
    assert.equal(printedKey.publicKeyBase64Url, jwk.x);
  });
});

describe('mint, delegate and check against fake services', { timeout: 30_000 }, () => {
  let server: grpc.Server;
  let address = '';
  const mints: {
    holderPublicKey: Buffer;
    agentId: string;
    ttlSeconds: number;
    grant: { scopes: string[]; resources: string[]; constraintsJson: string };
  }[] = [];
  /** The tenant policy the fake policy service serves (none: NOT_FOUND). */
  let policyYaml: string | undefined;
  const delegations: { parentToken: string; holderPublicKey: Buffer; agentId: string }[] = [];
  const checks: CheckRequest__Output[] = [];
  let lastGenerated: Ed25519KeyPair | undefined;

  /** Mints as the issuer does: bound to the given key (unsealed), or to a generated one (sealed, seed returned). */
  function issue(holderPublicKey: Buffer, agent: string) {
    if (holderPublicKey.length === 32) {
      return { envelope: envelopeOf(rootChain(holderPublicKey, agent), agent, false) };
    }
    lastGenerated = generateEd25519KeyPair();
    const minted = mintRoot(
      {
        tenant: 'acme',
        agent,
        scopes: ['vault:*:read'],
        resources: [],
        context: [],
        constraints: declareUnconstrained(),
        ttlSeconds: 3600,
        holderKey: lastGenerated,
      },
      { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
    );
    return {
      envelope: envelopeOf(minted.token, agent, true),
      holderSecretKey: Buffer.from(lastGenerated.secretKey.subarray(0, 32)),
    };
  }
  const envelopeOf = (token: string, agent: string, sealed: boolean) => ({
    token,
    jti: 'j',
    agentId: agent,
    tenant: 'acme',
    depth: 0,
    keyId: 'k1',
    sealed,
    agentChain: [agent],
  });

  before(async () => {
    server = new grpc.Server();
    const v1 = loadAuthorityProto().grpcObject.authority.v1;
    server.addService(v1.IssuerService.service, {
      Mint: (call: grpc.ServerUnaryCall<(typeof mints)[number], unknown>, cb: grpc.sendUnaryData<unknown>) => {
        mints.push(call.request);
        cb(null, issue(call.request.holderPublicKey, call.request.agentId));
      },
      Delegate: (
        call: grpc.ServerUnaryCall<{ parentToken: string; holderPublicKey: Buffer; agentId: string }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        delegations.push(call.request);
        cb(null, issue(call.request.holderPublicKey, call.request.agentId));
      },
    });
    server.addService(v1.PolicyService.service, {
      GetPolicy: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        if (policyYaml === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'no policy' });
        else cb(null, { policy: { tenant: 'acme', version: 3, yaml: policyYaml, sha256: 'h', deleted: false } });
      },
    });
    server.addService(v1.EnforcerService.service, {
      Check: (call: grpc.ServerUnaryCall<CheckRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        checks.push(call.request);
        cb(null, {
          decision: 'ALLOW',
          reason: 'ALLOWED',
          decisionId: 'd',
          agentId: 'planner',
          agentChain: ['planner'],
        });
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  const shell = () =>
    testIo(
      {
        AUTHORITY_ISSUER_ADDR: address,
        AUTHORITY_ENFORCER_ADDR: address,
        AUTHORITY_POLICY_ADDR: address,
        AUTHORITY_API_KEY: 'k',
        AUTHORITY_TENANT: 'acme',
      },
      { now: () => NOW * 1000 },
    );
  const mintArgs = ['envelope', 'mint', '--agent', 'planner', '--scope', 'vault:*:read'];

  test("mint without grant flags applies the agent's policy entry; flags only narrow it", async (t) => {
    policyYaml = `organization: Lakeside
version: '1.0'
agents:
  academic-advisor:
    scopes: [vault:student-records:read]
    resources: ['slos://vaults/student-records/*']
    max_ttl: 2h
    constraints:
      require_purpose: true
      max_records_per_request: 50
    denied_resources: ['slos://vaults/student-health/*']
  registrar-agent:
    scopes: [vault:student-records:write]
    resources: ['slos://vaults/student-records/*']
`;
    t.after(() => (policyYaml = undefined));
    const io = shell();
    const r = await cli(io, 'envelope', 'mint', '--agent', 'academic-advisor');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /grant from policy version 1\.0 for agent 'academic-advisor'/);
    const sent = mints.at(-1);
    assert.equal(sent?.agentId, 'academic-advisor');
    assert.deepEqual(sent?.grant.scopes, ['vault:student-records:read']);
    assert.deepEqual(sent?.grant.resources, ['slos://vaults/student-records/*']);
    assert.deepEqual(JSON.parse(sent?.grant.constraintsJson ?? ''), {
      require_purpose: true,
      max_records_per_request: 50,
      denied_resources: ['slos://vaults/student-health/*'],
    });
    assert.equal(sent?.ttlSeconds, 7200);

    // Flags narrow: a tighter record limit and an extra denied resource join the policy's constraints.
    const narrowed = await cli(
      io,
      'envelope',
      'mint',
      '--agent',
      'academic-advisor',
      '--max-records',
      '5',
      '--deny-resource',
      'slos://vaults/student-records/sealed/*',
      '--ttl',
      '15m',
    );
    assert.equal(narrowed.code, 0, narrowed.stderr);
    assert.deepEqual(JSON.parse(mints.at(-1)?.grant.constraintsJson ?? ''), {
      require_purpose: true,
      max_records_per_request: 5,
      denied_resources: ['slos://vaults/student-health/*', 'slos://vaults/student-records/sealed/*'],
    });
    assert.equal(mints.at(-1)?.ttlSeconds, 900);

    // An entry without constraints is {"unconstrained":true}; a constraint flag replaces that declaration.
    const plain = await cli(io, 'envelope', 'mint', '--agent', 'registrar-agent');
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(JSON.parse(mints.at(-1)?.grant.constraintsJson ?? ''), { unconstrained: true });
    const limited = await cli(io, 'envelope', 'mint', '--agent', 'registrar-agent', '--max-records', '5');
    assert.equal(limited.code, 0, limited.stderr);
    assert.deepEqual(JSON.parse(mints.at(-1)?.grant.constraintsJson ?? ''), { max_records_per_request: 5 });

    // An agent the policy does not name is refused before anything is minted, with a suggestion.
    const before = mints.length;
    const unknown = await cli(io, '--json', 'envelope', 'mint', '--agent', 'advisor');
    assert.equal(unknown.code, ExitCode.DENIED, unknown.stderr);
    const e = unknown.errJson<{ error: { message: string; reason: string; field: string } }>().error;
    assert.equal(e.reason, 'POLICY_DENIED');
    assert.equal(e.field, 'agent_id');
    assert.match(e.message, /did you mean 'academic-advisor'\?/);
    assert.equal(mints.length, before);
  });

  test('without a tenant policy, mint needs --scope and says why', async () => {
    const r = await cli(shell(), 'envelope', 'mint', '--agent', 'academic-advisor');
    assert.equal(r.code, ExitCode.USAGE, r.stderr);
    assert.match(r.stderr, /has no policy to take agent 'academic-advisor's grant from/);
  });

  test("mint --holder-public-key sends the agent's key and returns the unsealed chain", async () => {
    const io = shell();
    const k = await cli(io, '--json', 'envelope', 'keygen', '--out', 'planner.jwk');
    const x = k.json<{ publicKey: { x: string } }>().publicKey.x;
    const r = await cli(io, '--json', ...mintArgs, '--holder-public-key', x);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mints.at(-1)?.holderPublicKey.toString('base64url'), x);
    const env = r.json<{ envelope: { token: string; sealed: boolean } }>().envelope;
    assert.equal(env.sealed, false);
    assert.equal(isSealed(env.token), false);
    // With the private key file instead, the CLI seals it right away.
    const sealed = await cli(io, '--json', ...mintArgs, '--holder-key', 'planner.jwk');
    assert.equal(sealed.json<{ envelope: { sealed: boolean; token: string } }>().envelope.sealed, true);
    assert.equal(verify(sealed.json<{ envelope: { token: string } }>().envelope.token).agent, 'planner');
    const bad = await cli(io, ...mintArgs, '--holder-public-key', 'nope');
    assert.equal(bad.code, ExitCode.USAGE);
    const both = await cli(io, ...mintArgs, '--holder-public-key', x, '--holder-key-out', 'k.jwk');
    assert.equal(both.code, ExitCode.USAGE);
  });

  test('a generated key is written 0600 with --holder-key-out and never printed unless --print-secret', async () => {
    const io = shell();
    const r = await cli(io, ...mintArgs, '--holder-key-out', 'gen.jwk');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mints.at(-1)?.holderPublicKey.length, 0, 'no key sent: the issuer generates one');
    assert.equal(await mode(io, 'gen.jwk'), 0o600);
    const key = await keyFile(io, 'gen.jwk');
    assert.equal(key.publicKeyBase64Url, Buffer.from(lastGenerated!.publicKey).toString('base64url'));
    assertNoSecret(key, r.stdout, r.stderr);
    assert.match(r.stdout, /holder key written to gen\.jwk \(mode 0600\)/);
    const exists = await cli(io, ...mintArgs, '--holder-key-out', 'gen.jwk');
    assert.equal(exists.code, ExitCode.USAGE, 'refused before asking the issuer');

    const quiet = await cli(io, '--json', ...mintArgs);
    assert.equal(quiet.code, 0);
    const generated = await HolderKey.fromSeed(lastGenerated!.secretKey.subarray(0, 32));
    assertNoSecret(generated, quiet.stdout, quiet.stderr);
    assert.equal('holderKey' in quiet.json(), true);

    const printed = await cli(io, ...mintArgs, '--print-secret');
    const shown = await HolderKey.fromSeed(lastGenerated!.secretKey.subarray(0, 32));
    assert.ok(printed.stdout.includes(Buffer.from(shown.exportSeed()).toString('base64url')));
    assert.match(printed.stderr, /SECRET/);
  });

  test('delegate seals an unsealed parent with --parent-holder-key and names the sub-agent', async () => {
    const io = shell();
    await cli(io, 'envelope', 'keygen', '--out', 'planner.jwk');
    const sub = await cli(io, '--json', 'envelope', 'keygen', '--out', 'sub.jwk');
    const subX = sub.json<{ publicKey: { x: string } }>().publicKey.x;
    const parent = rootChain((await keyFile(io, 'planner.jwk')).publicKey);
    const args = ['envelope', 'delegate', parent, '--agent', 'planner/summarizer', '--holder-public-key', subX];
    const refused = await cli(io, ...args);
    assert.equal(refused.code, ExitCode.USAGE);
    assert.match(refused.stderr, /not sealed/);
    const r = await cli(io, '--json', ...args, '--parent-holder-key', 'planner.jwk');
    assert.equal(r.code, 0, r.stderr);
    const sent = delegations.at(-1)!;
    assert.equal(sent.agentId, 'planner/summarizer');
    assert.equal(sent.holderPublicKey.toString('base64url'), subX);
    assert.ok(isSealed(sent.parentToken));
    assert.equal(verify(sent.parentToken).agent, 'planner');
  });

  test('check --holder-key sends a per-request proof the verifier accepts; --proof needs a key', async () => {
    const io = shell();
    await cli(io, 'envelope', 'keygen', '--out', 'planner.jwk');
    const key = await keyFile(io, 'planner.jwk');
    const chain = rootChain(key.publicKey);
    const args = [
      'envelope',
      'check',
      '--scope',
      'vault:finance:read',
      '-r',
      'slos://vaults/finance/x',
      '--purpose',
      'p',
    ];
    const r = await cli(io, ...args, chain, '--holder-key', 'planner.jwk');
    assert.equal(r.code, 0, r.stderr);
    assertNoSecret(key, r.stdout, r.stderr);
    const req = checks.at(-1)!;
    assert.equal(req.token, chain);
    verifyRequestProof(req.proof, {
      tenant: 'acme',
      leafHash: hashLink(splitSeal(chain).chain.split('~').pop()!),
      holderKey: key.publicKey,
      request: { requiredScope: req.requiredScope, resource: req.resource, context: { purpose: 'p' } },
      now: Math.floor(Date.now() / 1000),
      skewSeconds: 30,
      windowSeconds: 60,
      replay: new ReplayCache(10),
      verifySignature: ed25519Verify,
    });
    // Sealed: no proof unless --proof.
    const sealed = (await cli(io, 'envelope', 'seal', chain, '--holder-key', 'planner.jwk', '-q')).stdout.trim();
    await cli(io, ...args, sealed, '--holder-key', 'planner.jwk');
    assert.equal(checks.at(-1)?.proof, '');
    await cli(io, ...args, sealed, '--holder-key', 'planner.jwk', '--proof');
    assert.notEqual(checks.at(-1)?.proof, '');
    assert.equal((await cli(io, ...args, sealed, '--proof')).code, ExitCode.USAGE);
  });
});

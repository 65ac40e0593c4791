// Issue 11 at the enforcer, over gRPC against real Kafka: a token is usable only by the holder of
// its leaf key (no truncation, no seal swapping), per-request proofs (fresh, unreplayable, bound
// to the request), children named outside their lineage refused, superseded keys that cannot sign
// new links, and denials raised while verifying that still carry the claimed delegation path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextDigest,
  deriveChild,
  ed25519Sign,
  generateEd25519KeyPair,
  hashLink,
  holderKeyConfirmation,
  offlineSigner,
  parseToken,
  randomId,
  sealToken,
  signLink,
  signRequestProof,
  splitSeal,
  unsealedChain,
  type EnvelopeClaims,
} from '@authority/core';
import { pb, type CheckRequest } from '@authority/proto';
import type { EnforcerHandle } from '../../src/index';
import {
  AuditReader,
  EnforcerClient,
  StateFixture,
  mint,
  nowSec,
  startServing,
  testPrefix,
  waitFor,
  type TestTenant,
} from '../helpers';

const RESOURCE = 'slos://vaults/finance/doc-001';
const SCOPE = 'vault:finance:read';

/** The hash of a token's last link: what seals and per-request proofs sign over. */
function leafHash(token: string): string {
  const links = unsealedChain(token).split('~');
  return hashLink(links[links.length - 1]!);
}

describe('possession and attribution (gRPC, real Kafka)', () => {
  const prefix = testPrefix();
  let fixture: StateFixture;
  let audit: AuditReader;
  let enforcer: EnforcerHandle;
  let client: EnforcerClient;
  let A: TestTenant;

  const check = (req: CheckRequest) =>
    client.check(A.checkerSecret, { requiredScope: SCOPE, resource: RESOURCE, ...req });

  /** A root for agent-1 and a child for agent-1/reader, delegated offline with the root's key. */
  function delegated() {
    const root = mint(A, { scopes: ['vault:finance:read', 'vault:finance:write'] });
    const childKey = generateEd25519KeyPair();
    const child = deriveChild(
      root.token,
      { agent: 'agent-1/reader', scopes: [SCOPE], holderKey: childKey },
      offlineSigner(root.holderSecretKey!),
      nowSec(),
    );
    return { root, child, childKey };
  }

  before(async () => {
    fixture = await StateFixture.create(prefix);
    A = await fixture.tenant();
    audit = await AuditReader.start(fixture);
    enforcer = await startServing(prefix, { AUTHORITY_ENFORCER_ID: 'enf-pop' });
    client = new EnforcerClient(enforcer.port);
  });

  after(async () => {
    client?.close();
    await enforcer?.stop();
    await audit?.stop();
    await fixture?.close();
  });

  test('truncation: the sub-agent cannot present its parent link alone, sealed or not', async () => {
    const { root, child, childKey } = delegated();
    assert.equal((await check({ token: child.token })).decision, 'ALLOW');
    // What the sub-agent holds: root~child and the child's key. It strips the child link.
    const rootLink = unsealedChain(child.token).split('~')[0]!;
    const unsealed = await check({ token: rootLink, requiredScope: 'vault:finance:write' });
    assert.equal(unsealed.decision, 'DENY');
    assert.equal(unsealed.reason, 'PROOF_REQUIRED');
    assert.equal(unsealed.field, 'seal');
    // It seals the root link with the only key it has: not the root's holder key.
    const forged = sealWithAnyKey(rootLink, childKey.secretKey);
    const resealed = await check({ token: forged, requiredScope: 'vault:finance:write' });
    assert.equal(resealed.reason, 'INVALID_PROOF');
    // And the child's own seal on the root link is for another leaf.
    const swapped = await check({ token: `${rootLink}~${splitSeal(child.token).seal}` });
    assert.equal(swapped.reason, 'INVALID_PROOF');
    // The parent's own sealed token still works for the parent (it never travelled to the child).
    assert.equal((await check({ token: root.token, requiredScope: 'vault:finance:write' })).decision, 'ALLOW');
  });

  test('attribution: an offline child naming another top-level agent is refused; the path is audited', async () => {
    const root = mint(A);
    const holder = generateEd25519KeyPair();
    const [parent] = parseToken(root.token);
    const p = parent!.claims;
    const claims: EnvelopeClaims = {
      ...structuredClone(p),
      sub: 'agent-2',
      jti: randomId(16),
      dep: 1,
      prn: p.jti,
      phs: parent!.hash,
      cnf: holderKeyConfirmation(holder.publicKey),
    };
    const chain = `${root.chain}~${signLink(claims, root.holderSecretKey!, 'cnf')}`;
    const res = await check({ token: sealToken(chain, holder.secretKey) });
    assert.equal(res.decision, 'DENY');
    assert.equal(res.reason, 'CHAIN_VIOLATION');
    assert.equal(res.field, 'sub');
    // Named under its parent, the same child is fine, and the event names the whole path.
    const good = deriveChild(root.token, { agent: 'agent-1/helper' }, offlineSigner(root.holderSecretKey!), nowSec());
    const ok = await check({ token: good.token });
    assert.equal(ok.decision, 'ALLOW');
    assert.deepEqual(ok.agentChain, ['agent-1', 'agent-1/helper']);
    assert.equal(ok.chainUnverified, false);
    const { event } = await audit.wait(ok.decisionId);
    assert.equal(event.actor?.agentId, 'agent-1/helper');
    assert.deepEqual(event.actor?.agentChain, ['agent-1', 'agent-1/helper']);
    assert.equal(event.actor?.jtiChain.length, 2);
    assert.equal(event.actor?.chainUnverified, false);
  });

  test('verify-stage denials keep the claimed path (REVOKED, EXPIRED), marked unverified', async () => {
    const { root, child } = delegated();
    await fixture.revokeJti(A.tenant, parseToken(root.token)[0]!.claims.jti);
    const revoked = await waitForReason(() => check({ token: child.token }), 'REVOKED');
    assert.equal(revoked.agentId, 'agent-1/reader');
    assert.deepEqual(revoked.agentChain, ['agent-1', 'agent-1/reader']);
    assert.equal(revoked.chainUnverified, true);
    const { event } = await audit.wait(revoked.decisionId);
    assert.equal(event.reason, pb.ReasonCode.REVOKED);
    assert.equal(event.actor?.agentId, 'agent-1/reader');
    assert.deepEqual(event.actor?.agentChain, ['agent-1', 'agent-1/reader']);
    assert.deepEqual(
      event.actor?.jtiChain,
      parseToken(child.token).map((l) => l.claims.jti),
    );
    assert.equal(event.actor?.chainUnverified, true);
    // The checker credential is the principal, never the agent.
    assert.notEqual(event.actor?.principal, event.actor?.agentId);

    const expired = mint(A, { agent: 'agent-3', ttlSeconds: 60 }, nowSec() - 200);
    const res = await check({ token: expired.token });
    assert.equal(res.reason, 'EXPIRED');
    const ev = (await audit.wait(res.decisionId)).event;
    assert.equal(ev.actor?.agentId, 'agent-3');
    assert.deepEqual(ev.actor?.agentChain, ['agent-3']);
    assert.equal(ev.actor?.chainUnverified, true);
  });

  test('per-request proof: an unsealed chain with a fresh proof is allowed once; replays and other requests are refused', async () => {
    const { child, childKey } = delegated();
    const chain = unsealedChain(child.token);
    const request = { requiredScope: SCOPE, resource: RESOURCE, context: { purpose: 'audit prep' } };
    const proof = signRequestProof(leafHash(chain), request, childKey.secretKey, nowSec());
    const first = await check({ token: chain, proof, context: { purpose: 'audit prep' } });
    assert.equal(first.decision, 'ALLOW', first.message);
    const replay = await check({ token: chain, proof, context: { purpose: 'audit prep' } });
    assert.equal(replay.reason, 'PROOF_REPLAYED');
    assert.equal(replay.field, 'proof.nce');
    // Bound to the request: another resource, another context, another token.
    const other = signRequestProof(leafHash(chain), request, childKey.secretKey, nowSec());
    const elsewhere = await check({
      token: chain,
      proof: other,
      resource: 'slos://vaults/finance/doc-002',
      context: { purpose: 'audit prep' },
    });
    assert.equal(elsewhere.reason, 'INVALID_PROOF');
    assert.equal(elsewhere.field, 'proof.res');
    const ctx = await check({ token: chain, proof: other, context: { purpose: 'something else' } });
    assert.equal(ctx.reason, 'INVALID_PROOF');
    assert.equal(ctx.field, 'proof.cxd');
    assert.notEqual(contextDigest({ purpose: 'a' }), contextDigest({ purpose: 'b' }));
    // Stale: older than the window plus skew.
    const stale = signRequestProof(leafHash(chain), request, childKey.secretKey, nowSec() - 600);
    const late = await check({ token: chain, proof: stale, context: { purpose: 'audit prep' } });
    assert.equal(late.reason, 'INVALID_PROOF');
    assert.equal(late.field, 'proof.iat');
    // Signed by someone else's key.
    const stranger = signRequestProof(leafHash(chain), request, generateEd25519KeyPair().secretKey, nowSec());
    assert.equal(
      (await check({ token: chain, proof: stranger, context: { purpose: 'audit prep' } })).reason,
      'INVALID_PROOF',
    );
  });

  test('pop: required in the envelope: a seal alone is not enough', async () => {
    const holder = generateEd25519KeyPair();
    const minted = mint(A, { holderKey: holder, constraints: { ...consPop() } });
    const sealedOnly = await check({ token: minted.token });
    assert.equal(sealedOnly.reason, 'PROOF_REQUIRED');
    assert.equal(sealedOnly.field, 'proof');
    const proof = signRequestProof(
      leafHash(minted.token),
      { requiredScope: SCOPE, resource: RESOURCE },
      holder.secretKey,
      nowSec(),
    );
    assert.equal((await check({ token: minted.token, proof })).decision, 'ALLOW');
  });

  test('a superseded key verifies only links issued before it stopped signing', async () => {
    const oldKid = A.kid;
    const before = mint(A, {}, nowSec() - 120);
    const after = mint(A, {}, nowSec());
    assert.equal((await check({ token: after.token })).decision, 'ALLOW');
    // Rotation: the key stopped signing 100 s ago; a link it "signed" now (a leaked key) is refused.
    await fixture.publishKey(
      A.tenant,
      oldKid,
      A.key.publicKey,
      pb.KeyStatus.VERIFY_ONLY,
      new Date(Date.now() + 3600_000),
      { signedUntil: new Date(Date.now() - 100_000) },
    );
    const refused = await waitForReason(() => check({ token: after.token }), 'UNKNOWN_KEY');
    assert.equal(refused.field, 'kid');
    assert.match(refused.message, /stopped signing/);
    assert.equal((await check({ token: before.token })).decision, 'ALLOW');
    // Retired as compromised: nothing it signed verifies any more.
    await fixture.publishKey(A.tenant, oldKid, A.key.publicKey, pb.KeyStatus.RETIRED, undefined, {
      signedUntil: new Date(Date.now() - 100_000),
      compromised: true,
    });
    await waitForReason(() => check({ token: before.token }), 'UNKNOWN_KEY');
  });
});

function consPop() {
  return {
    requirePurpose: false,
    deniedResources: [],
    writeRequiresApproval: false,
    unconstrained: false,
    popRequired: true,
  };
}

/**
 * A forger's seal: built exactly as sealToken builds one, but with a key that is not the leaf's
 * (sealToken itself refuses such a key).
 */
function sealWithAnyKey(chain: string, secretKey: Uint8Array): string {
  const links = chain.split('~');
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'authority-seal+jws' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ lh: hashLink(links[links.length - 1]!) })).toString('base64url');
  const sig = Buffer.from(ed25519Sign(Buffer.from(`${header}.${payload}`, 'latin1'), secretKey)).toString('base64url');
  return `${chain}~${header}.${payload}.${sig}`;
}

/** The answer once it has `reason` (state arrives through Kafka, so the first answers may differ). */
function waitForReason<T extends { reason: string }>(call: () => Promise<T>, reason: string): Promise<T> {
  return waitFor(
    async () => {
      const r = await call();
      return r.reason === reason ? r : undefined;
    },
    { what: reason, intervalMs: 50 },
  );
}

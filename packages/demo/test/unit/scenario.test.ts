// The scenario's holder-key steps, offline: the truncation attempt it plays is refused for the
// reason it expects (PROOF_REQUIRED unsealed, INVALID_PROOF with the sub-agent's own seal), and the
// sub-agent's name is in its parent's lineage.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityError,
  cryptoReady,
  declareUnconstrained,
  deriveChild,
  generateEd25519KeyPair,
  isInLineage,
  mintRoot,
  offlineSigner,
  verifyEnvelope,
} from '@authority/core';
import { HolderKey, seal } from '@authority/sdk';
import { SUB_AGENT, forgeSeal } from '../../src/scenario';

before(async () => {
  await cryptoReady();
});

test("the sub-agent's parent link alone is refused: unsealed, or sealed with the sub-agent's key", async () => {
  const NOW = 1_900_000_000;
  const tenantKey = generateEd25519KeyPair();
  const advisor = generateEd25519KeyPair();
  const summarizer = await HolderKey.generate();
  const root = mintRoot(
    {
      tenant: 'lakeside',
      agent: 'academic-advisor',
      scopes: ['vault:student-records:read'],
      resources: ['slos://vaults/student-records/*'],
      context: [],
      constraints: declareUnconstrained(),
      ttlSeconds: 3600,
      holderKey: advisor.publicKey,
    },
    { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
  );
  const child = deriveChild(
    root.chain,
    { agent: SUB_AGENT, holderKey: summarizer.publicKey },
    offlineSigner(advisor.secretKey),
    NOW,
  );
  const verify = (token: string) =>
    verifyEnvelope(token, { resolveKey: () => tenantKey.publicKey, now: NOW, isRevoked: () => false });
  const refusal = (token: string) => {
    try {
      verify(token);
      return 'ALLOW';
    } catch (err) {
      return err instanceof AuthorityError ? err.reason : String(err);
    }
  };
  assert.equal(refusal(seal(child.chain, summarizer)), 'ALLOW');
  const parentLinkAlone = child.chain.split('~')[0] as string;
  assert.equal(refusal(parentLinkAlone), 'PROOF_REQUIRED');
  assert.equal(refusal(forgeSeal(parentLinkAlone, summarizer)), 'INVALID_PROOF');
  // The forgery is well-formed: on the sub-agent's own chain the same construction is a valid seal.
  assert.equal(forgeSeal(child.chain, summarizer), seal(child.chain, summarizer));
  assert.ok(isInLineage('academic-advisor', SUB_AGENT));
});

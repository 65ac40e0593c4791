// Shared fixtures for the envelope, check and interop tests (and a sanity test of the fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityError,
  cryptoReady,
  declareUnconstrained,
  ed25519KeyPairFromSeed,
  ed25519Sign,
  ed25519Verify,
  type Constraints,
  type Ed25519KeyPair,
  type Reason,
} from '../src';
import {
  LINK_SEPARATOR,
  SEAL_PREFIX,
  deriveChild,
  hashLink,
  mintRoot,
  splitSeal,
  type ChildParams,
  type RootParams,
  type EnvelopeVerifyOptions,
  type MintedToken,
} from '../src/envelope';

export const NOW = 1_750_000_000;
export const TENANT = 'acme';

export function keyPair(n: number): Ed25519KeyPair {
  return ed25519KeyPairFromSeed(new Uint8Array(32).fill(n));
}

/** A tenant's key ring: kid → key pair. */
export class KeyRing {
  readonly keys = new Map<string, Ed25519KeyPair>();
  constructor(readonly tenant: string = TENANT) {}
  add(kid: string, kp: Ed25519KeyPair): this {
    this.keys.set(kid, kp);
    return this;
  }
  secret(kid: string): Uint8Array {
    return this.keys.get(kid)!.secretKey;
  }
  resolve = (tenant: string, kid: string): Uint8Array | undefined =>
    tenant === this.tenant ? this.keys.get(kid)?.publicKey : undefined;
}

export function constraints(overrides: Partial<Constraints> = {}): Constraints {
  const base = declareUnconstrained();
  const hasAny =
    overrides.requirePurpose ||
    (overrides.deniedResources?.length ?? 0) > 0 ||
    overrides.maxRecordsPerRequest !== undefined ||
    overrides.writeRequiresApproval ||
    overrides.popRequired;
  return { ...base, unconstrained: !hasAny, ...overrides };
}

export function rootParams(overrides: Partial<RootParams> = {}): RootParams {
  return {
    tenant: TENANT,
    agent: 'agent-a',
    scopes: ['vault:*:read', 'vault:finance:write'],
    resources: ['slos://vaults/*'],
    context: ['user_id', 'session_id'],
    constraints: constraints(),
    ttlSeconds: 3600,
    ...overrides,
  };
}

export interface Fixture {
  ring: KeyRing;
  root: MintedToken;
}

/** A tenant with one issuer key `k1` and a root minted at NOW. */
export function fixture(overrides: Partial<RootParams> = {}): Fixture {
  const ring = new KeyRing().add('k1', keyPair(1));
  const root = mintRoot(rootParams(overrides), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW });
  return { ring, root };
}

/** A child of `parent` signed with the ring's k1: read-only on the finance vault unless overridden. */
export function childOf(ring: KeyRing, parent: MintedToken, overrides: ChildParams = {}): MintedToken {
  return deriveChild(
    parent.token,
    { scopes: ['vault:finance:read'], ...overrides },
    { secretKey: ring.secret('k1'), kid: 'k1' },
    NOW,
  );
}

/** A signature verifier that counts its calls (how many Ed25519 verifications a check cost). */
export function counting(): {
  calls: { n: number };
  verifySignature: (s: Uint8Array, m: Uint8Array, k: Uint8Array) => boolean;
} {
  const calls = { n: 0 };
  const verifySignature = (s: Uint8Array, m: Uint8Array, k: Uint8Array) => {
    calls.n++;
    return ed25519Verify(s, m, k);
  };
  return { calls, verifySignature };
}

export function verifyOptions(ring: KeyRing, overrides: Partial<EnvelopeVerifyOptions> = {}): EnvelopeVerifyOptions {
  return { resolveKey: ring.resolve, now: NOW, isRevoked: () => false, ...overrides };
}

export function b64(s: string | Uint8Array): string {
  return Buffer.from(s).toString('base64url');
}

/** A compact JWS over raw header and payload JSON text (for hostile links). */
export function rawLink(header: string | object, payload: string | object, secretKey: Uint8Array): string {
  const h = typeof header === 'string' ? header : JSON.stringify(header);
  const p = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const input = `${b64(h)}.${b64(p)}`;
  return `${input}.${b64(ed25519Sign(Buffer.from(input), secretKey))}`;
}

/**
 * `chain` (links, or a token whose seal is dropped) sealed by hand with ANY 64-byte key, without
 * sealToken's check that it is the leaf's holder key: what an attacker holding `secretKey` can
 * attach to any chain it has seen.
 */
export function forgeSeal(chain: string, secretKey: Uint8Array): string {
  const links = splitSeal(chain).chain;
  const leaf = links.slice(links.lastIndexOf(LINK_SEPARATOR) + 1);
  const input = `${SEAL_PREFIX}${b64(JSON.stringify({ lh: hashLink(leaf) }))}`;
  return `${links}${LINK_SEPARATOR}${input}.${b64(ed25519Sign(Buffer.from(input), secretKey))}`;
}

/** The seal segment of a sealed token. */
export function sealOf(token: string): string {
  const { seal } = splitSeal(token);
  assert.ok(seal !== undefined, 'token is not sealed');
  return seal;
}

export const HEADER = (kid: string) => ({ alg: 'EdDSA', typ: 'authority-envelope+jws', kid });

/** The decoded payload object of a link. */
export function payloadOf(link: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(link.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Asserts `fn` throws an AuthorityError with this reason (and field / message pattern). */
export function assertFails(
  fn: () => unknown,
  reason: Reason,
  expect: { field?: string; message?: RegExp } = {},
): AuthorityError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AuthorityError, `expected AuthorityError, got ${String(err)}`);
    assert.equal(err.reason, reason, `reason (message: ${err.message})`);
    if (expect.field !== undefined) assert.equal(err.field, expect.field, `field (message: ${err.message})`);
    if (expect.message !== undefined) assert.match(err.message, expect.message);
    return err;
  }
  assert.fail(`expected ${reason}, but nothing was thrown`);
}

// Registered only when this file runs on its own, not in every file that imports the fixtures.
if (require.main === module)
  test('fixtures: a minted root has the expected claims', async () => {
    await cryptoReady();
    const { root } = fixture();
    assert.equal(root.claims.tnt, TENANT);
    assert.equal(root.claims.dep, 0);
    assert.equal(root.claims.exp - root.claims.nbf, 3600);
    assert.deepEqual(payloadOf(root.link), root.claims);
  });

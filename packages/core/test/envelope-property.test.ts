// Property tests: tampering never yields ALLOW, and derivation never widens authority.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuthorityError, cryptoReady, mergeConstraints, type Constraints, type Reason } from '../src';
import { LinkMemo, deriveChild, isSealSegment, mintRoot, sealToken, type ChildParams } from '../src/envelope';
import { checkRequest, type CheckDeps, type CheckInput } from '../src/check';
import { NOW, KeyRing, constraints, keyPair, rootParams } from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const REPLACEMENTS = `${B64URL_ALPHABET}.~=+/ `;

describe('tampering: flipping any character of any link or of the seal never allows', () => {
  function chains() {
    const ring = new KeyRing().add('k1', keyPair(1));
    const holder = keyPair(4);
    const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
    const root = mintRoot(rootParams({ holderKey: holder.publicKey }), { ...signer, now: NOW });
    const two = deriveChild(root.token, { scopes: ['vault:finance:read'], holderKey: holder.publicKey }, signer, NOW);
    // The third link is signed offline, so both key paths are covered.
    const three = deriveChild(
      two.token,
      { scopes: ['vault:finance:read'] },
      { secretKey: holder.secretKey, kid: 'cnf' },
      NOW,
    );
    const memo = new LinkMemo();
    const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW + 10, isRevoked: () => false, memo };
    // `two` ends with the holder's public key only (an unsealed chain): its holder seals it.
    assert.equal(two.sealed, false);
    assert.equal(three.sealed, true);
    return { deps, tokens: { two: sealToken(two.chain, holder.secretKey), three: three.token } };
  }

  /**
   * Which part of the token a position falls in: 'header', 'payload', 'signature' (of a link),
   * 'seal' or 'separator'.
   */
  function partAt(token: string, pos: number): string {
    if (token[pos] === '~') return 'separator';
    const linkStart = token.lastIndexOf('~', pos) + 1;
    if (isSealSegment(token.slice(linkStart))) return 'seal';
    if (token[pos] === '.') return 'separator';
    const dotsBefore = token.slice(linkStart, pos).split('.').length - 1;
    return ['header', 'payload', 'signature'][dotsBefore] ?? 'separator';
  }

  function assertRefused(deps: CheckDeps, token: string, pos: number, ch: string): void {
    const tampered = `${token.slice(0, pos)}${ch}${token.slice(pos + 1)}`;
    const r = checkRequest(
      { token: tampered, requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' },
      deps,
    );
    assert.equal(r.decision, 'DENY', `flip at ${pos} to '${ch}' allowed`);
    const part = partAt(token, pos);
    // Keys are looked up by the (not yet verified) kid and root tenant, so a flip there may also
    // surface as UNKNOWN_KEY; a flip in a signature or separator cannot. Links are verified before
    // the seal, so only a flip in the seal itself can surface as INVALID_PROOF (or INVALID_TOKEN
    // when the seal is no longer recognized as one and is read as a link).
    const expected: Reason[] =
      part === 'header' || part === 'payload'
        ? ['INVALID_SIGNATURE', 'INVALID_TOKEN', 'UNKNOWN_KEY']
        : part === 'seal'
          ? ['INVALID_PROOF', 'INVALID_TOKEN']
          : ['INVALID_SIGNATURE', 'INVALID_TOKEN'];
    assert.ok(expected.includes(r.reason), `flip at ${pos} (${part}) to '${ch}': ${r.reason} ${r.message}`);
  }

  for (const size of ['two', 'three'] as const) {
    test(`${size}-link chain: every position, one deterministic replacement`, () => {
      const { deps, tokens } = chains();
      const token = tokens[size];
      // Genuine token first, so the memo is warm: tampering must not ride on memoized links.
      assert.equal(
        checkRequest({ token, requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' }, deps)
          .decision,
        'ALLOW',
      );
      for (let pos = 0; pos < token.length; pos++) {
        const i = REPLACEMENTS.indexOf(token[pos]!);
        assertRefused(deps, token, pos, REPLACEMENTS[(i + 1 + (pos % 7)) % REPLACEMENTS.length]!);
      }
    });

    test(`${size}-link chain: random positions and replacement characters`, () => {
      const { deps, tokens } = chains();
      const token = tokens[size];
      fc.assert(
        fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...REPLACEMENTS), (pos, ch) => {
          fc.pre(token[pos] !== ch);
          assertRefused(deps, token, pos, ch);
        }),
        { numRuns: 400 },
      );
    });
  }
});

describe('narrowing never widens authority', () => {
  const SCOPES = ['svc:a:read', 'svc:a:write', 'svc:b:read', 'svc:*:read', 'svc:a:*', 'svc:*:*', 'svc:b:write'];
  const RESOURCES = ['r/*', 'r/a', 'r/b', 'r/a*', 'r/[ab]', '*', 'r/?'];
  const FIELDS = ['f1', 'f2', 'f3'];

  const constraintsArb: fc.Arbitrary<Constraints> = fc
    .record({
      requirePurpose: fc.boolean(),
      deniedResources: fc.subarray(['r/b', '*x*', 'r/c']),
      maxRecordsPerRequest: fc.option(fc.constantFrom(5, 10), { nil: undefined }),
      writeRequiresApproval: fc.boolean(),
    })
    .map((c) => {
      const out = constraints({ ...c });
      if (c.maxRecordsPerRequest === undefined) delete out.maxRecordsPerRequest;
      return out;
    });

  const grantArbShape = {
    scopes: fc.subarray(SCOPES, { minLength: 1 }),
    resources: fc.subarray(RESOURCES),
    context: fc.subarray(FIELDS),
    constraints: constraintsArb,
  };
  interface Grant {
    scopes: string[];
    resources: string[];
    context: string[];
    constraints: Constraints;
  }
  const grantArb: fc.Arbitrary<Grant> = fc.record(grantArbShape);

  const randomChildArb: fc.Arbitrary<ChildParams> = fc.record(
    {
      scopes: fc.subarray(SCOPES, { minLength: 1 }),
      resources: fc.subarray(RESOURCES),
      context: fc.subarray(FIELDS),
      constraints: constraintsArb,
      ttlSeconds: fc.integer({ min: 60, max: 7200 }),
      // 'sub-1' is outside the root's lineage: deriveChild must refuse it (CHAIN_VIOLATION).
      agent: fc.constantFrom('agent-a', 'agent-a/sub-1', 'sub-1'),
    },
    { requiredKeys: [] },
  );

  /** A child that mostly narrows the grant (so many derivations succeed), sometimes anything. */
  function childArb(grant: Grant): fc.Arbitrary<ChildParams> {
    const narrowing: fc.Arbitrary<ChildParams> = fc.record(
      {
        scopes: fc.subarray(grant.scopes, { minLength: 1 }),
        resources: fc.subarray(grant.resources),
        context: fc.subarray(grant.context),
        constraints: constraintsArb.map((extra) => mergeConstraints(grant.constraints, extra)),
        ttlSeconds: fc.integer({ min: 60, max: 7200 }),
        agent: fc.constantFrom('agent-a', 'agent-a/sub-1'),
      },
      { requiredKeys: [] },
    );
    return fc.oneof({ weight: 3, arbitrary: narrowing }, { weight: 1, arbitrary: randomChildArb });
  }

  const requestArb: fc.Arbitrary<Omit<CheckInput, 'token'>> = fc.record(
    {
      requiredScope: fc.constantFrom(
        'svc:a:read',
        'svc:a:write',
        'svc:b:read',
        'svc:b:write',
        'svc:c:read',
        'svc:a:delete',
      ),
      resource: fc.constantFrom('r/a', 'r/a', 'r/b', 'r/ax', 'r/c', 'q/a'),
      context: fc.record(
        {
          purpose: fc.constantFrom('audit', 'audit', 'audit', ' '),
          recordCount: fc.constantFrom(3, 3, 7, 12),
          fields: fc.subarray(FIELDS, { maxLength: 1 }).map((fs) => Object.fromEntries(fs.map((f) => [f, 'v']))),
        },
        { requiredKeys: ['purpose'] },
      ),
      action: fc.constantFrom('read', 'write'),
    },
    { requiredKeys: ['requiredScope', 'context'] },
  );

  test('every request a derived child allows, its parent allows', () => {
    const ring = new KeyRing().add('k1', keyPair(1));
    const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
    const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW + 30, isRevoked: () => false, memo: new LinkMemo() };
    let derived = 0;
    let childAllowed = 0;
    fc.assert(
      fc.property(
        grantArb.chain((g) => fc.tuple(fc.constant(g), childArb(g))),
        fc.array(requestArb, { minLength: 1, maxLength: 12 }),
        ([grant, childParams], requests) => {
          const parent = mintRoot(rootParams(grant), { ...signer, now: NOW });
          let child;
          try {
            child = deriveChild(parent.token, childParams, signer, NOW + 10);
          } catch (err) {
            assert.ok(err instanceof AuthorityError && err.reason === 'CHAIN_VIOLATION', String(err));
            return;
          }
          derived++;
          for (const req of requests) {
            const c = checkRequest({ token: child.token, ...req }, deps);
            if (c.decision !== 'ALLOW') continue;
            childAllowed++;
            const p = checkRequest({ token: parent.token, ...req }, deps);
            assert.equal(
              p.decision,
              'ALLOW',
              `child allowed ${JSON.stringify(req)} but parent denied: ${p.reason} ${p.message}`,
            );
          }
        },
      ),
      { numRuns: 400 },
    );
    // The property must not hold vacuously.
    assert.ok(derived >= 150, `only ${derived} derivations succeeded`);
    assert.ok(childAllowed >= 25, `only ${childAllowed} child requests were allowed`);
  });
});

// The issuer against the REAL Kafka broker and MongoDB-wire server (FerretDB): tenants and keys,
// minting and verifying against the published key, holder keys and seals, KEK at rest, rotation
// with overlap and signed-until, RetireKey, delegation narrowing and attribution, revocation,
// tenant isolation of credentials, and the policy seam.
// Size: one issuer, its topics, database and event tap started once for every test below.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  cryptoReady,
  deriveChild,
  ed25519KeyPairFromSeed,
  eventSigningKey,
  generateEd25519KeyPair,
  mintRoot,
  offlineSigner,
  parseToken,
  sealToken,
  splitSeal,
  unsealedChain,
  verifyEnvelope,
  verifyEventSignature,
  type VerifiedEnvelope,
} from '@authority/core';
import { AuthorityClientError, createKafka, silentLogger } from '@authority/platform';
import {
  decodeEvent,
  encodeEvent,
  createMessage,
  pb,
  timestampFromDate,
  type CreateTenantResponse__Output,
  type MintResponse__Output,
} from '@authority/proto';
import { KeyDirectory, startStateViews } from '@authority/views';
import { fromSealedDoc } from '../../src/adapters/mongo';
import { KeyEncryptionKey, KekError, OffsetClock, startIssuer } from '../../src/index';
import {
  call,
  dropDatabase,
  eventually,
  header,
  issuerConfig,
  newTestEnv,
  randomKek,
  requireInfra,
  startTestIssuer,
  Tap,
  type StartedIssuer,
} from './harness';

const clock = new OffsetClock();
let s: StartedIssuer;
let tap: Tap;
let topics: { keys: string; revocations: string; audit: string; policies: string };

async function createTenant(tenant = `t-${randomBytes(4).toString('hex')}`): Promise<CreateTenantResponse__Output> {
  return call<object, CreateTenantResponse__Output>(
    s.client,
    'CreateTenant',
    { tenant, displayName: tenant },
    s.env.operatorKey,
  );
}

async function credential(tenant: string, kind: string, secret: string): Promise<string> {
  const res = await call<object, { credential: { secret: string; credentialId: string } }>(
    s.client,
    'CreateCredential',
    { tenant, kind },
    secret,
  );
  return res.credential.secret;
}

function mintReq(tenant: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant,
    agentId: 'agent-1',
    grant: {
      scopes: ['vault:finance:read', 'vault:hr:*'],
      resources: ['slos://vaults/finance/*', 'slos://vaults/hr/*'],
      contextFields: ['purpose', 'ticket'],
      constraintsJson: '{"require_purpose":true,"max_records_per_request":50}',
    },
    ttlSeconds: 3600,
    ...over,
  };
}

async function mint(tenant: string, secret: string, over: Record<string, unknown> = {}): Promise<MintResponse__Output> {
  return call<object, MintResponse__Output>(s.client, 'Mint', mintReq(tenant, over), secret);
}

async function rejects(
  p: Promise<unknown>,
  code: string,
  reason?: string,
  field?: string | RegExp,
): Promise<AuthorityClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AuthorityClientError, `expected AuthorityClientError, got ${String(err)}`);
    assert.equal(err.codeName, code, `code (${err.message})`);
    if (reason !== undefined) assert.equal(err.reason, reason, `reason (${err.message})`);
    if (typeof field === 'string') assert.equal(err.field, field, `field (${err.message})`);
    else if (field) assert.match(err.field ?? '', field, `field (${err.message})`);
    return err;
  }
  assert.fail(`expected ${code}${reason ? `/${reason}` : ''}, but the call succeeded`);
}

/** A directory fed from what the issuer published on `<prefix>keys` (as an enforcer's would be). */
function publishedDirectory(): KeyDirectory {
  const dir = new KeyDirectory();
  for (const m of tap.records) {
    if (m.topic !== topics.keys || m.value === null) continue;
    const type = header(m, 'ce_type');
    if (type === 'authority.key.v1') dir.applyKey(decodeEvent(pb.KeyEventSchema, m.value));
    if (type === 'authority.credential.v1') dir.applyCredential(decodeEvent(pb.CredentialEventSchema, m.value));
  }
  return dir;
}

function verifyPublished(token: string, tenant: string, nowSec = clock.nowSec()): VerifiedEnvelope {
  const dir = publishedDirectory();
  return verifyEnvelope(token, {
    resolveKey: (t, kid) => dir.resolveKey(t, kid, nowSec),
    now: nowSec,
    isRevoked: () => false,
    expectedTenant: tenant,
  });
}

/** The first KeyEvent of key `kid` on the keys topic that `ok` accepts (any when left out). */
async function keyEvent(
  tenant: string,
  kid: string,
  what: string,
  ok: (e: pb.KeyEvent) => boolean = () => true,
): Promise<pb.KeyEvent> {
  const m = await tap.waitFor(
    (r) =>
      r.topic === topics.keys &&
      r.key?.toString() === `${tenant}/key/${kid}` &&
      ok(decodeEvent(pb.KeyEventSchema, r.value as Buffer)),
    what,
  );
  return decodeEvent(pb.KeyEventSchema, m.value as Buffer);
}

async function waitAudit(tenant: string, pred: (e: pb.AuditEvent) => boolean, what: string): Promise<pb.AuditEvent> {
  const m = await tap.waitFor(
    (r) =>
      r.topic === topics.audit &&
      r.value !== null &&
      r.key?.toString() === tenant &&
      pred(decodeEvent(pb.AuditEventSchema, r.value)),
    what,
  );
  // Every audit record of the issuer is signed with its event key (the auditor chains nothing else).
  const key = eventSigningKey(s.env.eventSeed, s.env.eventKeyId);
  const check = verifyEventSignature(m, (kid) => (kid === key.kid ? { kid, publicKey: key.publicKey } : undefined));
  assert.equal(check.ok, true, `${what}: ${check.ok ? '' : check.message}`);
  return decodeEvent(pb.AuditEventSchema, m.value as Buffer);
}

before(async () => {
  await cryptoReady();
  s = await startTestIssuer(newTestEnv(), { clock });
  const p = s.env.prefix;
  topics = { keys: `${p}keys`, revocations: `${p}revocations`, audit: `${p}audit`, policies: `${p}policies` };
  tap = await Tap.start(requireInfra().brokers, [topics.keys, topics.revocations, topics.audit]);
});

after(async () => {
  await tap?.stop();
  if (s) {
    await dropDatabase(s.issuer);
    await s.stop();
  }
});

describe('tenants and keys', () => {
  test('CreateTenant publishes the key and the admin credential hash, and audits', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    assert.equal(res.key?.status, 'ACTIVE');
    assert.equal(res.key?.publicKey.length, 32);
    assert.equal(res.adminCredential?.kind, 'ADMIN');
    assert.ok((res.adminCredential?.secret.length ?? 0) >= 43);

    const keyRecord = await tap.waitFor(
      (m) => m.topic === topics.keys && m.key?.toString() === `${tenant}/key/${res.key?.keyId}`,
      'KeyEvent',
    );
    const ev = decodeEvent(pb.KeyEventSchema, keyRecord.value as Buffer);
    assert.equal(ev.status, pb.KeyStatus.ACTIVE);
    assert.deepEqual(Buffer.from(ev.publicKey), res.key?.publicKey);
    assert.equal(header(keyRecord, 'ce_type'), 'authority.key.v1');
    assert.equal(header(keyRecord, 'ce_subject'), tenant);
    assert.equal(header(keyRecord, 'ce_specversion'), '1.0');

    const credRecord = await tap.waitFor(
      (m) =>
        m.topic === topics.keys && m.key?.toString() === `${tenant}/credential/${res.adminCredential?.credentialId}`,
      'CredentialEvent',
    );
    const cred = decodeEvent(pb.CredentialEventSchema, credRecord.value as Buffer);
    assert.equal(cred.kind, pb.CredentialKind.ADMIN);
    assert.equal(cred.secretSha256, createHashHex(res.adminCredential?.secret ?? ''));
    assert.ok(
      !credRecord.value?.toString().includes(res.adminCredential?.secret ?? 'x'),
      'the secret itself is never published',
    );
    // The published hash authenticates the secret in any service's directory.
    assert.deepEqual(publishedDirectory().authenticate(res.adminCredential?.secret ?? ''), {
      id: cred.credentialId,
      tenant,
      kind: 'ADMIN',
    });

    for (const action of ['tenant.create', 'key.create', 'credential.create']) {
      const e = await waitAudit(tenant, (a) => a.action === action, action);
      assert.equal(e.source, 'issuer');
      assert.equal(e.actor?.principal, 'operator');
    }
    await rejects(createTenant(tenant), 'ALREADY_EXISTS', 'ALREADY_EXISTS', 'tenant');
    await rejects(createTenant('Bad_Tenant'), 'INVALID_ARGUMENT', 'INVALID_REQUEST', 'tenant');
    // Core's tenant-id rule (what the enforcer parses): dashes alone, or at either end, are refused.
    for (const bad of ['---', '-ab', 'ab-', 'ab', 'a/b', 'x'.repeat(64)]) {
      const err = await rejects(createTenant(bad), 'INVALID_ARGUMENT', 'INVALID_REQUEST', 'tenant');
      assert.match(err.message, /starting and ending with a letter or digit/);
    }
    assert.equal(
      (await s.issuer.store.tenants.findOne({ _id: '---' })) ?? undefined,
      undefined,
      'nothing stored for a refused id',
    );
  });

  test('Mint without a holder key: a sealed token, and the holder seed once, which expands to the cnf key', async () => {
    const res = await createTenant();
    const admin = res.adminCredential?.secret as string;
    const m = await mint(res.tenant, admin);
    const env = m.envelope!;
    assert.equal(env.sealed, true);
    assert.deepEqual(env.agentChain, ['agent-1']);
    assert.equal(m.holderSecretKey.length, 32, 'the 32-byte seed');
    const { chain, seal } = splitSeal(env.token);
    assert.ok(seal, 'the token ends with a seal');
    const link = parseToken(env.token)[0]!;
    const holder = ed25519KeyPairFromSeed(m.holderSecretKey);
    assert.deepEqual(Buffer.from(link.holderKey), Buffer.from(holder.publicKey), 'the seed is the cnf key');
    // Ed25519 is deterministic: the caller's own seal with the expanded key is the issuer's.
    assert.equal(sealToken(chain, holder.secretKey), env.token);

    await tap.waitFor((r) => r.topic === topics.keys && r.key?.toString() === `${res.tenant}/key/${env.keyId}`, 'key');
    const v = verifyPublished(env.token, res.tenant);
    assert.equal(v.sealed, true);
    assert.equal(v.agent, 'agent-1');
    // The seal is what makes it presentable: the bare chain is refused.
    assert.throws(
      () => verifyPublished(chain, res.tenant),
      (e: Error & { reason?: string; field?: string }) => e.reason === 'PROOF_REQUIRED' && e.field === 'seal',
    );

    // The seed is returned, never published: not in the audit event, nor anywhere in the database.
    const audit = await waitAudit(res.tenant, (e) => e.action === 'envelope.mint', 'mint audit');
    assert.deepEqual(audit.actor?.agentChain, ['agent-1']);
    assert.deepEqual(audit.actor?.jtiChain, [env.jti]);
    const seed = m.holderSecretKey;
    for (const r of tap.records) {
      if (r.value === null) continue;
      assert.equal(r.value.indexOf(seed), -1, `seed in a ${r.topic} record`);
      assert.ok(!r.value.toString('latin1').includes(seed.toString('base64url')), `seed (base64url) in ${r.topic}`);
    }
    const db = s.issuer.store.db;
    for (const c of await db.listCollections().toArray()) {
      for (const doc of await db.collection(c.name).find({}).toArray()) {
        const text = JSON.stringify(doc);
        for (const form of [seed.toString('hex'), seed.toString('base64'), seed.toString('base64url')])
          assert.ok(!text.includes(form), `seed stored in ${c.name}`);
      }
    }
  });

  test('a minted token verifies with core against the published key; audit carries the issuance', async () => {
    const res = await createTenant();
    const admin = res.adminCredential?.secret as string;
    const holder = generateEd25519KeyPair();
    const m = await mint(res.tenant, admin, {
      holderPublicKey: Buffer.from(holder.publicKey),
      audience: ['enforcer-a'],
    });
    const env = m.envelope!;
    assert.equal(env.keyId, res.key?.keyId);
    assert.equal(env.depth, 0);
    // The caller's own holder key: an unsealed chain, no secret returned; only the holder can seal it.
    assert.equal(env.sealed, false);
    assert.equal(m.holderSecretKey.length, 0);
    assert.equal(splitSeal(env.token).seal, undefined);
    assert.deepEqual(Buffer.from(parseToken(env.token)[0]!.holderKey), Buffer.from(holder.publicKey));
    await tap.waitFor((r) => r.topic === topics.keys && r.key?.toString() === `${res.tenant}/key/${env.keyId}`, 'key');
    const dir = publishedDirectory();
    const verifyOpts = {
      resolveKey: (t: string, kid: string) => dir.resolveKey(t, kid, clock.nowSec()),
      now: clock.nowSec(),
      isRevoked: () => false,
      expectedTenant: res.tenant,
      audience: 'enforcer-a',
    };
    assert.throws(
      () => verifyEnvelope(env.token, verifyOpts),
      (e: Error & { reason?: string }) => e.reason === 'PROOF_REQUIRED',
    );
    assert.throws(() => sealToken(env.token, generateEd25519KeyPair().secretKey), /holder key/);
    const sealed = sealToken(env.token, holder.secretKey);
    const v = verifyEnvelope(sealed, {
      resolveKey: (t, kid) => dir.resolveKey(t, kid, clock.nowSec()),
      now: clock.nowSec(),
      isRevoked: () => false,
      expectedTenant: res.tenant,
      audience: 'enforcer-a',
    });
    assert.equal(v.agent, 'agent-1');
    assert.deepEqual(v.scopes, ['vault:finance:read', 'vault:hr:*']);
    assert.equal(v.constraints.requirePurpose, true);
    assert.equal(v.constraints.maxRecordsPerRequest, 50);
    assert.equal(v.expiresAt - parseToken(env.token)[0]!.claims.nbf, 3600);
    assert.equal(v.sealed, true);

    // Offline attenuation by the holder verifies too (core derives, the issuer is not involved).
    const child = deriveChild(
      env.token,
      { scopes: ['vault:finance:read'] },
      offlineSigner(holder.secretKey),
      clock.nowSec(),
    );
    assert.equal(child.sealed, true);
    assert.equal(verifyEnvelope(child.token, verifyOpts).agent, 'agent-1');

    const audit = await waitAudit(res.tenant, (e) => e.action === 'envelope.mint', 'mint audit');
    assert.equal(audit.detail.case, 'issuance');
    assert.equal(audit.detail.value?.jti, env.jti);
    assert.deepEqual(audit.actor?.jtiChain, [env.jti]);
    assert.equal(audit.decision, pb.Decision.ALLOW);
  });

  test('Mint refuses bad fields with INVALID_ARGUMENT naming the field', async () => {
    const res = await createTenant();
    const admin = res.adminCredential?.secret as string;
    const g = (over: Record<string, unknown>) => ({ grant: { ...(mintReq(res.tenant).grant as object), ...over } });
    // Each request with one bad field, and the field the refusal must name.
    const cases: [Record<string, unknown>, string][] = [
      [{ ttlSeconds: 59 }, 'ttl_seconds'],
      [{ ttlSeconds: 86_401 }, 'ttl_seconds'],
      [{ agentId: '' }, 'agent_id'],
      [g({ scopes: ['vault:finance:read', 'nocolon'] }), 'grant.scopes[1]'],
      [g({ scopes: [] }), 'grant.scopes'],
      [g({ constraintsJson: '' }), 'grant.constraints_json'],
      [g({ constraintsJson: '{}' }), 'grant.constraints_json'],
      [g({ constraintsJson: '{"max_rows":5}' }), 'grant.constraints_json.max_rows'],
      [g({ constraintsJson: '{"max_records":0}' }), 'grant.constraints_json.max_records'],
      [g({ constraintsJson: '{"require_purpose":true' }), 'grant.constraints_json'],
      [{ holderPublicKey: Buffer.alloc(31) }, 'holder_public_key'],
      [{ grant: null }, 'grant'],
    ];
    for (const [over, field] of cases) {
      const err = await rejects(mint(res.tenant, admin, over), 'INVALID_ARGUMENT', 'INVALID_REQUEST', field);
      if (field === 'grant.constraints_json.max_records') assert.match(err.message, /max_records/);
    }
  });

  test('private keys are sealed under the KEK: no plaintext in MongoDB, a wrong KEK cannot open them', async () => {
    const res = await createTenant();
    const doc = await s.issuer.store.keys.findOne({ tenant: res.tenant });
    assert.ok(doc);
    const kek = KeyEncryptionKey.fromBase64(s.env.kek);
    const seed = kek.open(fromSealedDoc(doc.sealedSeed), `${res.tenant}/${doc.kid}`);
    assert.equal(seed.length, 32);
    const pair = ed25519KeyPairFromSeed(seed);
    assert.deepEqual(Buffer.from(pair.publicKey), res.key?.publicKey);
    // Neither the seed nor the 64-byte secret key appears anywhere in the stored document.
    const raw = JSON.stringify(doc, (_k, v: unknown) =>
      v && typeof v === 'object' && 'buffer' in (v as object)
        ? Buffer.from((v as { buffer: Uint8Array }).buffer).toString('hex')
        : v,
    );
    assert.ok(!raw.includes(seed.toString('hex')), 'seed stored in plaintext');
    assert.ok(!raw.includes(Buffer.from(pair.secretKey).toString('hex')), 'secret key stored in plaintext');
    assert.notDeepEqual(Buffer.from(doc.sealedSeed.ciphertext.buffer), seed);
    // Associated data binds the ciphertext to its tenant and kid.
    assert.throws(() => kek.open(fromSealedDoc(doc.sealedSeed), `other/${doc.kid}`), KekError);
    // A different KEK cannot open it, and the error names the variable.
    const wrong = KeyEncryptionKey.fromBase64(randomKek());
    assert.throws(() => wrong.open(fromSealedDoc(doc.sealedSeed), `${res.tenant}/${doc.kid}`), /AUTHORITY_ISSUER_KEK/);

    // An issuer started on the same database with another KEK refuses to start, naming it.
    const env2 = { ...s.env, kek: randomKek() };
    await assert.rejects(
      startIssuer(issuerConfig(env2), { sweep: false, logger: silentLogger() }),
      /AUTHORITY_ISSUER_KEK/,
    );
  });

  test('rotation: new key signs, the old one verifies until its last envelope expires, then retires', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const oldKid = res.key?.keyId as string;
    const old = (await mint(tenant, admin, { ttlSeconds: 600 })).envelope!;
    assert.equal(old.keyId, oldKid);

    const rot = await call<
      object,
      {
        active: { keyId: string; status: string };
        previous: {
          keyId: string;
          status: string;
          verifyUntil: { seconds: string };
          signedUntil: { seconds: string } | null;
        };
      }
    >(s.client, 'RotateKey', { tenant }, admin);
    assert.notEqual(rot.active.keyId, oldKid);
    assert.equal(rot.active.status, 'ACTIVE');
    assert.equal(rot.previous.keyId, oldKid);
    assert.equal(rot.previous.status, 'VERIFY_ONLY');
    const oldExp = parseToken(old.token)[0]!.claims.exp;
    const verifyUntil = Number(rot.previous.verifyUntil.seconds);
    assert.ok(
      verifyUntil >= oldExp + s.config.AUTHORITY_CLOCK_SKEW,
      'old key verifies at least until its last envelope expired',
    );
    assert.ok(verifyUntil <= clock.nowSec() + 86_400 + s.config.AUTHORITY_CLOCK_SKEW + 60);

    const fresh = (await mint(tenant, admin, { ttlSeconds: 600 })).envelope!;
    assert.equal(fresh.keyId, rot.active.keyId, 'new envelopes are signed by the new key');

    await keyEvent(tenant, oldKid, 'VERIFY_ONLY key event', (e) => e.status === pb.KeyStatus.VERIFY_ONLY);
    await keyEvent(tenant, rot.active.keyId, 'new key event');
    assert.equal(verifyPublished(old.token, tenant).agent, 'agent-1', 'old token still verifies (overlap)');
    assert.equal(verifyPublished(fresh.token, tenant).agent, 'agent-1');

    const keys = await call<object, { keys: { keyId: string; status: string }[] }>(
      s.client,
      'ListKeys',
      { tenant },
      admin,
    );
    assert.deepEqual(
      keys.keys.map((k) => [k.keyId, k.status]),
      [
        [rot.active.keyId, 'ACTIVE'],
        [oldKid, 'VERIFY_ONLY'],
      ],
    );

    // The old key stopped signing at the rotation (signed_until, published with VERIFY_ONLY): a link
    // signed with it and issued later, by whoever still holds its private key, is UNKNOWN_KEY at
    // an enforcer's directory and at the issuer alike, while the old token keeps verifying.
    const signedUntil = Number(rot.previous.signedUntil?.seconds);
    assert.ok(Number.isSafeInteger(signedUntil) && signedUntil <= clock.nowSec() && signedUntil >= oldExp - 600);
    const verifyOnlyEvent = await keyEvent(
      tenant,
      oldKid,
      'VERIFY_ONLY key event',
      (e) => e.status === pb.KeyStatus.VERIFY_ONLY,
    );
    assert.equal(Number(verifyOnlyEvent.signedUntil?.seconds), signedUntil);
    const oldDoc = await s.issuer.store.keys.findOne({ tenant, kid: oldKid });
    const oldSecret = ed25519KeyPairFromSeed(
      KeyEncryptionKey.fromBase64(s.env.kek).open(fromSealedDoc(oldDoc!.sealedSeed), `${tenant}/${oldKid}`),
    ).secretKey;
    const forge = (iat: number) =>
      mintRoot(
        {
          tenant,
          agent: 'agent-1',
          scopes: ['vault:finance:read'],
          resources: ['slos://vaults/finance/*'],
          context: [],
          constraints: {
            requirePurpose: false,
            deniedResources: [],
            writeRequiresApproval: false,
            unconstrained: true,
          },
          ttlSeconds: 600,
        },
        { secretKey: oldSecret, kid: oldKid, now: iat },
      ).token;
    const skew = s.config.AUTHORITY_CLOCK_SKEW;
    try {
      clock.advance((signedUntil + skew + 5 - clock.nowSec()) * 1000);
      const forged = forge(clock.nowSec());
      assert.throws(
        () => verifyPublished(forged, tenant),
        (e: Error & { reason?: string; field?: string }) =>
          e.reason === 'UNKNOWN_KEY' && e.field === 'kid' && /stopped signing/.test(e.message),
      );
      assert.equal(verifyPublished(old.token, tenant).agent, 'agent-1', 'issued before the rotation: verifies');
      assert.equal(verifyPublished(forge(signedUntil), tenant).agent, 'agent-1', 'issued by signed_until: verifies');
      await rejects(
        call(s.client, 'Delegate', { tenant, parentToken: forged, agentId: 'agent-1/x' }, admin),
        'UNAUTHENTICATED',
        'UNKNOWN_KEY',
        'kid',
      );
    } finally {
      clock.offsetMs = 0;
    }

    // Past verify_until the sweep retires the old key; tokens it signed stop verifying.
    try {
      clock.advance((verifyUntil - clock.nowSec() + 1) * 1000);
      await s.issuer.sweep();
      await keyEvent(tenant, oldKid, 'RETIRED key event', (e) => e.status === pb.KeyStatus.RETIRED);
      assert.throws(
        () => verifyPublished(old.token, tenant, verifyUntil + 1),
        (e: Error & { reason?: string }) => e.reason === 'UNKNOWN_KEY',
      );
      await waitAudit(tenant, (e) => e.action === 'key.retire', 'key.retire audit');
    } finally {
      clock.offsetMs = 0;
    }
    await waitAudit(tenant, (e) => e.action === 'key.rotate', 'key.rotate audit');
  });
});

describe('RetireKey', () => {
  type KeyMsg = {
    keyId: string;
    status: string;
    compromised: boolean;
    signedUntil: { seconds: string } | null;
    verifyUntil: { seconds: string } | null;
  };
  type RetireRes = { retired: KeyMsg; active: KeyMsg | null };
  const retireKey = (req: Record<string, unknown>, secret: string) =>
    call<object, RetireRes>(s.client, 'RetireKey', req, secret);

  /** A fresh directory replaying `<prefix>keys` from the beginning, as an enforcer starting now would. */
  async function replayedDirectory(): Promise<KeyDirectory> {
    const bus = createKafka({
      brokers: requireInfra().brokers.split(','),
      clientId: 'retire-test',
      logger: silentLogger(),
    });
    const views = await startStateViews({
      bus,
      topicPrefix: s.env.prefix,
      logger: silentLogger(),
      follow: { keys: true, revocations: false, policies: false },
    });
    try {
      await views.caughtUp;
      return views.keys;
    } finally {
      await views.stop();
      await bus.disconnect();
    }
  }

  /** The sum of the keys topic's high-water marks: how many records were ever acknowledged on it. */
  async function keysTopicEnd(): Promise<bigint> {
    const bus = createKafka({
      brokers: requireInfra().brokers.split(','),
      clientId: 'retire-test',
      logger: silentLogger(),
    });
    try {
      const handle = await bus.catchUp({ topics: [topics.keys] }, () => undefined);
      await handle.disconnect();
      return [...handle.targets.values()].reduce((sum, o) => sum + BigInt(o), 0n);
    } finally {
      await bus.disconnect();
    }
  }

  test('a compromised ACTIVE key is replaced and retired at once: a replayed directory refuses everything it signed', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const oldKid = res.key?.keyId as string;
    const token = (await mint(tenant, admin)).envelope!;
    assert.equal(token.keyId, oldKid);
    const before = await replayedDirectory();
    assert.equal(
      verifyEnvelope(token.token, {
        resolveKey: (t, kid) => before.resolveKey(t, kid, clock.nowSec()),
        now: clock.nowSec(),
        isRevoked: () => false,
      }).agent,
      'agent-1',
    );

    const r = await retireKey({ tenant, keyId: oldKid, compromised: true, reason: 'leaked in a CI log' }, admin);
    assert.equal(r.retired.keyId, oldKid);
    assert.equal(r.retired.status, 'RETIRED');
    assert.equal(r.retired.compromised, true);
    assert.ok(r.retired.signedUntil, 'signed_until is set');
    assert.ok(r.active, 'an ACTIVE key is replaced');
    assert.notEqual(r.active.keyId, oldKid);
    assert.equal(r.active.status, 'ACTIVE');

    // Published before the answer: a directory replaying the topic now has it, with no waiting.
    const dir = await replayedDirectory();
    const nowSec = clock.nowSec();
    assert.equal(dir.resolveKey(tenant, oldKid, nowSec), undefined);
    assert.deepEqual(
      dir.keysOf(tenant).map((k) => [k.keyId, k.status]),
      [[r.active.keyId, 'ACTIVE']],
    );
    const opts = {
      resolveKey: (t: string, kid: string) => dir.resolveKey(t, kid, nowSec),
      now: nowSec,
      isRevoked: () => false,
    };
    assert.throws(
      () => verifyEnvelope(token.token, opts),
      (e: Error & { reason?: string }) => e.reason === 'UNKNOWN_KEY',
    );
    const fresh = (await mint(tenant, admin)).envelope!;
    assert.equal(fresh.keyId, r.active.keyId, 'the successor signs');
    assert.equal(verifyEnvelope(fresh.token, opts).agent, 'agent-1');
    // The issuer refuses the retired key too.
    await rejects(
      call(s.client, 'Delegate', { tenant, parentToken: token.token, agentId: 'agent-1/x' }, admin),
      'UNAUTHENTICATED',
      'UNKNOWN_KEY',
    );

    const ev = await keyEvent(tenant, oldKid, 'RETIRED key event', (e) => e.status === pb.KeyStatus.RETIRED);
    assert.equal(ev.compromised, true);
    assert.equal(String(ev.signedUntil?.seconds), r.retired.signedUntil?.seconds);
    const audit = await waitAudit(
      tenant,
      (e) => e.action === 'key.retire' && e.resource === `key/${oldKid}`,
      'key.retire audit',
    );
    assert.equal(audit.actor?.principal, res.adminCredential?.credentialId);
    assert.match(audit.message, /compromised: leaked in a CI log/);
    assert.equal(audit.detail.case, 'key');
    assert.equal(audit.detail.value?.status, pb.KeyStatus.RETIRED);
    await waitAudit(
      tenant,
      (e) => e.action === 'key.rotate' && e.resource === `key/${r.active?.keyId}`,
      'key.rotate audit of the successor',
    );

    // Idempotent: the same answer, no new key, no new record (RetireKey answers only after Kafka
    // acknowledged what it publishes, so a republication would already show in the offsets).
    const endBefore = await keysTopicEnd();
    const again = await retireKey({ tenant, keyId: oldKid, compromised: true, reason: 'again' }, admin);
    assert.deepEqual(again, r);
    const keys = await call<object, { keys: KeyMsg[] }>(s.client, 'ListKeys', { tenant }, admin);
    assert.deepEqual(
      keys.keys.map((k) => [k.keyId, k.status, k.compromised]),
      [
        [fresh.keyId, 'ACTIVE', false],
        [oldKid, 'RETIRED', true],
      ],
    );
    assert.equal(await s.issuer.store.keys.countDocuments({ tenant }), 2);
    assert.equal(await keysTopicEnd(), endBefore);
  });

  test('a VERIFY_ONLY key retires without a successor, keeping when it stopped signing; errors and rights', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const oldKid = res.key?.keyId as string;
    const rot = await call<object, { active: KeyMsg; previous: KeyMsg }>(s.client, 'RotateKey', { tenant }, admin);
    // The operator may retire any tenant's key; not compromised: retired by request.
    const r = await retireKey({ tenant, keyId: oldKid, compromised: false }, s.env.operatorKey);
    assert.equal(r.retired.status, 'RETIRED');
    assert.equal(r.retired.compromised, false);
    assert.equal(r.active, null, 'no successor for a key that no longer signed');
    assert.equal(r.retired.signedUntil?.seconds, rot.previous.signedUntil?.seconds, 'stopped signing at the rotation');
    const dir = await replayedDirectory();
    assert.equal(dir.resolveKey(tenant, oldKid, clock.nowSec()), undefined);
    assert.ok(dir.resolveKey(tenant, rot.active.keyId, clock.nowSec()));
    await waitAudit(tenant, (e) => e.action === 'key.retire' && /retired by request/.test(e.message), 'retire audit');

    // Found to be leaked later: the flag is added (published and audited), nothing else changes.
    const late = await retireKey({ tenant, keyId: oldKid, compromised: true, reason: 'found in a dump' }, admin);
    assert.equal(late.retired.compromised, true);
    assert.equal(late.retired.signedUntil?.seconds, r.retired.signedUntil?.seconds);
    await keyEvent(tenant, oldKid, 'compromised RETIRED event', (e) => e.compromised);
    await waitAudit(
      tenant,
      (e) => e.action === 'key.retire' && /marked compromised/.test(e.message),
      'late flag audit',
    );

    await rejects(
      retireKey({ tenant, keyId: 'k9-nosuch', compromised: true }, admin),
      'NOT_FOUND',
      'NOT_FOUND',
      'key_id',
    );
    await rejects(
      retireKey({ tenant, keyId: '', compromised: true }, admin),
      'INVALID_ARGUMENT',
      'INVALID_REQUEST',
      'key_id',
    );
    const checker = await credential(tenant, 'CHECKER', admin);
    await rejects(retireKey({ tenant, keyId: rot.active.keyId, compromised: true }, checker), 'PERMISSION_DENIED');
    const keys = await call<object, { keys: KeyMsg[] }>(s.client, 'ListKeys', { tenant }, admin);
    assert.deepEqual(
      keys.keys.map((k) => [k.keyId, k.status]),
      [
        [rot.active.keyId, 'ACTIVE'],
        [oldKid, 'RETIRED'],
      ],
    );
  });
});

describe('delegation', () => {
  test('Delegate derives a verified narrower child; anything wider is CHAIN_VIOLATION naming the field', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const parent = (await mint(tenant, admin)).envelope!;
    const delegate = (over: Record<string, unknown>) =>
      call<object, MintResponse__Output>(
        s.client,
        'Delegate',
        {
          tenant,
          parentToken: parent.token,
          agentId: 'agent-1/sub-agent',
          grant: {
            scopes: ['vault:finance:read'],
            resources: ['slos://vaults/finance/*'],
            contextFields: ['purpose'],
            constraintsJson: '',
          },
          ttlSeconds: 600,
          ...over,
        },
        admin,
      );
    const child = (await delegate({})).envelope!;
    assert.equal(child.depth, 1);
    assert.equal(child.agentId, 'agent-1/sub-agent');
    assert.equal(child.sealed, true);
    assert.deepEqual(child.agentChain, ['agent-1', 'agent-1/sub-agent']);
    const v = verifyPublished(child.token, tenant);
    assert.deepEqual(v.jtis, [parent.jti, child.jti]);
    assert.equal(v.constraints.maxRecordsPerRequest, 50, 'constraints inherited when not given');

    const g = (over: Record<string, unknown>) => ({
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        contextFields: ['purpose'],
        constraintsJson: '',
        ...over,
      },
    });
    const cases: [string, Record<string, unknown>, string][] = [
      ['scope', g({ scopes: ['vault:payroll:read'] }), 'scp'],
      ['wildcard scope', g({ scopes: ['vault:*:read'] }), 'scp'],
      ['resource', g({ resources: ['slos://vaults/*'] }), 'res'],
      ['context', g({ contextFields: ['purpose', 'ssn'] }), 'ctx'],
      ['constraint', g({ constraintsJson: '{"require_purpose":true,"max_records_per_request":500}' }), 'cns'],
      ['constraint dropped', g({ constraintsJson: '{"unconstrained":true}' }), 'cns'],
      ['ttl', { ttlSeconds: 7200 }, 'exp'],
    ];
    for (const [what, over, field] of cases) {
      const err = await rejects(delegate(over), 'INVALID_ARGUMENT', 'CHAIN_VIOLATION', field);
      assert.ok(err.message.length > 10, `${what}: message explains (${err.message})`);
    }
    const ttlErr = await rejects(delegate({ ttlSeconds: 7200 }), 'INVALID_ARGUMENT', 'CHAIN_VIOLATION', 'exp');
    assert.match(ttlErr.message, /ttl_seconds 7200/);
    // Times in the message are ISO-8601, not epoch seconds.
    assert.match(ttlErr.message, /end the child at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, after its parent's exp \d{4}-/);
    const deny = await waitAudit(
      tenant,
      (e) => e.action === 'envelope.delegate' && e.decision === pb.Decision.DENY,
      'delegate deny audit',
    );
    assert.equal(deny.reason, pb.ReasonCode.CHAIN_VIOLATION);
    await waitAudit(
      tenant,
      (e) => e.action === 'envelope.delegate' && e.decision === pb.Decision.ALLOW,
      'delegate audit',
    );

    // The grandchild chain verifies too, and depth grows.
    const grand = await call<object, MintResponse__Output>(
      s.client,
      'Delegate',
      { tenant, parentToken: child.token, agentId: 'agent-1/sub-agent/sub-sub', grant: null, ttlSeconds: 0 },
      admin,
    );
    assert.equal(grand.envelope?.depth, 2);
    assert.deepEqual(grand.envelope?.agentChain, ['agent-1', 'agent-1/sub-agent', 'agent-1/sub-agent/sub-sub']);
    assert.deepEqual(verifyPublished(grand.envelope!.token, tenant).jtis, [parent.jti, child.jti, grand.envelope!.jti]);

    // A tampered parent is refused (signature), and so is a token of another tenant.
    const [link0, ...rest] = parent.token.split('~');
    const parts = link0!.split('.');
    const tampered = [
      `${parts[0]}.${parts[1]}.${parts[2]!.startsWith('A') ? 'B' : 'A'}${parts[2]!.slice(1)}`,
      ...rest,
    ].join('~');
    await rejects(delegate({ parentToken: tampered }), 'UNAUTHENTICATED', 'INVALID_SIGNATURE');
    const other = await createTenant();
    const foreign = (await mint(other.tenant, other.adminCredential?.secret as string)).envelope!;
    await rejects(delegate({ parentToken: foreign.token }), 'PERMISSION_DENIED', 'TENANT_MISMATCH', 'parent_token');
    await rejects(delegate({ parentToken: 'not-a-token' }), 'INVALID_ARGUMENT', 'INVALID_TOKEN');
  });
});

describe('possession and attribution', () => {
  test('Delegate needs the parent sealed by its holder: a bare chain is PROOF_REQUIRED, a foreign seal INVALID_PROOF', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const delegate = (parentToken: string) =>
      call<object, MintResponse__Output>(
        s.client,
        'Delegate',
        { tenant, parentToken, agentId: 'agent-1/helper', grant: null, ttlSeconds: 300 },
        admin,
      );
    const parent = (await mint(tenant, admin)).envelope!;
    const other = (await mint(tenant, admin)).envelope!;
    const bare = await rejects(delegate(unsealedChain(parent.token)), 'UNAUTHENTICATED', 'PROOF_REQUIRED', 'seal');
    assert.match(bare.message, /parent_token/);
    const foreignSeal = `${unsealedChain(parent.token)}~${splitSeal(other.token).seal}`;
    await rejects(delegate(foreignSeal), 'UNAUTHENTICATED', 'INVALID_PROOF', 'seal');
    assert.equal((await delegate(parent.token)).envelope?.agentId, 'agent-1/helper');

    // A parent bound to the caller's own key is delegated once its holder sealed it.
    const holder = generateEd25519KeyPair();
    const own = (await mint(tenant, admin, { holderPublicKey: Buffer.from(holder.publicKey) })).envelope!;
    assert.equal(own.sealed, false);
    await rejects(delegate(own.token), 'UNAUTHENTICATED', 'PROOF_REQUIRED', 'seal');
    const child = await delegate(sealToken(own.token, holder.secretKey));
    assert.equal(child.envelope?.sealed, true);
    assert.deepEqual(child.envelope?.agentChain, ['agent-1', 'agent-1/helper']);
    // The child carries none of the parent's seal: it ends with its own holder's.
    assert.equal(unsealedChain(child.envelope!.token).startsWith(`${own.token}~`), true);
    assert.equal(
      sealToken(child.envelope!.token, ed25519KeyPairFromSeed(child.holderSecretKey).secretKey),
      child.envelope!.token,
    );
  });

  test('a child is its parent agent or an agent under it; a sub-agent the policy does not name is bounded by the root agent', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const policy = (advisorResources: string) =>
      [
        'organization: School',
        'agents:',
        '  academic-advisor:',
        '    scopes: ["records:transcripts:read"]',
        `    resources: ["${advisorResources}"]`,
        '    constraints: {require_purpose: true}',
        '    max_ttl: 1h',
        '  registrar:',
        '    scopes: ["records:*:read"]',
        '    resources: ["slos://records/*"]',
        '    constraints: {unconstrained: true}',
        '',
      ].join('\n');
    await publishPolicy(tenant, 1, policy('slos://records/transcripts/*'));
    const grant = (resources: string[]) => ({
      scopes: ['records:transcripts:read'],
      resources,
      contextFields: ['purpose'],
      constraintsJson: '{"require_purpose":true}',
    });
    const root = (
      await mint(tenant, admin, {
        agentId: 'academic-advisor',
        grant: grant(['slos://records/transcripts/*']),
        ttlSeconds: 1800,
      })
    ).envelope!;
    const delegate = (parentToken: string, agentId: string, over: Record<string, unknown> = {}) =>
      call<object, MintResponse__Output>(
        s.client,
        'Delegate',
        { tenant, parentToken, agentId, grant: grant(['slos://records/transcripts/*']), ttlSeconds: 600, ...over },
        admin,
      );

    // Another top-level agent, though the policy names it and would allow the grant: refused, naming sub.
    const outside = await rejects(delegate(root.token, 'registrar'), 'INVALID_ARGUMENT', 'CHAIN_VIOLATION', 'sub');
    assert.match(outside.message, /academic-advisor\/<name>/);
    const deny = await waitAudit(
      tenant,
      (e) => e.action === 'envelope.delegate' && e.decision === pb.Decision.DENY && e.actor?.agentId === 'registrar',
      'lineage deny audit',
    );
    assert.equal(deny.reason, pb.ReasonCode.CHAIN_VIOLATION);
    assert.deepEqual(deny.actor?.agentChain, ['academic-advisor']);
    await rejects(delegate(root.token, 'academic-advisor-2'), 'INVALID_ARGUMENT', 'CHAIN_VIOLATION', 'sub');

    // Under it: delegated, bound to the summarizer's own key (unsealed until the summarizer seals it).
    const summarizerKey = generateEd25519KeyPair();
    const sum = await delegate(root.token, 'academic-advisor/summarizer', {
      holderPublicKey: Buffer.from(summarizerKey.publicKey),
    });
    const summarizer = sum.envelope!;
    assert.equal(summarizer.agentId, 'academic-advisor/summarizer');
    assert.deepEqual(summarizer.agentChain, ['academic-advisor', 'academic-advisor/summarizer']);
    assert.equal(summarizer.sealed, false);
    assert.equal(sum.holderSecretKey.length, 0);
    assert.throws(
      () => verifyPublished(summarizer.token, tenant),
      (e: Error & { reason?: string }) => e.reason === 'PROOF_REQUIRED',
    );
    const sealed = sealToken(summarizer.token, summarizerKey.secretKey);
    const v = verifyPublished(sealed, tenant);
    assert.equal(v.agent, 'academic-advisor/summarizer');
    assert.equal(v.rootAgent, 'academic-advisor');
    const allow = await waitAudit(
      tenant,
      (e) =>
        e.action === 'envelope.delegate' &&
        e.decision === pb.Decision.ALLOW &&
        e.actor?.agentId === 'academic-advisor/summarizer',
      'delegate audit',
    );
    assert.deepEqual(allow.actor?.agentChain, ['academic-advisor', 'academic-advisor/summarizer']);
    assert.deepEqual(allow.actor?.jtiChain, [root.jti, summarizer.jti]);
    // Deeper under it, yes; a sibling of the summarizer, no.
    // (ttl_seconds 0: until the parent's exp.)
    assert.equal(
      (await delegate(sealed, 'academic-advisor/summarizer/cite-checker', { ttlSeconds: 0 })).envelope?.depth,
      2,
    );
    await rejects(
      delegate(sealed, 'academic-advisor/grader', { ttlSeconds: 0 }),
      'INVALID_ARGUMENT',
      'CHAIN_VIOLATION',
      'sub',
    );

    // The policy tightens the root agent: the unnamed sub-agent is held to the root agent's new
    // entry, though the parent token still grants more.
    await publishPolicy(tenant, 2, policy('slos://records/transcripts/2025/*'));
    const tightened = await rejects(
      delegate(root.token, 'academic-advisor/summarizer'),
      'PERMISSION_DENIED',
      'POLICY_DENIED',
      'grant.resources[0]',
    );
    assert.match(tightened.message, /academic-advisor'/);
    const within = await delegate(root.token, 'academic-advisor/summarizer', {
      grant: grant(['slos://records/transcripts/2025/*']),
    });
    assert.equal(within.envelope?.agentId, 'academic-advisor/summarizer');
  });
});

describe('revocation', () => {
  test('Revoke and RevokeAgent publish compacted revocations (acked before the answer) and audit; a revoked parent cannot be delegated', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    const env = (await mint(tenant, admin)).envelope!;
    const before = Date.now();
    const r = await call<object, { revokedAt: { seconds: string } }>(
      s.client,
      'Revoke',
      { tenant, jti: env.jti, reason: 'leaked' },
      admin,
    );
    assert.ok(Number(r.revokedAt.seconds) * 1000 >= before - 1000);
    const rec = await tap.waitFor(
      (m) => m.topic === topics.revocations && m.key?.toString() === `${tenant}/jti/${env.jti}`,
      'jti revocation',
    );
    const ev = decodeEvent(pb.RevocationEventSchema, rec.value as Buffer);
    assert.equal(ev.kind, pb.RevocationKind.JTI);
    assert.equal(ev.reason, 'leaked');
    assert.equal(header(rec, 'ce_type'), 'authority.revocation.v1');
    const forget = Number(ev.forgetAfter?.seconds) - Number(ev.revokedAt?.seconds);
    assert.equal(forget, 86_400 + s.config.AUTHORITY_CLOCK_SKEW, 'forget_after = revoked_at + max TTL + skew');
    await waitAudit(
      tenant,
      (e) => e.action === 'envelope.revoke' && e.detail.case === 'revocation' && e.detail.value.jti === env.jti,
      'revoke audit',
    );

    await rejects(
      call(s.client, 'Delegate', { tenant, parentToken: env.token, agentId: 'x', grant: null }, admin),
      'UNAUTHENTICATED',
      'REVOKED',
    );

    const a = await call<object, { revokedBefore: { seconds: string } }>(
      s.client,
      'RevokeAgent',
      { tenant, agentId: 'agent-1', reason: 'offboarded' },
      admin,
    );
    const arec = await tap.waitFor(
      (m) => m.topic === topics.revocations && m.key?.toString() === `${tenant}/agent/agent-1`,
      'agent revocation',
    );
    const aev = decodeEvent(pb.RevocationEventSchema, arec.value as Buffer);
    assert.equal(aev.kind, pb.RevocationKind.AGENT);
    assert.equal(String(aev.revokedBefore?.seconds), a.revokedBefore.seconds);
    await waitAudit(tenant, (e) => e.action === 'agent.revoke', 'agent.revoke audit');
    await rejects(
      call(s.client, 'Revoke', { tenant, jti: 'short' }, admin),
      'INVALID_ARGUMENT',
      'INVALID_REQUEST',
      'jti',
    );
  });
});

describe('credentials and tenant isolation', () => {
  test('a credential of tenant A can do nothing for tenant B, on every RPC; no credential is UNAUTHENTICATED', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const adminA = a.adminCredential?.secret as string;
    const adminB = b.adminCredential?.secret as string;
    const approverA = await credential(a.tenant, 'APPROVER', adminA);
    const checkerA = await credential(a.tenant, 'CHECKER', adminA);
    const auditorA = await credential(a.tenant, 'AUDITOR', adminA);
    const tokenB = (await mint(b.tenant, adminB)).envelope!;
    const t = b.tenant;
    const requests: [string, Record<string, unknown>][] = [
      ['CreateCredential', { tenant: t, kind: 'ADMIN' }],
      ['RevokeCredential', { tenant: t, credentialId: b.adminCredential?.credentialId }],
      ['RotateKey', { tenant: t }],
      ['ListKeys', { tenant: t }],
      ['RetireKey', { tenant: t, keyId: b.key?.keyId, compromised: true }],
      ['Mint', mintReq(t)],
      ['Delegate', { tenant: t, parentToken: tokenB.token, agentId: 'x' }],
      ['Revoke', { tenant: t, jti: tokenB.jti }],
      ['RevokeAgent', { tenant: t, agentId: 'agent-1' }],
      ['RequestApproval', { tenant: t, agentId: 'a', requiredScope: 'vault:x:write', action: 'write', resource: 'r' }],
      ['DecideApproval', { tenant: t, approvalId: 'apr-x', approve: true }],
      [
        'ConsumeApproval',
        {
          tenant: t,
          approvalId: 'apr-x',
          agentId: 'a',
          requiredScope: 'vault:x:write',
          action: 'write',
          resource: 'r',
        },
      ],
      ['GetApproval', { tenant: t, approvalId: 'apr-x' }],
      ['ListApprovals', { tenant: t }],
    ];
    for (const [method, req] of requests) {
      for (const secret of [adminA, approverA, checkerA, auditorA]) {
        await rejects(call(s.client, method, req, secret), 'PERMISSION_DENIED', undefined);
      }
      const err = await rejects(call(s.client, method, req, adminA), 'PERMISSION_DENIED', 'TENANT_MISMATCH', 'tenant');
      assert.match(err.message, new RegExp(t));
      await rejects(call(s.client, method, req, undefined), 'UNAUTHENTICATED', 'UNAUTHENTICATED');
      await rejects(call(s.client, method, req, 'not-a-real-key-at-all'), 'UNAUTHENTICATED', 'UNAUTHENTICATED');
    }
    await rejects(call(s.client, 'CreateTenant', { tenant: 'zz-never' }, adminA), 'PERMISSION_DENIED');
    // Wrong kind within the own tenant: a checker cannot mint, an admin cannot decide approvals.
    await rejects(mint(a.tenant, checkerA), 'PERMISSION_DENIED', 'PERMISSION_DENIED');
    await rejects(
      call(s.client, 'DecideApproval', { tenant: a.tenant, approvalId: 'apr-x', approve: true }, adminA),
      'PERMISSION_DENIED',
    );
    // B's own admin still works, and a revoked credential stops working at once.
    await mint(b.tenant, adminB);
    const extra = await call<object, { credential: { secret: string; credentialId: string } }>(
      s.client,
      'CreateCredential',
      { tenant: a.tenant, kind: 'ADMIN' },
      adminA,
    );
    await mint(a.tenant, extra.credential.secret);
    await call(s.client, 'RevokeCredential', { tenant: a.tenant, credentialId: extra.credential.credentialId }, adminA);
    await rejects(mint(a.tenant, extra.credential.secret), 'UNAUTHENTICATED');
    const revoked = await tap.waitFor(
      (m) =>
        m.topic === topics.keys &&
        m.key?.toString() === `${a.tenant}/credential/${extra.credential.credentialId}` &&
        decodeEvent(pb.CredentialEventSchema, m.value as Buffer).revoked,
      'revoked CredentialEvent',
    );
    assert.ok(revoked);
    assert.equal(publishedDirectory().authenticate(extra.credential.secret), undefined);
  });
});

describe('policy seam', () => {
  test('with a policy on the policies topic, a mint beyond it is POLICY_DENIED naming the excess; without one, minting is bounded only by the request rules', async () => {
    const res = await createTenant();
    const tenant = res.tenant;
    const admin = res.adminCredential?.secret as string;
    // No policy yet: allowed.
    await mint(tenant, admin);
    const yaml = [
      'organization: Test',
      'version: "3"',
      'agents:',
      '  agent-1:',
      '    scopes: ["vault:finance:read"]',
      '    resources: ["slos://vaults/finance/*"]',
      '    constraints:',
      '      require_purpose: true',
      '      max_records_per_request: 100',
      '    max_ttl: 1h',
      '',
    ].join('\n');
    const event = createMessage(pb.PolicyVersionEventSchema, {
      tenant,
      version: 1n,
      yaml,
      sha256: createHashHex(yaml),
      author: 'test',
      createdAt: timestampFromDate(new Date()),
    });
    await s.issuer.bus.publish(topics.policies, [
      { key: `${tenant}/000000000001`, value: encodeEvent(pb.PolicyVersionEventSchema, event) },
    ]);
    await eventually(() => s.issuer.views.policies.get(tenant), 'policy in the issuer view');

    const within = {
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/q1/*'],
        contextFields: [],
        constraintsJson: '{"require_purpose":true,"max_records":10}',
      },
      ttlSeconds: 600,
    };
    await mint(tenant, admin, within);
    const scope = await rejects(mint(tenant, admin), 'PERMISSION_DENIED', 'POLICY_DENIED', 'grant.scopes[1]');
    assert.match(scope.message, /vault:hr:\*/);
    await rejects(
      mint(tenant, admin, { grant: { ...within.grant, resources: ['slos://vaults/*'] } }),
      'PERMISSION_DENIED',
      'POLICY_DENIED',
      'grant.resources[0]',
    );
    await rejects(
      mint(tenant, admin, {
        grant: { ...within.grant, constraintsJson: '{"require_purpose":true,"max_records":500}' },
      }),
      'PERMISSION_DENIED',
      'POLICY_DENIED',
      /^grant\.constraints_json\.max_records/,
    );
    await rejects(
      mint(tenant, admin, { ...within, ttlSeconds: 7200 }),
      'PERMISSION_DENIED',
      'POLICY_DENIED',
      'ttl_seconds',
    );
    await rejects(
      mint(tenant, admin, { ...within, agentId: 'stranger' }),
      'PERMISSION_DENIED',
      'POLICY_DENIED',
      'agent_id',
    );

    // Delegation under the policy: a sub-agent the policy does not name is bounded by the root
    // agent's entry (the same rule the enforcer applies); another agent the policy names is outside
    // the root's lineage, so no child can be booked to it whatever its entry allows.
    const root = (await mint(tenant, admin, within)).envelope!;
    const delegate = (agentId: string) =>
      call<object, MintResponse__Output>(
        s.client,
        'Delegate',
        {
          tenant,
          parentToken: root.token,
          agentId,
          grant: { ...within.grant, resources: ['slos://vaults/finance/q1/reports/*'] },
          ttlSeconds: 300,
        },
        admin,
      );
    assert.equal((await delegate('agent-1/unnamed-helper')).envelope?.agentId, 'agent-1/unnamed-helper');
    const yaml2 = `${yaml}  agent-2:\n    scopes: ["vault:hr:read"]\n    resources: ["slos://vaults/hr/*"]\n    constraints: {unconstrained: true}\n`;
    const event2 = createMessage(pb.PolicyVersionEventSchema, {
      tenant,
      version: 2n,
      yaml: yaml2,
      sha256: createHashHex(yaml2),
      author: 'test',
      createdAt: timestampFromDate(new Date()),
    });
    await s.issuer.bus.publish(topics.policies, [
      { key: `${tenant}/000000000002`, value: encodeEvent(pb.PolicyVersionEventSchema, event2) },
    ]);
    await eventually(
      () => (s.issuer.views.policies.get(tenant)?.version === 2 ? true : undefined),
      'policy v2 in the issuer view',
    );
    await rejects(delegate('agent-2'), 'INVALID_ARGUMENT', 'CHAIN_VIOLATION', 'sub');

    const denied = await waitAudit(
      tenant,
      (e) => e.action === 'envelope.mint' && e.decision === pb.Decision.DENY,
      'policy deny audit',
    );
    assert.equal(denied.reason, pb.ReasonCode.POLICY_DENIED);
    assert.equal(denied.policyVersion, '1');
  });
});

/** Puts a policy version on the policies topic and waits until the issuer's view has it. */
async function publishPolicy(tenant: string, version: number, yaml: string): Promise<void> {
  const event = createMessage(pb.PolicyVersionEventSchema, {
    tenant,
    version: BigInt(version),
    yaml,
    sha256: createHashHex(yaml),
    author: 'test',
    createdAt: timestampFromDate(new Date()),
  });
  await s.issuer.bus.publish(topics.policies, [
    { key: `${tenant}/${String(version).padStart(12, '0')}`, value: encodeEvent(pb.PolicyVersionEventSchema, event) },
  ]);
  await eventually(
    () => (s.issuer.views.policies.get(tenant)?.version === version ? true : undefined),
    `policy v${version} in the issuer view`,
  );
}

function createHashHex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

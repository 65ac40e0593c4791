// Tenant signing keys: creation, rotation with overlap, retirement, and the signer for new links.
//
// Life cycle of a key (KeyStatus): ACTIVE (signs and verifies) → VERIFY_ONLY (superseded by a
// newer key; verifies until `verify_until`, the latest `exp` it signed plus the clock skew, and
// only links issued by `signed_until`, the rotation time) → RETIRED (verifies nothing). RetireKey
// skips the wait: it retires an ACTIVE or VERIFY_ONLY key at once (a leaked key: `compromised`),
// replacing an ACTIVE one by a new key first. Every status change is published on `<prefix>keys`
// as a KeyEvent (compacted, key `<tenant>/key/<kid>`) and acknowledged before the change takes
// effect here.
//
// Private keys exist in plaintext only in this process's memory; in MongoDB the 32-byte seed is
// sealed under the KEK with `<tenant>/<kid>` as associated data.
import {
  cryptoReady,
  ed25519KeyPairFromSeed,
  generateEd25519KeyPair,
  randomId,
  type ResolvedKey,
} from '@authority/core';
import { AbortedError, FailedPreconditionError, NotFoundError, type Logger } from '@authority/platform';
import {
  binaryBytes,
  fromSealedDoc,
  isDuplicateKey,
  storedBytes,
  toSealedDoc,
  type IssuerStore,
  type KeyDoc,
  type KeyStatusName,
} from './adapters/mongo';
import type { IssuerEvents } from './adapters/kafka';
import { KekError, KEK_VARIABLE, type KeyEncryptionKey } from './kek';
import type { Clock } from './clock';

/** A key that can sign now. */
export interface ActiveSigner {
  tenant: string;
  kid: string;
  /** 64-byte libsodium secret key. */
  secretKey: Uint8Array;
}

/** What RetireKey did. */
export interface RetiredKey {
  retired: KeyDoc;
  /** The key that replaced the retired one when it was ACTIVE (also on a repeated call). */
  active?: KeyDoc;
  /** True when the key was already RETIRED before this call (nothing changed but, at most, the compromised flag). */
  alreadyRetired: boolean;
}

/** What the key life cycle reports to the audit trail. */
export interface KeyAuditSink {
  keyChanged(
    tenant: string,
    action: 'key.create' | 'key.rotate' | 'key.retire',
    kid: string,
    status: KeyStatusName,
    principal: string,
    message: string,
  ): Promise<void>;
}

export interface KeyManagerOptions {
  store: IssuerStore;
  kek: KeyEncryptionKey;
  events: IssuerEvents;
  clock: Clock;
  audit: KeyAuditSink;
  logger: Logger;
  /** Longest lifetime of a link (seconds); bounds how long a superseded key must verify. */
  maxTtlSeconds: number;
  skewSeconds: number;
}

const BUCKET_SECONDS = 60;

function associatedData(tenant: string, kid: string): string {
  return `${tenant}/${kid}`;
}

function newKid(generation: number): string {
  // Readable and unique: generation plus 48 random bits. Never "cnf" (reserved for offline links).
  return `k${generation}-${randomId(6)}`;
}

export class KeyManager {
  /** `<tenant>/<kid>` → 64-byte secret key, decrypted on first use. */
  private readonly secrets = new Map<string, Uint8Array>();
  /** `<tenant>/<kid>/<bucket>` already recorded in key_exp. */
  private readonly recordedBuckets = new Set<string>();

  constructor(private readonly o: KeyManagerOptions) {}

  /**
   * Proves the KEK is the one the stored keys were sealed with: a check value sealed at first
   * start must open, and so must the newest key of every tenant. Throws KekError naming
   * AUTHORITY_ISSUER_KEK otherwise (the process then refuses to start).
   */
  async verifyKek(): Promise<void> {
    await cryptoReady();
    const probe = Buffer.from('authority-issuer-kek-check');
    const stored = await this.o.store.initKekCheck(toSealedDoc(this.o.kek.seal(probe, 'kek-check')));
    const opened = this.o.kek.open(fromSealedDoc(stored), 'kek-check');
    if (!opened.equals(probe)) throw new KekError(`${KEK_VARIABLE} check value does not match`);
    const anyKey = await this.o.store.keys.findOne({ status: { $ne: 'RETIRED' } });
    if (anyKey) this.secretOf(anyKey);
  }

  private secretOf(doc: KeyDoc): Uint8Array {
    const id = associatedData(doc.tenant, doc.kid);
    let secret = this.secrets.get(id);
    if (secret === undefined) {
      const seed = this.o.kek.open(fromSealedDoc(doc.sealedSeed), id);
      const pair = ed25519KeyPairFromSeed(seed);
      seed.fill(0);
      if (!Buffer.from(pair.publicKey).equals(Buffer.from(binaryBytes(doc.publicKey)))) {
        throw new KekError(`stored key ${id} does not match its public key`);
      }
      secret = pair.secretKey;
      this.secrets.set(id, secret);
    }
    return secret;
  }

  /** Creates and publishes a new ACTIVE key of `generation` (unique per tenant). */
  private async createKey(tenant: string, generation: number): Promise<KeyDoc> {
    const pair = generateEd25519KeyPair();
    const kid = newKid(generation);
    const seed = pair.secretKey.subarray(0, 32);
    const doc: KeyDoc = {
      _id: associatedData(tenant, kid),
      tenant,
      kid,
      generation,
      publicKey: storedBytes(Buffer.from(pair.publicKey)),
      sealedSeed: toSealedDoc(this.o.kek.seal(seed, associatedData(tenant, kid))),
      status: 'ACTIVE',
      published: false,
      createdAt: this.o.clock.now(),
    };
    try {
      await this.o.store.keys.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) {
        throw new AbortedError(`tenant '${tenant}' is rotating its key concurrently; retry`);
      }
      throw err;
    }
    this.secrets.set(doc._id, pair.secretKey);
    await this.publish(doc);
    return doc;
  }

  /** Publishes a key's current state and marks it published (only if the state did not change meanwhile). */
  private async publish(doc: KeyDoc): Promise<void> {
    await this.o.events.publishKey(doc);
    await this.o.store.keys.updateOne({ _id: doc._id, status: doc.status }, { $set: { published: true } });
    doc.published = true;
  }

  /** The tenant's first key (CreateTenant). */
  async createFirstKey(tenant: string, principal: string): Promise<KeyDoc> {
    const doc = await this.createKey(tenant, 1);
    await this.o.audit.keyChanged(tenant, 'key.create', doc.kid, 'ACTIVE', principal, `key '${doc.kid}' created`);
    return doc;
  }

  /** Keys of a tenant, newest first. */
  async list(tenant: string): Promise<KeyDoc[]> {
    return this.o.store.keys.find({ tenant }).sort({ generation: -1 }).toArray();
  }

  /** The key that signs new links: the newest published ACTIVE key. */
  async activeSigner(tenant: string): Promise<ActiveSigner> {
    const doc = await this.o.store.keys
      .find({ tenant, status: 'ACTIVE', published: true })
      .sort({ generation: -1 })
      .limit(1)
      .next();
    if (!doc)
      throw new FailedPreconditionError(
        `tenant '${tenant}' has no active signing key`,
        'FAILED_PRECONDITION',
        'tenant',
      );
    return { tenant, kid: doc.kid, secretKey: this.secretOf(doc) };
  }

  /**
   * Records that `kid` is about to sign a link expiring at `expSec`, BEFORE signing it, so a
   * rotation keeps the key verifying until that link has expired. One insert per key and minute
   * (a unique `_id`, atomic even on FerretDB, unlike a `$max` update).
   */
  async recordSigning(tenant: string, kid: string, expSec: number): Promise<void> {
    const bucket = Math.ceil(expSec / BUCKET_SECONDS) * BUCKET_SECONDS;
    const id = `${tenant}/${kid}/${bucket}`;
    if (this.recordedBuckets.has(id)) return;
    try {
      await this.o.store.keyExp.insertOne({ _id: id, tenant, kid, bucket });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    this.recordedBuckets.add(id);
    if (this.recordedBuckets.size > 100_000) this.recordedBuckets.clear();
  }

  /** The latest exp bucket a key signed (seconds), or undefined when it never signed. */
  private async latestSignedExp(tenant: string, kid: string): Promise<number | undefined> {
    const doc = await this.o.store.keyExp.find({ tenant, kid }).sort({ bucket: -1 }).limit(1).next();
    return doc?.bucket;
  }

  /** When a superseded key stops verifying: the latest exp it signed (or now) plus the skew, at most now + max TTL + skew. */
  private async verifyUntilFor(tenant: string, kid: string): Promise<Date> {
    const nowSec = Math.floor(this.o.clock.nowMs() / 1000);
    const latest = (await this.latestSignedExp(tenant, kid)) ?? nowSec;
    const until = Math.min(Math.max(latest, nowSec), nowSec + this.o.maxTtlSeconds) + this.o.skewSeconds;
    return new Date(until * 1000);
  }

  /**
   * Supersedes an ACTIVE key: VERIFY_ONLY until its last envelope expires, signing nothing issued
   * after now (`signed_until`); published before returning.
   */
  private async supersede(doc: KeyDoc): Promise<KeyDoc> {
    const verifyUntil = await this.verifyUntilFor(doc.tenant, doc.kid);
    const signedUntil = doc.signedUntil ?? this.o.clock.now();
    // Only an ACTIVE key is superseded: one that RetireKey retired meanwhile stays RETIRED.
    const changed = await this.o.store.keys.updateOne(
      { _id: doc._id, status: 'ACTIVE' },
      { $set: { status: 'VERIFY_ONLY', verifyUntil, signedUntil, published: false } },
    );
    if (changed.matchedCount === 0) return (await this.o.store.keys.findOne({ _id: doc._id })) ?? doc;
    const updated: KeyDoc = { ...doc, status: 'VERIFY_ONLY', verifyUntil, signedUntil, published: false };
    await this.publish(updated);
    return updated;
  }

  private async requireTenant(tenant: string): Promise<void> {
    const tenantDoc = await this.o.store.tenants.findOne({ _id: tenant });
    if (!tenantDoc) throw new NotFoundError(`tenant '${tenant}' does not exist`, 'tenant');
  }

  /** A new ACTIVE key of the next generation (published; it signs from now on). */
  private async createSuccessor(tenant: string): Promise<KeyDoc> {
    const newest = await this.o.store.keys.find({ tenant }).sort({ generation: -1 }).limit(1).next();
    return this.createKey(tenant, (newest?.generation ?? 0) + 1);
  }

  /** ACTIVE keys older than `generation`, newest first. */
  private async olderActive(tenant: string, generation: number): Promise<KeyDoc[]> {
    return this.o.store.keys
      .find({ tenant, status: 'ACTIVE', generation: { $lt: generation } })
      .sort({ generation: -1 })
      .toArray();
  }

  /**
   * Rotation: a new ACTIVE key signs from now on; every older ACTIVE key becomes VERIFY_ONLY until
   * the last envelope it signed has expired. Concurrent rotations of one tenant: one wins, the
   * others get ABORTED (the generation is claimed through a unique index).
   */
  async rotate(tenant: string, principal: string): Promise<{ active: KeyDoc; previous?: KeyDoc }> {
    await this.requireTenant(tenant);
    const active = await this.createSuccessor(tenant);
    let previous: KeyDoc | undefined;
    for (const doc of await this.olderActive(tenant, active.generation)) {
      const superseded = await this.supersede(doc);
      previous ??= superseded;
    }
    await this.o.audit.keyChanged(
      tenant,
      'key.rotate',
      active.kid,
      'ACTIVE',
      principal,
      previous
        ? `key '${active.kid}' replaces '${previous.kid}', which verifies until ${previous.verifyUntil?.toISOString()}`
        : `key '${active.kid}' created`,
    );
    return previous ? { active, previous } : { active };
  }

  /**
   * RetireKey: retires `kid` at once. An ACTIVE key is first replaced by a new ACTIVE key (so the
   * tenant can always mint), and every older ACTIVE key is superseded as in a rotation; then the key
   * becomes RETIRED with `signed_until` (when it stopped signing: now for an ACTIVE key, the rotation
   * time for a VERIFY_ONLY one) and the `compromised` flag. Both KeyEvents and the audit events are
   * acknowledged before this returns. Retiring a RETIRED key changes nothing (it may only add the
   * compromised flag) and answers the same, with `alreadyRetired`.
   */
  async retire(
    tenant: string,
    kid: string,
    principal: string,
    opts: { compromised: boolean; reason: string },
  ): Promise<RetiredKey> {
    await this.requireTenant(tenant);
    const id = associatedData(tenant, kid);
    const doc = await this.o.store.keys.findOne({ _id: id });
    if (!doc) throw new NotFoundError(`tenant '${tenant}' has no key '${kid}'`, 'key_id');
    if (doc.status === 'RETIRED') return this.retiredAgain(doc, principal, opts);

    let successor: KeyDoc | undefined;
    if (doc.status === 'ACTIVE') {
      successor = await this.createSuccessor(tenant);
      for (const other of await this.olderActive(tenant, successor.generation)) {
        if (other._id !== doc._id) await this.supersede(other);
      }
    }
    const now = this.o.clock.now();
    const change: Partial<KeyDoc> = {
      status: 'RETIRED',
      retiredAt: now,
      signedUntil: doc.signedUntil ?? now,
      compromised: opts.compromised,
      published: false,
      ...(opts.reason !== '' ? { retireReason: opts.reason } : {}),
      ...(successor ? { replacedBy: successor.kid } : {}),
    };
    // Conditional on the status read above: a concurrent RetireKey or sweep wins cleanly.
    const updated = await this.o.store.keys.updateOne({ _id: id, status: doc.status }, { $set: change });
    if (updated.matchedCount === 0) {
      const now2 = await this.o.store.keys.findOne({ _id: id });
      if (now2?.status === 'RETIRED') return this.retiredAgain(now2, principal, opts);
      throw new AbortedError(`key '${kid}' of tenant '${tenant}' changed concurrently; retry`);
    }
    const retired: KeyDoc = { ...doc, ...change };
    await this.publish(retired);
    this.secrets.delete(id);
    const why = `${opts.compromised ? 'compromised' : 'retired by request'}${opts.reason !== '' ? `: ${opts.reason}` : ''}`;
    if (successor) {
      await this.o.audit.keyChanged(
        tenant,
        'key.rotate',
        successor.kid,
        'ACTIVE',
        principal,
        `key '${successor.kid}' replaces '${kid}', which was retired at once (${why})`,
      );
    }
    await this.o.audit.keyChanged(
      tenant,
      'key.retire',
      kid,
      'RETIRED',
      principal,
      `key '${kid}' retired at once, was ${doc.status} (${why}); every link it signed is refused${successor ? `; replaced by '${successor.kid}'` : ''}`,
    );
    return successor ? { retired, active: successor, alreadyRetired: false } : { retired, alreadyRetired: false };
  }

  /** A repeated RetireKey: republishes an unacknowledged state, records a late compromised flag. */
  private async retiredAgain(
    doc: KeyDoc,
    principal: string,
    opts: { compromised: boolean; reason: string },
  ): Promise<RetiredKey> {
    let retired = doc;
    if (opts.compromised && doc.compromised !== true) {
      const change: Partial<KeyDoc> = {
        compromised: true,
        published: false,
        ...(opts.reason !== '' ? { retireReason: opts.reason } : {}),
      };
      await this.o.store.keys.updateOne({ _id: doc._id, status: 'RETIRED' }, { $set: change });
      retired = { ...doc, ...change };
      await this.publish(retired);
      await this.o.audit.keyChanged(
        doc.tenant,
        'key.retire',
        doc.kid,
        'RETIRED',
        principal,
        `key '${doc.kid}' (already retired) marked compromised${opts.reason !== '' ? `: ${opts.reason}` : ''}`,
      );
    } else if (!doc.published) {
      await this.publish(retired);
    }
    this.o.logger.info({ tenant: doc.tenant, kid: doc.kid }, 'RetireKey: the key is already retired');
    const active =
      doc.replacedBy === undefined
        ? undefined
        : ((await this.o.store.keys.findOne({ _id: associatedData(doc.tenant, doc.replacedBy) })) ?? undefined);
    return active ? { retired, active, alreadyRetired: true } : { retired, alreadyRetired: true };
  }

  /**
   * Periodic repair and retirement: publishes any state not yet acknowledged, supersedes ACTIVE
   * keys that are not the newest (a rotation interrupted half-way), extends a VERIFY_ONLY key whose
   * signings outlast its verify-until (a mint racing a rotation), and retires expired ones.
   */
  async sweep(): Promise<void> {
    const now = this.o.clock.now();
    for (const doc of await this.o.store.keys.find({ published: false }).toArray()) {
      await this.publish(doc);
    }
    const newestByTenant = new Map<string, number>();
    for (const doc of await this.o.store.keys.find({ status: 'ACTIVE', published: true }).toArray()) {
      newestByTenant.set(doc.tenant, Math.max(newestByTenant.get(doc.tenant) ?? 0, doc.generation));
    }
    for (const doc of await this.o.store.keys.find({ status: 'ACTIVE', published: true }).toArray()) {
      if (doc.generation < (newestByTenant.get(doc.tenant) ?? 0)) await this.supersede(doc);
    }
    for (const doc of await this.o.store.keys.find({ status: 'VERIFY_ONLY' }).toArray()) {
      const latest = await this.latestSignedExp(doc.tenant, doc.kid);
      const current = doc.verifyUntil ?? now;
      if (latest !== undefined && (latest + this.o.skewSeconds) * 1000 > current.getTime()) {
        const verifyUntil = new Date((latest + this.o.skewSeconds) * 1000);
        // Conditional on the status: a key RetireKey retired meanwhile is never published as VERIFY_ONLY again.
        const extended = await this.o.store.keys.updateOne(
          { _id: doc._id, status: 'VERIFY_ONLY' },
          { $set: { verifyUntil, published: false } },
        );
        if (extended.matchedCount === 0) continue;
        await this.publish({ ...doc, verifyUntil, published: false });
        this.o.logger.warn(
          { tenant: doc.tenant, kid: doc.kid, verify_until: verifyUntil.toISOString() },
          'extended a superseded key: it signed after its rotation',
        );
        continue;
      }
      if (current.getTime() < now.getTime()) {
        const retired = await this.o.store.keys.updateOne(
          { _id: doc._id, status: 'VERIFY_ONLY' },
          { $set: { status: 'RETIRED', retiredAt: now, published: false } },
        );
        if (retired.matchedCount === 0) continue; // retired meanwhile by RetireKey
        await this.publish({ ...doc, status: 'RETIRED', retiredAt: now, published: false });
        this.secrets.delete(doc._id);
        await this.o.audit.keyChanged(
          doc.tenant,
          'key.retire',
          doc.kid,
          'RETIRED',
          'system',
          `key '${doc.kid}' retired: every envelope it signed has expired`,
        );
      }
    }
  }

  /**
   * Keys of a tenant that verify at `nowSec`, by kid, for verifying a parent token: ACTIVE keys,
   * and VERIFY_ONLY keys until their verify-until time with the time they stopped signing (core
   * refuses a link issued after it); the same rule as the enforcers' KeyDirectory.
   */
  async verificationKeys(tenant: string): Promise<(kid: string, nowSec: number) => ResolvedKey | undefined> {
    const docs = await this.o.store.keys.find({ tenant, status: { $in: ['ACTIVE', 'VERIFY_ONLY'] } }).toArray();
    const byKid = new Map(docs.map((d) => [d.kid, d]));
    return (kid, nowSec) => {
      const d = byKid.get(kid);
      if (!d) return undefined;
      if (d.status === 'ACTIVE') return { publicKey: binaryBytes(d.publicKey) };
      if (
        d.status === 'VERIFY_ONLY' &&
        d.verifyUntil !== undefined &&
        nowSec <= Math.floor(d.verifyUntil.getTime() / 1000)
      ) {
        const publicKey = binaryBytes(d.publicKey);
        return d.signedUntil === undefined
          ? { publicKey }
          : { publicKey, signedUntil: Math.floor(d.signedUntil.getTime() / 1000) };
      }
      return undefined;
    };
  }
}

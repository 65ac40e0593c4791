// KeyDirectory: the tenants' public signing keys and API-credential hashes, as replayed from the
// compacted `keys` topic. Every service authenticates tenant callers and resolves signing keys here,
// so none reads the issuer's database.
//
// Key validity: an ACTIVE key verifies what it signs; a VERIFY_ONLY key (superseded by a rotation)
// verifies until its `verify_until`, and only links issued (`iat`) by its `signed_until` (the
// rotation time; core adds the clock skew), so whoever holds a superseded private key cannot sign
// new links with it; a RETIRED key (expired, or retired at once with RetireKey) verifies nothing and
// is dropped from the directory the moment its event arrives, never to return.
import { constantTimeEqual, parseRecordKey, sha256Hex, type ResolvedKey } from '@authority/core';
import { pb } from '@authority/proto';

export type CredentialKindName = 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR';
export type KeyStatusName = 'ACTIVE' | 'VERIFY_ONLY' | 'RETIRED';

export interface TenantKey {
  tenant: string;
  keyId: string;
  publicKey: Uint8Array;
  status: KeyStatusName;
  createdAtSec: number;
  /** For VERIFY_ONLY keys: seconds since epoch after which the key no longer verifies. */
  verifyUntilSec?: number;
  /** For VERIFY_ONLY keys: when the key stopped signing (seconds); later links are not its. */
  signedUntilSec?: number;
}

export interface TenantCredential {
  id: string;
  tenant: string;
  kind: CredentialKindName;
}

interface StoredCredential extends TenantCredential {
  secretSha256: string;
  revoked: boolean;
}

const KIND_NAMES: Record<number, CredentialKindName | undefined> = {
  [pb.CredentialKind.ADMIN]: 'ADMIN',
  [pb.CredentialKind.APPROVER]: 'APPROVER',
  [pb.CredentialKind.CHECKER]: 'CHECKER',
  [pb.CredentialKind.AUDITOR]: 'AUDITOR',
};

const STATUS_NAMES: Record<number, KeyStatusName | undefined> = {
  [pb.KeyStatus.ACTIVE]: 'ACTIVE',
  [pb.KeyStatus.VERIFY_ONLY]: 'VERIFY_ONLY',
  [pb.KeyStatus.RETIRED]: 'RETIRED',
};

function seconds(t: { seconds: bigint } | undefined): number | undefined {
  return t === undefined ? undefined : Number(t.seconds);
}

export class KeyDirectory {
  private readonly keys = new Map<string, Map<string, TenantKey>>();
  /** `<tenant>/<kid>` of keys seen RETIRED: a retired key is never resurrected by a later event. */
  private readonly retired = new Set<string>();
  /** What resolveKey answers for each live key, built once when its event is applied (hot path). */
  private readonly resolved = new WeakMap<TenantKey, ResolvedKey>();
  private readonly credentialsByHash = new Map<string, StoredCredential>();
  private readonly credentialsById = new Map<string, StoredCredential>();

  applyKey(e: pb.KeyEvent): void {
    const status = STATUS_NAMES[e.status];
    if (!e.tenant || !e.keyId || !status || e.publicKey.length !== 32) return; // malformed: ignore, never trust
    let tenantKeys = this.keys.get(e.tenant);
    if (!tenantKeys) this.keys.set(e.tenant, (tenantKeys = new Map()));
    const id = `${e.tenant}/${e.keyId}`;
    if (status === 'RETIRED') {
      // Dropped at once (a compromised key stops verifying with this event), and remembered so that
      // no stale ACTIVE or VERIFY_ONLY event of the same key brings it back.
      tenantKeys.delete(e.keyId);
      this.retired.add(id);
      return;
    }
    if (this.retired.has(id)) return;
    const key: TenantKey = {
      tenant: e.tenant,
      keyId: e.keyId,
      publicKey: new Uint8Array(e.publicKey),
      status,
      createdAtSec: seconds(e.createdAt) ?? 0,
    };
    const until = seconds(e.verifyUntil);
    if (until !== undefined) key.verifyUntilSec = until;
    const signedUntil = seconds(e.signedUntil);
    if (signedUntil !== undefined && status === 'VERIFY_ONLY') key.signedUntilSec = signedUntil;
    tenantKeys.set(e.keyId, key);
    this.resolved.set(
      key,
      key.signedUntilSec === undefined
        ? { publicKey: key.publicKey }
        : { publicKey: key.publicKey, signedUntil: key.signedUntilSec },
    );
  }

  applyCredential(e: pb.CredentialEvent): void {
    const kind = KIND_NAMES[e.kind];
    if (!e.tenant || !e.credentialId || !kind || !/^[0-9a-f]{64}$/.test(e.secretSha256)) return;
    const previous = this.credentialsById.get(`${e.tenant}/${e.credentialId}`);
    if (previous) this.credentialsByHash.delete(previous.secretSha256);
    const stored: StoredCredential = {
      id: e.credentialId,
      tenant: e.tenant,
      kind,
      secretSha256: e.secretSha256,
      revoked: e.revoked,
    };
    this.credentialsById.set(`${e.tenant}/${e.credentialId}`, stored);
    this.credentialsByHash.set(e.secretSha256, stored);
  }

  /** Forgets a key or credential on a compaction tombstone (record key `<tenant>/key/<kid>` etc.). */
  applyTombstone(recordKey: string): void {
    const parsed = parseRecordKey(recordKey);
    if (parsed === undefined) return;
    const { tenant, kind: type, id } = parsed;
    if (type === 'key') {
      this.keys.get(tenant)?.delete(id);
      this.retired.delete(`${tenant}/${id}`);
    }
    if (type === 'credential') {
      const c = this.credentialsById.get(`${tenant}/${id}`);
      if (c) this.credentialsByHash.delete(c.secretSha256);
      this.credentialsById.delete(`${tenant}/${id}`);
    }
  }

  /**
   * The key that may verify a link of `tenant` signed with `kid` at `nowSec`: an ACTIVE key, or a
   * VERIFY_ONLY key until its verify-until time, with `signedUntil` (when it stopped signing: core
   * refuses a link issued after it, plus the clock skew, as UNKNOWN_KEY); never a RETIRED one.
   * The result fits core's EnvelopeVerifyOptions.resolveKey.
   */
  resolveKey(tenant: string, kid: string, nowSec: number): ResolvedKey | undefined {
    const key = this.keys.get(tenant)?.get(kid);
    if (!key) return undefined;
    const live =
      key.status === 'ACTIVE' ||
      (key.status === 'VERIFY_ONLY' && key.verifyUntilSec !== undefined && nowSec <= key.verifyUntilSec);
    return live ? this.resolved.get(key) : undefined;
  }

  keysOf(tenant: string): TenantKey[] {
    return [...(this.keys.get(tenant)?.values() ?? [])].sort((a, b) => b.createdAtSec - a.createdAtSec);
  }

  hasTenant(tenant: string): boolean {
    return this.keys.has(tenant);
  }

  /** The live tenant credential whose secret this is, or undefined. Compares SHA-256 digests. */
  authenticate(secret: string): TenantCredential | undefined {
    const digest = sha256Hex(secret);
    const found = this.credentialsByHash.get(digest);
    // The map lookup found a candidate by digest; confirm in constant time and check liveness.
    if (!found || found.revoked || !constantTimeEqual(found.secretSha256, digest)) return undefined;
    return { id: found.id, tenant: found.tenant, kind: found.kind };
  }

  get size(): { keys: number; credentials: number } {
    let keys = 0;
    for (const m of this.keys.values()) keys += m.size;
    return { keys, credentials: this.credentialsById.size };
  }
}

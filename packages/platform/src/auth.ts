// Who is calling: API keys from `authorization: Bearer <key>` metadata, checked against a
// credential store by SHA-256 hash in constant time, giving a tenant-scoped Principal.
import { constantTimeEqual, sha256 } from '@authority/core';
import type * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { MIN_API_KEY_LENGTH, Secret } from './config';
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from './errors';

export const PRINCIPAL_KINDS = ['operator', 'admin', 'approver', 'service'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/**
 * An authenticated caller. `operator` is cross-tenant (no tenant) and may act for a tenant only
 * where a call explicitly allows it; `admin`, `approver` and `service` credentials may be bound
 * to one tenant (`tenant`) or, for `service` only, be tenant-less internal identities.
 */
export interface Principal {
  kind: PrincipalKind;
  id: string;
  tenant?: string;
}

/** A stored credential: the SHA-256 of the API key, never the key itself. */
export interface StoredCredential {
  keyHash: Buffer;
  principal: Principal;
}

/**
 * Where credentials live. The issuer backs it with MongoDB (lookup by the indexed key hash);
 * StaticCredentialStore serves keys from configuration. Implementations return the stored
 * credential whose hash equals `keyHash`, or undefined.
 */
export interface CredentialStore {
  findByKeyHash(keyHash: Buffer): Promise<StoredCredential | undefined>;
}

/** SHA-256 of an API key (what stores keep and compare). */
export function hashApiKey(key: string): Buffer {
  return sha256(key);
}

/** The bearer credential of a call; UnauthenticatedError when absent or malformed. */
export function bearerToken(metadata: grpc.Metadata): string {
  const values = metadata.get('authorization');
  if (values.length !== 1) throw new UnauthenticatedError('missing credentials: send "authorization: Bearer <key>"');
  const raw = values[0];
  const text = typeof raw === 'string' ? raw : raw!.toString('utf8');
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(text);
  if (!m) throw new UnauthenticatedError('malformed authorization: expected "Bearer <key>"');
  return m[1]!;
}

/** Authenticates a call's API key against `store`; the error never says which part was wrong. */
export async function authenticate(metadata: grpc.Metadata, store: CredentialStore): Promise<Principal> {
  const key = bearerToken(metadata);
  const hash = hashApiKey(key);
  const found = await store.findByKeyHash(hash);
  // Re-compare in constant time even after an indexed lookup, so a store bug cannot match loosely.
  if (!found || !constantTimeEqual(found.keyHash, hash)) throw new UnauthenticatedError('invalid credentials');
  return found.principal;
}

/** Static credentials (from configuration), compared by hash in constant time, no early exit. */
export class StaticCredentialStore implements CredentialStore {
  private readonly entries: StoredCredential[];
  constructor(entries: readonly StoredCredential[]) {
    this.entries = [...entries];
  }
  /** From plaintext keys (tests, dev); production config may carry hashes (see apiKeysField). */
  static fromKeys(keys: readonly { key: string | Secret; principal: Principal }[]): StaticCredentialStore {
    return new StaticCredentialStore(
      keys.map((k) => ({
        keyHash: hashApiKey(typeof k.key === 'string' ? k.key : k.key.reveal()),
        principal: k.principal,
      })),
    );
  }
  async findByKeyHash(keyHash: Buffer): Promise<StoredCredential | undefined> {
    let match: StoredCredential | undefined;
    for (const entry of this.entries) {
      if (constantTimeEqual(entry.keyHash, keyHash) && match === undefined) match = entry;
    }
    return match;
  }
}

/**
 * Throws unless `principal` may act for `tenant`: the principal's own tenant always; an operator
 * only when the call passes `allowOperator: true`. Tenant-less service identities are denied
 * unless `allowService` (internal calls that carry the tenant in the request).
 */
export function requireTenant(
  principal: Principal,
  tenant: string,
  opts: { allowOperator?: boolean; allowService?: boolean } = {},
): void {
  if (tenant === '') throw new InvalidArgumentError('tenant', 'required');
  if (principal.tenant !== undefined) {
    if (principal.tenant === tenant) return;
  } else if (principal.kind === 'operator' && opts.allowOperator) {
    return;
  } else if (principal.kind === 'service' && opts.allowService) {
    return;
  }
  throw new PermissionDeniedError(
    `${principal.kind} "${principal.id}" may not act for tenant "${tenant}"`,
    'TENANT_MISMATCH',
    'tenant',
  );
}

/** "an ADMIN credential", "a CHECKER credential": the article follows the kind's first letter. */
export function credentialOfKind(kind: string): string {
  return `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind} credential`;
}

/** Throws PermissionDeniedError unless the principal is one of `kinds`. */
export function requireKind(principal: Principal, ...kinds: PrincipalKind[]): void {
  if (!kinds.includes(principal.kind)) {
    throw new PermissionDeniedError(
      `${principal.kind} "${principal.id}" may not call this; requires ${kinds.join(' or ')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Static keys from configuration: AUTHORITY_API_KEYS="kind:id[:tenant]=<key or sha256:hex>,..."

const ENTRY = /^(operator|admin|approver|service):([A-Za-z0-9._@-]+)(?::([A-Za-z0-9._-]+))?=(.+)$/;

/**
 * Parses API key entries `kind:id[:tenant]=<key>` separated by commas. A key written as
 * `sha256:<64 hex>` is already hashed (so manifests need not hold plaintext keys). Operators
 * take no tenant. Errors name the entry by position, never echo a key.
 */
export function parseApiKeys(text: string): { entries: StoredCredential[]; problems: string[] } {
  const entries: StoredCredential[] = [];
  const problems: string[] = [];
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  items.forEach((item, i) => {
    const m = ENTRY.exec(item);
    if (!m) {
      problems.push(`entry ${i + 1}: expected kind:id[:tenant]=key with kind one of ${PRINCIPAL_KINDS.join(', ')}`);
      return;
    }
    const [, kind, id, tenant, key] = m as unknown as [string, PrincipalKind, string, string | undefined, string];
    if (kind === 'operator' && tenant !== undefined) {
      problems.push(`entry ${i + 1}: an operator key takes no tenant`);
      return;
    }
    if ((kind === 'admin' || kind === 'approver') && tenant === undefined) {
      problems.push(`entry ${i + 1}: an ${kind} key needs a tenant (kind:id:tenant=key)`);
      return;
    }
    let keyHash: Buffer;
    const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(key);
    if (hashed) keyHash = Buffer.from(hashed[1]!, 'hex');
    else if (key.length >= MIN_API_KEY_LENGTH) keyHash = hashApiKey(key);
    else {
      problems.push(`entry ${i + 1}: key too short (at least ${MIN_API_KEY_LENGTH} characters)`);
      return;
    }
    const principal: Principal = tenant !== undefined ? { kind, id, tenant } : { kind, id };
    entries.push({ keyHash, principal });
  });
  return { entries, problems };
}

/** A config field for AUTHORITY_API_KEYS (a secret: values are never echoed). */
export function apiKeysField() {
  return z
    .string()
    .transform((s, ctx): StoredCredential[] => {
      const { entries, problems } = parseApiKeys(s);
      if (problems.length > 0) {
        ctx.issues.push({ code: 'custom', message: problems.join('; '), input: s });
        return z.NEVER as never;
      }
      return entries;
    })
    .meta({ secret: true });
}

/** Extend a service schema with this to accept static operator/service keys. */
export const apiKeysConfigShape = {
  AUTHORITY_API_KEYS: apiKeysField()
    .optional()
    .describe(
      'Static API keys, comma-separated `kind:id[:tenant]=key`: kind is operator, admin, approver or service; key is 16+ characters or `sha256:<64 hex>` (the hash of the key).',
    ),
};

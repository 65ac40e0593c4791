// Who is calling the issuer, and what they may do. Three sources of credentials:
// - the operator key from configuration (creates tenants; may act for any tenant);
// - the internal service key from configuration (the enforcers: approval requests and consumption);
// - tenant credentials (ADMIN, APPROVER, CHECKER, AUDITOR) created here, stored as SHA-256 hashes.
// Tenant credentials are looked up in the issuer's own MongoDB (the system of record), so a
// credential works the moment CreateCredential returns and stops the moment RevokeCredential does.
import { constantTimeEqual, sha256Hex } from '@authority/core';
import {
  bearerToken,
  credentialOfKind,
  PermissionDeniedError,
  UnauthenticatedError,
  InvalidArgumentError,
} from '@authority/platform';
import type * as grpc from '@grpc/grpc-js';
import type { CredentialKindName, IssuerStore } from './adapters/mongo';

export type PrincipalKind = 'OPERATOR' | 'SERVICE' | CredentialKindName;

export interface Principal {
  kind: PrincipalKind;
  /** Credential id (`operator` and `service` for the configured keys). */
  id: string;
  /** The tenant of a tenant credential; undefined for operator and service. */
  tenant?: string;
}

export interface AuthenticatorOptions {
  operatorApiKey: string;
  serviceApiKey?: string;
  store: IssuerStore;
}

export class Authenticator {
  readonly #operatorHash: string;
  readonly #serviceHash: string | undefined;
  readonly #store: IssuerStore;

  constructor(opts: AuthenticatorOptions) {
    this.#operatorHash = sha256Hex(opts.operatorApiKey);
    this.#serviceHash = opts.serviceApiKey === undefined ? undefined : sha256Hex(opts.serviceApiKey);
    this.#store = opts.store;
  }

  /** The caller of a request; UNAUTHENTICATED when the credential is missing, unknown or revoked. */
  async authenticate(metadata: grpc.Metadata): Promise<Principal> {
    const secret = bearerToken(metadata);
    const digest = sha256Hex(secret);
    // Both configured keys are compared every time (no early exit on which one matched).
    const isOperator = constantTimeEqual(digest, this.#operatorHash);
    const isService = this.#serviceHash !== undefined && constantTimeEqual(digest, this.#serviceHash);
    if (isOperator) return { kind: 'OPERATOR', id: 'operator' };
    if (isService) return { kind: 'SERVICE', id: 'service' };
    const found = await this.#store.credentials.findOne({ secretSha256: digest });
    if (!found || found.revoked || !constantTimeEqual(found.secretSha256, digest)) {
      throw new UnauthenticatedError('invalid credentials');
    }
    return { kind: found.kind, id: found._id, tenant: found.tenant };
  }
}

/**
 * Throws unless `principal` may act for `tenant` as one of `kinds`. The operator may act for every
 * tenant when OPERATOR is listed; the service credential for every tenant when SERVICE is listed;
 * a tenant credential only for its own tenant (PERMISSION_DENIED, reason TENANT_MISMATCH,
 * otherwise), and only when its kind is listed.
 */
export function authorize(principal: Principal, tenant: string, kinds: readonly PrincipalKind[]): void {
  if (tenant === '') throw new InvalidArgumentError('tenant', 'tenant: required');
  if (principal.tenant !== undefined && principal.tenant !== tenant) {
    throw new PermissionDeniedError(
      `credential '${principal.id}' belongs to another tenant and may not act for tenant '${tenant}'`,
      'TENANT_MISMATCH',
      'tenant',
    );
  }
  if (!kinds.includes(principal.kind)) {
    throw new PermissionDeniedError(
      `${credentialOfKind(principal.kind)} may not call this; it needs ${kinds.join(' or ')}`,
      'PERMISSION_DENIED',
    );
  }
}

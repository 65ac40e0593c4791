// Who may call the policy service: the operator credential (any tenant) or an ADMIN credential of
// the tenant named in the request. Tenant credentials come from the KeyDirectory (replayed from
// `<prefix>keys`); the operator key from configuration. Digests are compared in constant time.
import { constantTimeEqual, sha256Hex, tenantIdProblem } from '@authority/core';
import {
  bearerToken,
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from '@authority/platform';
import type * as grpc from '@grpc/grpc-js';

/** The authenticated caller. `tenant` is undefined for the operator. */
export interface Principal {
  id: string;
  kind: 'OPERATOR' | 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR';
  tenant?: string;
}

/** What authenticates tenant credentials (the KeyDirectory of @authority/views fits). */
export interface CredentialLookup {
  authenticate(
    secret: string,
  ): { id: string; tenant: string; kind: 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR' } | undefined;
}

/** Credential id recorded as the author of versions put with the operator key. */
export const OPERATOR_PRINCIPAL_ID = 'operator';

/**
 * Tenant ids by core's rule (TENANT_ID_PATTERN, the issuer's and the enforcer's too). They never
 * contain `/`, so `<tenant>/<version>` Kafka keys are unambiguous.
 */
export function checkTenant(tenant: string): void {
  if (tenant === '') throw new InvalidArgumentError('tenant', 'tenant: required');
  const problem = tenantIdProblem(tenant);
  if (problem !== undefined) throw new InvalidArgumentError('tenant', `tenant: ${problem}`);
}

export class Authorizer {
  readonly #operatorDigest: string;

  constructor(
    operatorApiKey: string,
    private readonly credentials: CredentialLookup,
    /** False until the credentials have been replayed: calls then get UNAVAILABLE, not a false UNAUTHENTICATED. */
    private readonly isReady: () => boolean = () => true,
  ) {
    this.#operatorDigest = sha256Hex(operatorApiKey);
  }

  /** The caller of a request, from `authorization: Bearer <secret>`; UNAUTHENTICATED otherwise. */
  authenticate(metadata: grpc.Metadata): Principal {
    if (!this.isReady())
      throw new UnavailableError('starting: credentials are still being loaded, retry shortly', 'NOT_READY');
    const secret = bearerToken(metadata);
    const digest = sha256Hex(secret);
    if (constantTimeEqual(digest, this.#operatorDigest)) return { id: OPERATOR_PRINCIPAL_ID, kind: 'OPERATOR' };
    const found = this.credentials.authenticate(secret);
    if (!found) throw new UnauthenticatedError('missing or invalid credentials');
    return { id: found.id, kind: found.kind, tenant: found.tenant };
  }

  /**
   * The caller, if it may administer `tenant`'s policy: the operator, or an ADMIN credential of
   * that tenant. Checks the tenant id's syntax after authentication (nothing leaks to strangers).
   */
  authorize(metadata: grpc.Metadata, tenant: string): Principal {
    const principal = this.authenticate(metadata);
    if (principal.kind === 'OPERATOR') {
      checkTenant(tenant);
      return principal;
    }
    if (principal.tenant !== tenant) {
      throw new PermissionDeniedError(
        `credential ${principal.id} belongs to another tenant and cannot act for tenant ${JSON.stringify(tenant.slice(0, 80))}`,
        'TENANT_MISMATCH',
        'tenant',
      );
    }
    if (principal.kind !== 'ADMIN') {
      throw new PermissionDeniedError(`policy calls need an ADMIN credential; ${principal.id} is ${principal.kind}`);
    }
    checkTenant(tenant);
    return principal;
  }
}

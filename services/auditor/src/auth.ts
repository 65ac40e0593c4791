// Who may read a tenant's audit chain: the operator credential (configuration; any tenant), or an
// ADMIN or AUDITOR credential of that tenant, authenticated against the credential hashes replayed
// from `<prefix>keys` (KeyDirectory; the auditor never reads the issuer's database).
import { constantTimeEqual, sha256Hex } from '@authority/core';
import {
  bearerToken,
  credentialOfKind,
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
} from '@authority/platform';
import type { KeyDirectory } from '@authority/views';
import type * as grpc from '@grpc/grpc-js';

export type PrincipalKind = 'OPERATOR' | 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR';

export interface Principal {
  kind: PrincipalKind;
  id: string;
  /** Undefined for the operator. */
  tenant?: string;
}

/** Kinds that may read audit data of their own tenant. */
export const AUDIT_READER_KINDS: readonly PrincipalKind[] = ['ADMIN', 'AUDITOR'];

export class Authenticator {
  readonly #operatorHash: string;

  constructor(
    operatorApiKey: string,
    private readonly directory: Pick<KeyDirectory, 'authenticate'>,
  ) {
    this.#operatorHash = sha256Hex(operatorApiKey);
  }

  /** The caller; UNAUTHENTICATED when the credential is missing, malformed, unknown or revoked. */
  authenticate(metadata: grpc.Metadata): Principal {
    const secret = bearerToken(metadata);
    const isOperator = constantTimeEqual(sha256Hex(secret), this.#operatorHash);
    const tenantCredential = this.directory.authenticate(secret);
    if (isOperator) return { kind: 'OPERATOR', id: 'operator' };
    if (tenantCredential)
      return { kind: tenantCredential.kind, id: tenantCredential.id, tenant: tenantCredential.tenant };
    throw new UnauthenticatedError('invalid credentials');
  }
}

/**
 * Throws unless `principal` may read `tenant`'s audit data: the operator always; an ADMIN or
 * AUDITOR credential only for its own tenant (PERMISSION_DENIED / TENANT_MISMATCH otherwise).
 */
export function authorizeTenant(principal: Principal, tenant: string): void {
  if (tenant === '') throw new InvalidArgumentError('tenant', 'tenant: required');
  if (principal.kind === 'OPERATOR') return;
  if (principal.tenant !== tenant) {
    throw new PermissionDeniedError(
      `credential '${principal.id}' belongs to another tenant and may not read tenant '${tenant}'`,
      'TENANT_MISMATCH',
      'tenant',
    );
  }
  if (!AUDIT_READER_KINDS.includes(principal.kind)) {
    throw new PermissionDeniedError(
      `${credentialOfKind(principal.kind)} may not read audit data; it needs ADMIN or AUDITOR`,
      'PERMISSION_DENIED',
    );
  }
}

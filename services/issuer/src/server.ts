// gRPC handlers of IssuerService: authenticate → authorize (tenant and credential kind) → the
// domain operation. Every error goes through platform's single mapping (wrapUnary/toGrpcError):
// status code, `authority-reason` and `authority-field` metadata, a message naming the field.
import { InvalidArgumentError, PermissionDeniedError, wrapUnary, type Logger } from '@authority/platform';
import type * as grpc from '@grpc/grpc-js';
import { timestampToGrpc, type IssuerServiceHandlers } from '@authority/proto';
import type { CredentialKindName } from './adapters/mongo';
import type { Approvals } from './approvals';
import { publicKeyMessage, type Issuer } from './issuer';
import { authorize, type Authenticator, type Principal, type PrincipalKind } from './principal';

/** Who may call what (besides the tenant check: a tenant credential only acts for its tenant). */
export const ALLOWED: Readonly<Record<string, readonly PrincipalKind[]>> = {
  CreateCredential: ['OPERATOR', 'ADMIN'],
  RevokeCredential: ['OPERATOR', 'ADMIN'],
  RotateKey: ['OPERATOR', 'ADMIN'],
  ListKeys: ['OPERATOR', 'ADMIN'],
  RetireKey: ['OPERATOR', 'ADMIN'],
  Mint: ['OPERATOR', 'ADMIN'],
  Delegate: ['OPERATOR', 'ADMIN'],
  Revoke: ['OPERATOR', 'ADMIN'],
  RevokeAgent: ['OPERATOR', 'ADMIN'],
  RequestApproval: ['OPERATOR', 'SERVICE', 'CHECKER'],
  DecideApproval: ['OPERATOR', 'APPROVER'],
  ConsumeApproval: ['OPERATOR', 'SERVICE', 'CHECKER'],
  GetApproval: ['OPERATOR', 'SERVICE', 'ADMIN', 'APPROVER', 'CHECKER'],
  ListApprovals: ['OPERATOR', 'ADMIN', 'APPROVER'],
};

const CREDENTIAL_KINDS: readonly CredentialKindName[] = ['ADMIN', 'APPROVER', 'CHECKER', 'AUDITOR'];

export interface IssuerHandlerDeps {
  issuer: Issuer;
  approvals: Approvals;
  auth: Authenticator;
  logger: Logger;
}

export function issuerHandlers(d: IssuerHandlerDeps): IssuerServiceHandlers {
  const opts = { logger: d.logger };
  /** Authenticates and authorizes a tenant-scoped call; returns the principal. */
  const caller = async (call: { metadata: grpc.Metadata }, method: string, tenant: string): Promise<Principal> => {
    const principal = await d.auth.authenticate(call.metadata);
    authorize(principal, tenant, ALLOWED[method] ?? []);
    return principal;
  };

  return {
    CreateTenant: wrapUnary(async (call) => {
      const principal = await d.auth.authenticate(call.metadata);
      if (principal.kind !== 'OPERATOR')
        throw new PermissionDeniedError('only the operator credential may create tenants');
      const { key, admin } = await d.issuer.createTenant(principal.id, call.request.tenant, call.request.displayName);
      return {
        tenant: key.tenant,
        key: publicKeyMessage(key),
        adminCredential: {
          credentialId: admin.doc._id,
          tenant: admin.doc.tenant,
          kind: admin.doc.kind,
          secret: admin.secret,
        },
      };
    }, opts),

    CreateCredential: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'CreateCredential', req.tenant);
      const kind = req.kind as CredentialKindName;
      if (!CREDENTIAL_KINDS.includes(kind))
        throw new InvalidArgumentError('kind', `kind: must be one of ${CREDENTIAL_KINDS.join(', ')}`);
      const created = await d.issuer.createCredential(p.id, req.tenant, kind);
      return {
        credential: {
          credentialId: created.doc._id,
          tenant: created.doc.tenant,
          kind: created.doc.kind,
          secret: created.secret,
        },
      };
    }, opts),

    RevokeCredential: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'RevokeCredential', req.tenant);
      await d.issuer.revokeCredential(p.id, req.tenant, req.credentialId);
      return {};
    }, opts),

    RotateKey: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'RotateKey', req.tenant);
      const { active, previous } = await d.issuer.rotateKey(p.id, req.tenant);
      return previous
        ? { active: publicKeyMessage(active), previous: publicKeyMessage(previous) }
        : { active: publicKeyMessage(active) };
    }, opts),

    ListKeys: wrapUnary(async (call) => {
      const req = call.request;
      await caller(call, 'ListKeys', req.tenant);
      return { keys: (await d.issuer.listKeys(req.tenant)).map(publicKeyMessage) };
    }, opts),

    RetireKey: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'RetireKey', req.tenant);
      const { retired, active } = await d.issuer.retireKey(p.id, req.tenant, req.keyId, req.compromised, req.reason);
      return active
        ? { retired: publicKeyMessage(retired), active: publicKeyMessage(active) }
        : { retired: publicKeyMessage(retired) };
    }, opts),

    // The holder's seed (when the issuer generated the holder key) is in the response only: the
    // handler wrapper logs failures, never responses.
    Mint: wrapUnary(async (call) => {
      const p = await caller(call, 'Mint', call.request.tenant);
      return await d.issuer.mint(p.id, call.request);
    }, opts),

    Delegate: wrapUnary(async (call) => {
      const p = await caller(call, 'Delegate', call.request.tenant);
      return await d.issuer.delegate(p.id, call.request);
    }, opts),

    Revoke: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'Revoke', req.tenant);
      const r = await d.issuer.revoke(p.id, req.tenant, req.jti, req.reason);
      return { revokedAt: timestampToGrpc(r.revokedAt), alreadyRevoked: r.alreadyRevoked };
    }, opts),

    RevokeAgent: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'RevokeAgent', req.tenant);
      const at = await d.issuer.revokeAgent(p.id, req.tenant, req.agentId, req.reason);
      return { revokedBefore: timestampToGrpc(at) };
    }, opts),

    RequestApproval: wrapUnary(async (call) => {
      const p = await caller(call, 'RequestApproval', call.request.tenant);
      return { approval: await d.approvals.request(p.id, call.request) };
    }, opts),

    DecideApproval: wrapUnary(async (call) => {
      const req = call.request;
      const p = await caller(call, 'DecideApproval', req.tenant);
      return { approval: await d.approvals.decide(p.id, req.tenant, req.approvalId, req.approve, req.comment) };
    }, opts),

    ConsumeApproval: wrapUnary(async (call) => {
      const p = await caller(call, 'ConsumeApproval', call.request.tenant);
      return await d.approvals.consume(p.id, call.request);
    }, opts),

    GetApproval: wrapUnary(async (call) => {
      const req = call.request;
      await caller(call, 'GetApproval', req.tenant);
      return { approval: await d.approvals.get(req.tenant, req.approvalId) };
    }, opts),

    ListApprovals: wrapUnary(async (call) => {
      const req = call.request;
      await caller(call, 'ListApprovals', req.tenant);
      const { approvals, next } = await d.approvals.list(req.tenant, req.status, req.pageSize, req.pageToken);
      return { approvals, nextPageToken: next };
    }, opts),
  };
}

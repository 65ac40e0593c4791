// Errors as typed classes. Every failed call is an AuthorityApiError (or a subclass chosen by its
// gRPC status) carrying the status code, the server's stable reason code (trailing metadata
// `authority-reason`), the field at fault (`authority-field`) and the message. A tool that was not
// allowed to run throws AuthorityDeniedError (or ApprovalRequiredError) instead.
import * as grpc from '@grpc/grpc-js';
import { METADATA_KEYS } from '@authority/core';
import type { ReasonCode__Output } from '@authority/proto';

/** Trailing-metadata keys the services set on every error status (core's METADATA_KEYS: wire contract). */
export const REASON_METADATA_KEY = METADATA_KEYS.reason;
export const FIELD_METADATA_KEY = METADATA_KEYS.field;
/** On INTERNAL errors: the id under which the server logged the details (quote it to operators). */
export const ERROR_ID_METADATA_KEY = METADATA_KEYS.errorId;
/** On an invalid policy (PolicyService): JSON array of ValidationIssue. */
export const ISSUES_METADATA_KEY = METADATA_KEYS.issues;

/** A gRPC status code, by number (`grpc.status`). */
export type StatusCode = grpc.status;
export const Status = grpc.status;

/** The name of a status code, e.g. `PERMISSION_DENIED`. */
export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? `STATUS_${code}`;
}

export interface AuthorityApiErrorInit {
  code: grpc.status;
  message: string;
  /** `authority-reason`: a stable constant (a ReasonCode name or a platform reason such as `UNAVAILABLE`). */
  reason?: string | undefined;
  /** `authority-field`: the request or token field at fault. */
  field?: string | undefined;
  errorId?: string | undefined;
  /** The trailing metadata as received (e.g. for `authority-issues-json`). */
  metadata?: grpc.Metadata | undefined;
  /** The RPC, e.g. `authority.v1.IssuerService/Mint`. */
  method?: string | undefined;
  /** The address that answered (or failed to). */
  address?: string | undefined;
  cause?: unknown;
}

/** A failed call to an Authority service. Switch on `code` or on `reason`, never on the message. */
export class AuthorityApiError extends Error {
  override name = 'AuthorityApiError';
  readonly code: grpc.status;
  readonly reason: string | undefined;
  readonly field: string | undefined;
  readonly errorId: string | undefined;
  readonly metadata: grpc.Metadata | undefined;
  readonly method: string | undefined;
  readonly address: string | undefined;

  constructor(init: AuthorityApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
    this.field = init.field;
    this.errorId = init.errorId;
    this.metadata = init.metadata;
    this.method = init.method;
    this.address = init.address;
  }

  /** The status code's name, e.g. `PERMISSION_DENIED`. */
  get codeName(): string {
    return statusName(this.code);
  }

  /** A plain object for logs and `--json` output (no metadata, no stack). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { error: this.name, code: this.codeName, message: this.message };
    if (this.reason !== undefined) out.reason = this.reason;
    if (this.field !== undefined) out.field = this.field;
    if (this.errorId !== undefined) out.errorId = this.errorId;
    if (this.method !== undefined) out.method = this.method;
    if (this.address !== undefined) out.address = this.address;
    return out;
  }
}

export class InvalidArgumentError extends AuthorityApiError {
  override name = 'InvalidArgumentError';
}
export class UnauthenticatedError extends AuthorityApiError {
  override name = 'UnauthenticatedError';
}
export class PermissionDeniedError extends AuthorityApiError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends AuthorityApiError {
  override name = 'NotFoundError';
}
export class AlreadyExistsError extends AuthorityApiError {
  override name = 'AlreadyExistsError';
}
/** FAILED_PRECONDITION: e.g. an action that needs an approval first. */
export class FailedPreconditionError extends AuthorityApiError {
  override name = 'FailedPreconditionError';
}
/** ABORTED: a concurrency conflict (e.g. a policy version changed); re-read and retry. */
export class AbortedError extends AuthorityApiError {
  override name = 'AbortedError';
}
/** UNAVAILABLE: the server (or the connection) cannot serve now; safe calls were already retried. */
export class UnavailableError extends AuthorityApiError {
  override name = 'UnavailableError';
}
export class DeadlineExceededError extends AuthorityApiError {
  override name = 'DeadlineExceededError';
}
export class ResourceExhaustedError extends AuthorityApiError {
  override name = 'ResourceExhaustedError';
}
export class InternalError extends AuthorityApiError {
  override name = 'InternalError';
}
/** The call was cancelled by the caller (AbortSignal). */
export class CancelledError extends AuthorityApiError {
  override name = 'CancelledError';
}

const CLASS_BY_STATUS: Partial<Record<grpc.status, new (init: AuthorityApiErrorInit) => AuthorityApiError>> = {
  [grpc.status.INVALID_ARGUMENT]: InvalidArgumentError,
  [grpc.status.OUT_OF_RANGE]: InvalidArgumentError,
  [grpc.status.UNAUTHENTICATED]: UnauthenticatedError,
  [grpc.status.PERMISSION_DENIED]: PermissionDeniedError,
  [grpc.status.NOT_FOUND]: NotFoundError,
  [grpc.status.ALREADY_EXISTS]: AlreadyExistsError,
  [grpc.status.FAILED_PRECONDITION]: FailedPreconditionError,
  [grpc.status.ABORTED]: AbortedError,
  [grpc.status.UNAVAILABLE]: UnavailableError,
  [grpc.status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [grpc.status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [grpc.status.INTERNAL]: InternalError,
  [grpc.status.DATA_LOSS]: InternalError,
  [grpc.status.UNKNOWN]: InternalError,
  [grpc.status.UNIMPLEMENTED]: InternalError,
  [grpc.status.CANCELLED]: CancelledError,
};

/** Builds the error subclass for a status code. */
export function apiError(init: AuthorityApiErrorInit): AuthorityApiError {
  const Cls = CLASS_BY_STATUS[init.code] ?? AuthorityApiError;
  return new Cls(init);
}

function firstString(md: grpc.Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v : v.toString('utf8');
  return s === '' ? undefined : s;
}

/**
 * Maps anything a grpc-js call rejected with (a ServiceError with code, details and trailing
 * metadata) to the typed error. Already-mapped errors pass through.
 */
export function fromServiceError(err: unknown, where: { method?: string; address?: string } = {}): AuthorityApiError {
  if (err instanceof AuthorityApiError) return err;
  const e = err as Partial<grpc.ServiceError> | undefined;
  const code = typeof e?.code === 'number' ? e.code : grpc.status.UNKNOWN;
  const md = e?.metadata instanceof grpc.Metadata ? e.metadata : undefined;
  const message =
    typeof e?.details === 'string' && e.details !== '' ? e.details : err instanceof Error ? err.message : String(err);
  return apiError({
    code,
    message,
    reason: firstString(md, REASON_METADATA_KEY),
    field: firstString(md, FIELD_METADATA_KEY),
    errorId: firstString(md, ERROR_ID_METADATA_KEY),
    metadata: md,
    method: where.method,
    address: where.address,
    cause: err,
  });
}

/** Reasons a tool can be denied for: a decision's reason code, or why no decision was obtained. */
export type DenyReason =
  | Exclude<ReasonCode__Output, 'ALLOWED'>
  /** The enforcer could not be reached (every address failed) or answered UNAVAILABLE. */
  | 'UNAVAILABLE'
  /** No answer within the deadline. */
  | 'DEADLINE_EXCEEDED'
  /** The enforcer refused the call's credential. */
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  /** The answer was not a well-formed ALLOW (unparseable, unknown decision, ALLOW without ALLOWED). */
  | 'MALFORMED_RESPONSE'
  /** Building the request failed (the resource function threw, no token...). */
  | 'INVALID_REQUEST'
  /** Any other failure: the tool does not run. */
  | 'CHECK_FAILED';

/**
 * One constraint the call violated (CheckResponse.violations): the enforcer lists every one, so a
 * caller can fix its request in one retry. The denial's `reason` is the first one's.
 */
export interface ConstraintViolation {
  /** Reason code of this violation, e.g. `RECORD_COUNT_REQUIRED`, `PURPOSE_REQUIRED`. */
  reason: ReasonCode__Output;
  /** Wire name of the constraint, e.g. `max_records_per_request`. */
  constraint: string;
  /** The request field to fix: `resource`, `context.purpose` or `context.record_count`. */
  field: string;
  message: string;
  /** `envelope`, or `policy:<agent id>` for that agent's entry in the tenant policy. */
  source: string;
}

export interface DeniedInit {
  reason: DenyReason;
  message: string;
  /** Every violated constraint (denials for constraints only). */
  violations?: readonly ConstraintViolation[] | undefined;
  decisionId?: string | undefined;
  field?: string | undefined;
  scope?: string | undefined;
  resource?: string | undefined;
  agentId?: string | undefined;
  policyVersion?: string | undefined;
  cause?: unknown;
}

/**
 * The enforcer did not allow the call, so the tool did NOT run. `reason` is the stable reason code
 * of the decision, or why no decision was obtained (UNAVAILABLE, DEADLINE_EXCEEDED, ...).
 */
export class AuthorityDeniedError extends Error {
  override name = 'AuthorityDeniedError';
  readonly reason: DenyReason;
  readonly decisionId: string | undefined;
  readonly field: string | undefined;
  readonly scope: string | undefined;
  readonly resource: string | undefined;
  readonly agentId: string | undefined;
  readonly policyVersion: string | undefined;
  /**
   * Every constraint the call violated, first the one `reason` names (empty for denials of any
   * other kind: scope, signature, policy, ...).
   */
  readonly violations: readonly ConstraintViolation[];

  constructor(init: DeniedInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.reason = init.reason;
    this.violations = init.violations ?? [];
    this.decisionId = init.decisionId;
    this.field = init.field;
    this.scope = init.scope;
    this.resource = init.resource;
    this.agentId = init.agentId;
    this.policyVersion = init.policyVersion;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { error: this.name, reason: this.reason, message: this.message };
    for (const k of ['decisionId', 'field', 'scope', 'resource', 'agentId', 'policyVersion'] as const) {
      if (this[k] !== undefined && this[k] !== '') out[k] = this[k];
    }
    if (this.violations.length > 0) out.violations = this.violations.map((v) => ({ ...v }));
    return out;
  }
}

/**
 * The call needs a human approval first. Present `approvalRequestId` once it is approved (see
 * `withApproval` on an enforced tool, or `runWithApproval`).
 */
export class ApprovalRequiredError extends AuthorityDeniedError {
  override name = 'ApprovalRequiredError';
  readonly approvalRequestId: string;

  constructor(init: Omit<DeniedInit, 'reason'> & { approvalRequestId: string }) {
    super({ ...init, reason: 'APPROVAL_REQUIRED' });
    this.approvalRequestId = init.approvalRequestId;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), approvalRequestId: this.approvalRequestId };
  }
}

/**
 * The enforcer wants proof that the caller holds the leaf's holder key (PROOF_REQUIRED): the token
 * is not sealed (`field` is `seal`), or the envelope or the tenant policy says `pop: required`
 * (`field` is `proof`) and no per-request proof was sent. Seal the token with its holder key, or
 * give `holderKey` (with `proof: 'always'` for a tenant-wide `pop: required`).
 */
export class ProofRequiredError extends AuthorityDeniedError {
  override name = 'ProofRequiredError';
  constructor(init: Omit<DeniedInit, 'reason'>) {
    super({ ...init, reason: 'PROOF_REQUIRED' });
  }
}

/**
 * The seal or the per-request proof was refused: it does not verify with the leaf's holder key, is
 * for another token or request, is stale (INVALID_PROOF), or its nonce was already used
 * (PROOF_REPLAYED). A truncated or spliced token ends up here.
 */
export class InvalidProofError extends AuthorityDeniedError {
  override name = 'InvalidProofError';
  constructor(init: DeniedInit & { reason: 'INVALID_PROOF' | 'PROOF_REPLAYED' }) {
    super(init);
  }
}

/** An approval was rejected or expired while waiting for it. */
export class ApprovalNotGrantedError extends Error {
  override name = 'ApprovalNotGrantedError';
  constructor(
    readonly approvalId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

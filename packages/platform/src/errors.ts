// THE one place that maps errors to gRPC statuses (server side) and back (client side).
import { AuthorityError, METADATA_KEYS, randomId, type Reason } from '@authority/core';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from './logger';

/** Reason codes the platform adds to the domain's `Reason` for errors outside the domain. */
export type PlatformReason =
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

/**
 * A stable reason code: a domain `Reason`, a `PlatformReason`, or a service's own
 * SCREAMING_SNAKE constant (e.g. `KEY_NOT_FOUND`). Clients switch on it, so never change one.
 */
export type ErrorReason = Reason | PlatformReason | (string & {});

/** Metadata keys carried on every error status (core's METADATA_KEYS: the wire contract). */
export const REASON_METADATA_KEY = METADATA_KEYS.reason;
export const FIELD_METADATA_KEY = METADATA_KEYS.field;
/** On INTERNAL errors: the id under which the details were logged. */
export const ERROR_ID_METADATA_KEY = METADATA_KEYS.errorId;

/**
 * gRPC status for each domain reason. Rationale, row by row:
 * - INVALID_ARGUMENT: the request or the presented envelope is malformed or internally
 *   inconsistent whatever the server state (unparseable token, bad request field, a delegation
 *   chain that widens its parent, a malformed approval). Retrying the same call cannot succeed.
 * - UNAUTHENTICATED: the envelope is well-formed but cannot be accepted as a credential:
 *   its signature fails, its key is unknown, it is expired, not yet valid or revoked, or the
 *   presenter did not prove possession of its holder key (no seal, bad or replayed proof).
 * - PERMISSION_DENIED: the credential is good but does not allow this (scope, resource,
 *   policy, tenant, audience, purpose, record limits (exceeded, or a count the limit needs and the
 *   request does not state: like a missing purpose, the constraint refuses this request), context,
 *   approval that does not cover it).
 * - FAILED_PRECONDITION: APPROVAL_REQUIRED: the call can succeed once an approval exists.
 * - UNAVAILABLE: the server cannot decide safely right now (stale revocation/key state, audit
 *   log unreachable); retry with backoff. The enforcer fails closed on these.
 * - INTERNAL: ALLOWED is never an error; raising it is a bug.
 */
export const REASON_TO_GRPC_STATUS: Readonly<Record<Reason, grpc.status>> = {
  INVALID_REQUEST: grpc.status.INVALID_ARGUMENT,
  INVALID_TOKEN: grpc.status.INVALID_ARGUMENT,
  CHAIN_VIOLATION: grpc.status.INVALID_ARGUMENT,
  APPROVAL_INVALID: grpc.status.INVALID_ARGUMENT,
  INVALID_SIGNATURE: grpc.status.UNAUTHENTICATED,
  UNKNOWN_KEY: grpc.status.UNAUTHENTICATED,
  EXPIRED: grpc.status.UNAUTHENTICATED,
  NOT_YET_VALID: grpc.status.UNAUTHENTICATED,
  REVOKED: grpc.status.UNAUTHENTICATED,
  PROOF_REQUIRED: grpc.status.UNAUTHENTICATED,
  INVALID_PROOF: grpc.status.UNAUTHENTICATED,
  PROOF_REPLAYED: grpc.status.UNAUTHENTICATED,
  SCOPE_MISSING: grpc.status.PERMISSION_DENIED,
  RESOURCE_NOT_ALLOWED: grpc.status.PERMISSION_DENIED,
  DENIED_RESOURCE: grpc.status.PERMISSION_DENIED,
  PURPOSE_REQUIRED: grpc.status.PERMISSION_DENIED,
  MAX_RECORDS_EXCEEDED: grpc.status.PERMISSION_DENIED,
  RECORD_COUNT_REQUIRED: grpc.status.PERMISSION_DENIED,
  POLICY_DENIED: grpc.status.PERMISSION_DENIED,
  TENANT_MISMATCH: grpc.status.PERMISSION_DENIED,
  CONTEXT_NOT_ALLOWED: grpc.status.PERMISSION_DENIED,
  AUDIENCE_MISMATCH: grpc.status.PERMISSION_DENIED,
  APPROVAL_REQUIRED: grpc.status.FAILED_PRECONDITION,
  STALE_STATE: grpc.status.UNAVAILABLE,
  AUDIT_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ALLOWED: grpc.status.INTERNAL,
};

/** Base of the platform's error classes: a gRPC code, a stable reason, optionally a field. */
export abstract class PlatformError extends Error {
  abstract readonly code: grpc.status;
  constructor(
    message: string,
    readonly reason: ErrorReason,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class UnauthenticatedError extends PlatformError {
  override readonly name = 'UnauthenticatedError';
  readonly code = grpc.status.UNAUTHENTICATED;
  constructor(message = 'missing or invalid credentials', reason: ErrorReason = 'UNAUTHENTICATED') {
    super(message, reason);
  }
}

export class PermissionDeniedError extends PlatformError {
  override readonly name = 'PermissionDeniedError';
  readonly code = grpc.status.PERMISSION_DENIED;
  constructor(message: string, reason: ErrorReason = 'PERMISSION_DENIED', field?: string) {
    super(message, reason, field);
  }
}

export class NotFoundError extends PlatformError {
  override readonly name = 'NotFoundError';
  readonly code = grpc.status.NOT_FOUND;
  constructor(message: string, field?: string, reason: ErrorReason = 'NOT_FOUND') {
    super(message, reason, field);
  }
}

export class AlreadyExistsError extends PlatformError {
  override readonly name = 'AlreadyExistsError';
  readonly code = grpc.status.ALREADY_EXISTS;
  constructor(message: string, field?: string, reason: ErrorReason = 'ALREADY_EXISTS') {
    super(message, reason, field);
  }
}

export class FailedPreconditionError extends PlatformError {
  override readonly name = 'FailedPreconditionError';
  readonly code = grpc.status.FAILED_PRECONDITION;
  constructor(message: string, reason: ErrorReason = 'FAILED_PRECONDITION', field?: string) {
    super(message, reason, field);
  }
}

/** Concurrency conflict (e.g. a policy version changed underneath): retry the read-modify-write. */
export class AbortedError extends PlatformError {
  override readonly name = 'AbortedError';
  readonly code = grpc.status.ABORTED;
  constructor(message: string, reason: ErrorReason = 'ABORTED') {
    super(message, reason);
  }
}

export class UnavailableError extends PlatformError {
  override readonly name = 'UnavailableError';
  readonly code = grpc.status.UNAVAILABLE;
  constructor(message: string, reason: ErrorReason = 'UNAVAILABLE') {
    super(message, reason);
  }
}

/** A request field is wrong; the status message names it (`tenant: required`). */
export class InvalidArgumentError extends PlatformError {
  override readonly name = 'InvalidArgumentError';
  readonly code = grpc.status.INVALID_ARGUMENT;
  constructor(field: string, message: string, reason: ErrorReason = 'INVALID_REQUEST') {
    super(message, reason, field);
  }
}

/** Names of dependency failures (driver errors) that mean "try again later", not "bug". */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
]);

/** "field: message", unless the message already names the field (no double prefixes). */
function messageNamingField(message: string, field: string | undefined): string {
  if (!field || message.includes(field)) return message;
  return `${field}: ${message}`;
}

function statusFor(code: grpc.status, message: string, reason: string, field?: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set(REASON_METADATA_KEY, reason);
  if (field) metadata.set(FIELD_METADATA_KEY, field);
  return { code, details: messageNamingField(message, field), metadata };
}

function isGrpcServiceError(err: unknown): err is grpc.ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<grpc.ServiceError>).code === 'number' &&
    (err as Partial<grpc.ServiceError>).metadata instanceof grpc.Metadata
  );
}

/** A zod validation error (services validating requests with zod), by shape, not by import. */
function zodIssues(err: unknown): { path: PropertyKey[]; message: string }[] | undefined {
  if (!(err instanceof Error) || err.name !== 'ZodError') return undefined;
  const issues = (err as unknown as { issues?: unknown }).issues;
  return Array.isArray(issues) ? (issues as { path: PropertyKey[]; message: string }[]) : undefined;
}

/**
 * Maps any thrown value to a gRPC status with `authority-reason` (and `authority-field`) metadata.
 * Unknown errors become INTERNAL with a generic message and an `authority-error-id`; the caller
 * logs the details under that id (wrapUnary does), they are never sent to the client.
 */
export function toGrpcError(err: unknown, errorId?: string): Partial<grpc.StatusObject> {
  if (err instanceof AuthorityError) {
    const code = REASON_TO_GRPC_STATUS[err.reason] ?? grpc.status.INTERNAL;
    if (code === grpc.status.INTERNAL) return internalStatus(errorId);
    return statusFor(code, err.message, err.reason, err.field);
  }
  if (err instanceof PlatformError) {
    return statusFor(err.code, err.message, err.reason, err.field);
  }
  const issues = zodIssues(err);
  if (issues && issues.length > 0) {
    const first = issues[0]!;
    const field = first.path.map(String).join('.') || undefined;
    return statusFor(grpc.status.INVALID_ARGUMENT, first.message, 'INVALID_REQUEST', field);
  }
  if (err instanceof Error && UNAVAILABLE_ERROR_NAMES.has(err.name)) {
    return statusFor(grpc.status.UNAVAILABLE, 'a dependency is unavailable, retry later', 'UNAVAILABLE');
  }
  if (isGrpcServiceError(err) && (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)) {
    return statusFor(grpc.status.UNAVAILABLE, 'an upstream service is unavailable, retry later', 'UNAVAILABLE');
  }
  return internalStatus(errorId);
}

function internalStatus(givenId: string | undefined): Partial<grpc.StatusObject> {
  const errorId = givenId ?? randomId(8);
  const status = statusFor(grpc.status.INTERNAL, `internal error (ref ${errorId})`, 'INTERNAL');
  status.metadata!.set(ERROR_ID_METADATA_KEY, errorId);
  return status;
}

/** Logs an error mapped to `status` at a level fitting its cause. */
export function logMappedError(
  logger: Logger,
  err: unknown,
  status: Partial<grpc.StatusObject>,
  fields: Record<string, unknown> = {},
): void {
  const reason = status.metadata?.get(REASON_METADATA_KEY)[0];
  const base = { ...fields, grpc_code: grpc.status[status.code ?? grpc.status.UNKNOWN], reason };
  if (status.code === grpc.status.INTERNAL) {
    const errorId = status.metadata?.get(ERROR_ID_METADATA_KEY)[0];
    logger.error({ ...base, err, error_id: errorId }, 'unexpected error in handler');
  } else if (status.code === grpc.status.UNAVAILABLE) {
    logger.warn(
      { ...base, err_message: err instanceof Error ? err.message : String(err) },
      status.details ?? 'unavailable',
    );
  } else {
    logger.debug({ ...base, details: status.details }, 'request rejected');
  }
}

// ---------------------------------------------------------------------------------------------
// Client side.

/** A failed gRPC call as the SDK, CLI and tests see it. */
export class AuthorityClientError extends Error {
  override readonly name = 'AuthorityClientError';
  constructor(
    readonly code: grpc.status,
    /** The `authority-reason` metadata (a stable constant), when the server sent one. */
    readonly reason: string | undefined,
    /** The `authority-field` metadata, when a field was at fault. */
    readonly field: string | undefined,
    message: string,
    /** The error id of an INTERNAL error, to quote to operators. */
    readonly errorId?: string,
  ) {
    super(message);
  }
  /** The status code's name, e.g. `PERMISSION_DENIED`. */
  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }
}

function firstString(md: grpc.Metadata | undefined, key: string): string | undefined {
  const v = md?.get(key)[0];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

/** Turns a client-side grpc ServiceError (or anything thrown by a call) into AuthorityClientError. */
export function fromGrpcError(err: unknown): AuthorityClientError {
  if (err instanceof AuthorityClientError) return err;
  const e = err as Partial<grpc.ServiceError> | undefined;
  const code = typeof e?.code === 'number' ? e.code : grpc.status.UNKNOWN;
  const md = e?.metadata instanceof grpc.Metadata ? e.metadata : undefined;
  const message =
    typeof e?.details === 'string' && e.details !== '' ? e.details : err instanceof Error ? err.message : String(err);
  return new AuthorityClientError(
    code,
    firstString(md, REASON_METADATA_KEY),
    firstString(md, FIELD_METADATA_KEY),
    message,
    firstString(md, ERROR_ID_METADATA_KEY),
  );
}

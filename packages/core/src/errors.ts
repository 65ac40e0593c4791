import type { ReasonCode__Output } from '@authority/proto';

/** A stable reason code from proto/authority/v1 (never the unspecified zero value). */
export type Reason = Exclude<ReasonCode__Output, 'REASON_CODE_UNSPECIFIED'>;

/**
 * The one error type of the domain: a stable reason code, a human message, and (when a
 * request or token field is at fault) the field's path. Services map it to a gRPC status
 * in one place (platform's error mapper); the core never knows about gRPC.
 */
export class AuthorityError extends Error {
  override readonly name = 'AuthorityError';
  constructor(
    readonly reason: Reason,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Throws an AuthorityError; handy in expressions. */
export function fail(reason: Reason, message: string, field?: string): never {
  throw new AuthorityError(reason, message, field);
}

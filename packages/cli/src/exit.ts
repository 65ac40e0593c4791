// Exit codes (documented in docs/cli.md and `authority --help`) and the error type commands throw.
import { AuthorityApiError, AuthorityDeniedError, Status } from '@authority/sdk';
import { AuthorityError } from '@authority/core';

export const ExitCode = {
  /** Success (for `envelope check`: ALLOW; for `audit verify`: the chain is intact). */
  OK: 0,
  /** Any other failure (server rejected the request, file not found, ...). */
  FAILURE: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /**
   * Refused by the policy or the envelope rules: `envelope check` got a DENY, or the issuer refused
   * a mint/delegate (POLICY_DENIED, CHAIN_VIOLATION, a revoked or expired parent, ...).
   */
  DENIED: 3,
  /** Verification failed: broken audit chain, invalid policy, token that does not parse. */
  VERIFICATION_FAILED: 4,
  /** A service could not be reached, or answered UNAVAILABLE / timed out. */
  UNAVAILABLE: 5,
  /** The API credential was refused (UNAUTHENTICATED), belongs to another tenant, or may not do this. */
  AUTH: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error with a chosen exit code and optional structured details for --json. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.FAILURE,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A usage error (exit 2). */
export function usage(message: string): CliError {
  return new CliError(message, ExitCode.USAGE, { kind: 'usage' });
}

/**
 * Reasons with which a server refuses a request by the policy or the envelope rules (a decision,
 * like the enforcer's DENY), as opposed to refusing the caller's API credential. Their gRPC status
 * is UNAUTHENTICATED or PERMISSION_DENIED too (a revoked parent, POLICY_DENIED) or INVALID_ARGUMENT
 * (CHAIN_VIOLATION), so the reason, not the status, tells them apart.
 */
const REFUSAL_REASONS: ReadonlySet<string> = new Set([
  'POLICY_DENIED',
  'CHAIN_VIOLATION',
  'SCOPE_MISSING',
  'RESOURCE_NOT_ALLOWED',
  'DENIED_RESOURCE',
  'PURPOSE_REQUIRED',
  'MAX_RECORDS_EXCEEDED',
  'RECORD_COUNT_REQUIRED',
  'CONTEXT_NOT_ALLOWED',
  'AUDIENCE_MISMATCH',
  'APPROVAL_REQUIRED',
  'APPROVAL_INVALID',
  'REVOKED',
  'EXPIRED',
  'NOT_YET_VALID',
  'INVALID_SIGNATURE',
  'UNKNOWN_KEY',
  'PROOF_REQUIRED',
  'INVALID_PROOF',
  'PROOF_REPLAYED',
]);

/** Whether a reason code is a refusal by the policy or the envelope rules (exit 3). */
export function isRefusalReason(reason: string | undefined): boolean {
  return reason !== undefined && REFUSAL_REASONS.has(reason);
}

/** Whether a server error is a refusal by the policy or envelope rules (exit 3), not of the credential. */
export function isRefusal(err: unknown): boolean {
  return err instanceof AuthorityApiError && isRefusalReason(err.reason);
}

/** The exit code for any error a command may throw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof AuthorityDeniedError) return ExitCode.DENIED;
  if (isRefusal(err)) return ExitCode.DENIED;
  if (err instanceof AuthorityApiError) {
    switch (err.code) {
      case Status.UNAVAILABLE:
      case Status.DEADLINE_EXCEEDED:
        return ExitCode.UNAVAILABLE;
      case Status.UNAUTHENTICATED:
      case Status.PERMISSION_DENIED:
        return ExitCode.AUTH;
      default:
        return ExitCode.FAILURE;
    }
  }
  if (err instanceof AuthorityError)
    return err.reason === 'INVALID_TOKEN' ? ExitCode.VERIFICATION_FAILED : ExitCode.FAILURE;
  return ExitCode.FAILURE;
}

/** A JSON-able description of an error (the `error` member of `--json` error output). */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof AuthorityApiError || err instanceof AuthorityDeniedError) return err.toJSON();
  if (err instanceof CliError)
    return { error: err.details.kind === 'usage' ? 'UsageError' : 'CliError', message: err.message, ...err.details };
  if (err instanceof AuthorityError) {
    return {
      error: 'AuthorityError',
      reason: err.reason,
      message: err.message,
      ...(err.field ? { field: err.field } : {}),
    };
  }
  if (err instanceof Error) return { error: err.name, message: err.message };
  return { error: 'Error', message: String(err) };
}

/** A one-line human description of an error. */
export function humanError(err: unknown): string {
  if (err instanceof AuthorityApiError) {
    const hint =
      err.code === Status.UNAVAILABLE
        ? ' (is the service running and the address right? see `authority doctor`)'
        : err.code === Status.UNAUTHENTICATED && !isRefusal(err)
          ? ' (check AUTHORITY_API_KEY / --api-key-file)'
          : '';
    const where = err.address ? ` [${err.address}]` : '';
    return `${err.codeName}${err.reason && err.reason !== err.codeName ? ` ${err.reason}` : ''}: ${err.message}${where}${hint}`;
  }
  if (err instanceof AuthorityDeniedError) return `DENY ${err.reason}: ${err.message}`;
  if (err instanceof AuthorityError) return `${err.reason}${err.field ? ` (${err.field})` : ''}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

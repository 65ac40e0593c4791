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
  /** `envelope check` (and enforced calls): the enforcer answered DENY. */
  DENIED: 3,
  /** Verification failed: broken audit chain, invalid policy, token that does not parse. */
  VERIFICATION_FAILED: 4,
  /** A service could not be reached, or answered UNAVAILABLE / timed out. */
  UNAVAILABLE: 5,
  /** The credential was refused (UNAUTHENTICATED) or may not do this (PERMISSION_DENIED). */
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

/** The exit code for any error a command may throw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof AuthorityDeniedError) return ExitCode.DENIED;
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
        : err.code === Status.UNAUTHENTICATED
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

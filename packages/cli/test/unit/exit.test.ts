// Exit codes tell a refusal by the policy or the envelope rules (3) from a refused API credential
// (6): a mint refused by POLICY_DENIED is PERMISSION_DENIED on the wire, like a credential of the
// wrong kind, and a delegation refused by CHAIN_VIOLATION is INVALID_ARGUMENT, like a typo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthorityApiError, Status } from '@authority/sdk';
import { ExitCode, exitCodeFor } from '../../src';
import { humanError } from '../../src/exit';

const apiError = (code: number, reason: string) => new AuthorityApiError({ code, reason, message: 'x' });

test('refusals by the policy or the envelope rules exit 3, whatever their gRPC status', () => {
  assert.equal(exitCodeFor(apiError(Status.PERMISSION_DENIED, 'POLICY_DENIED')), ExitCode.DENIED);
  assert.equal(exitCodeFor(apiError(Status.INVALID_ARGUMENT, 'CHAIN_VIOLATION')), ExitCode.DENIED);
  assert.equal(exitCodeFor(apiError(Status.UNAUTHENTICATED, 'REVOKED')), ExitCode.DENIED);
  assert.equal(exitCodeFor(apiError(Status.UNAUTHENTICATED, 'EXPIRED')), ExitCode.DENIED);
});

test('a refused API credential exits 6', () => {
  assert.equal(exitCodeFor(apiError(Status.UNAUTHENTICATED, 'UNAUTHENTICATED')), ExitCode.AUTH);
  assert.equal(exitCodeFor(apiError(Status.PERMISSION_DENIED, 'PERMISSION_DENIED')), ExitCode.AUTH);
  assert.equal(exitCodeFor(apiError(Status.PERMISSION_DENIED, 'TENANT_MISMATCH')), ExitCode.AUTH);
});

test('a malformed request stays a failure (1)', () => {
  assert.equal(exitCodeFor(apiError(Status.INVALID_ARGUMENT, 'INVALID_REQUEST')), ExitCode.FAILURE);
});

test('a revoked parent is not blamed on the API key', () => {
  assert.doesNotMatch(humanError(apiError(Status.UNAUTHENTICATED, 'REVOKED')), /AUTHORITY_API_KEY/);
  assert.match(humanError(apiError(Status.UNAUTHENTICATED, 'UNAUTHENTICATED')), /AUTHORITY_API_KEY/);
});

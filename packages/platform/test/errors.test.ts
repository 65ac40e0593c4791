import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorityError, type Reason } from '@authority/core';
import { ReasonCode } from '@authority/proto';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import {
  AbortedError,
  AlreadyExistsError,
  AuthorityClientError,
  ERROR_ID_METADATA_KEY,
  FailedPreconditionError,
  FIELD_METADATA_KEY,
  fromGrpcError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  REASON_METADATA_KEY,
  REASON_TO_GRPC_STATUS,
  toGrpcError,
  UnauthenticatedError,
  UnavailableError,
} from '../src';

const md = (s: Partial<grpc.StatusObject>, key: string) => s.metadata!.get(key)[0];

/** The documented table (errors.ts comment); a change here is a change of public API. */
const EXPECTED: Record<Reason, keyof typeof grpc.status> = {
  INVALID_REQUEST: 'INVALID_ARGUMENT',
  INVALID_TOKEN: 'INVALID_ARGUMENT',
  CHAIN_VIOLATION: 'INVALID_ARGUMENT',
  APPROVAL_INVALID: 'INVALID_ARGUMENT',
  INVALID_SIGNATURE: 'UNAUTHENTICATED',
  UNKNOWN_KEY: 'UNAUTHENTICATED',
  EXPIRED: 'UNAUTHENTICATED',
  NOT_YET_VALID: 'UNAUTHENTICATED',
  REVOKED: 'UNAUTHENTICATED',
  PROOF_REQUIRED: 'UNAUTHENTICATED',
  INVALID_PROOF: 'UNAUTHENTICATED',
  PROOF_REPLAYED: 'UNAUTHENTICATED',
  SCOPE_MISSING: 'PERMISSION_DENIED',
  RESOURCE_NOT_ALLOWED: 'PERMISSION_DENIED',
  DENIED_RESOURCE: 'PERMISSION_DENIED',
  PURPOSE_REQUIRED: 'PERMISSION_DENIED',
  MAX_RECORDS_EXCEEDED: 'PERMISSION_DENIED',
  RECORD_COUNT_REQUIRED: 'PERMISSION_DENIED',
  POLICY_DENIED: 'PERMISSION_DENIED',
  TENANT_MISMATCH: 'PERMISSION_DENIED',
  CONTEXT_NOT_ALLOWED: 'PERMISSION_DENIED',
  AUDIENCE_MISMATCH: 'PERMISSION_DENIED',
  APPROVAL_REQUIRED: 'FAILED_PRECONDITION',
  STALE_STATE: 'UNAVAILABLE',
  AUDIT_UNAVAILABLE: 'UNAVAILABLE',
  ALLOWED: 'INTERNAL',
};

describe('toGrpcError: AuthorityError', () => {
  it('maps every proto ReasonCode to its documented status code', () => {
    const reasons = Object.keys(ReasonCode).filter((r) => r !== 'REASON_CODE_UNSPECIFIED') as Reason[];
    assert.ok(reasons.length >= 22);
    for (const reason of reasons) {
      assert.ok(reason in REASON_TO_GRPC_STATUS, `${reason} is in the table`);
      const status = toGrpcError(new AuthorityError(reason, 'something is wrong'));
      assert.equal(grpc.status[status.code!], EXPECTED[reason], reason);
      if (reason !== 'ALLOWED') assert.equal(md(status, REASON_METADATA_KEY), reason);
    }
  });

  it('names the field in the message and metadata, without double prefixes', () => {
    const s = toGrpcError(new AuthorityError('INVALID_REQUEST', 'must not be empty', 'resource'));
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(s.details, 'resource: must not be empty');
    assert.equal(md(s, FIELD_METADATA_KEY), 'resource');
    const already = toGrpcError(
      new AuthorityError('INVALID_TOKEN', 'envelope.exp is before envelope.iat', 'envelope.exp'),
    );
    assert.equal(already.details, 'envelope.exp is before envelope.iat');
  });
});

describe('toGrpcError: platform errors', () => {
  const cases: [Error, keyof typeof grpc.status, string, string | undefined][] = [
    [new UnauthenticatedError(), 'UNAUTHENTICATED', 'UNAUTHENTICATED', undefined],
    [new PermissionDeniedError('nope', 'TENANT_MISMATCH', 'tenant'), 'PERMISSION_DENIED', 'TENANT_MISMATCH', 'tenant'],
    [
      new NotFoundError('policy p1 not found', 'policy_id', 'POLICY_NOT_FOUND'),
      'NOT_FOUND',
      'POLICY_NOT_FOUND',
      'policy_id',
    ],
    [new AlreadyExistsError('exists', 'key_id'), 'ALREADY_EXISTS', 'ALREADY_EXISTS', 'key_id'],
    [new FailedPreconditionError('no active key'), 'FAILED_PRECONDITION', 'FAILED_PRECONDITION', undefined],
    [new AbortedError('version changed'), 'ABORTED', 'ABORTED', undefined],
    [new UnavailableError('catching up', 'STALE_STATE'), 'UNAVAILABLE', 'STALE_STATE', undefined],
    [new InvalidArgumentError('ttl_seconds', 'must be positive'), 'INVALID_ARGUMENT', 'INVALID_REQUEST', 'ttl_seconds'],
  ];
  for (const [err, code, reason, field] of cases) {
    it(`${err.name} → ${code}`, () => {
      const s = toGrpcError(err);
      assert.equal(grpc.status[s.code!], code);
      assert.equal(md(s, REASON_METADATA_KEY), reason);
      assert.equal(md(s, FIELD_METADATA_KEY), field);
      if (field) assert.ok(s.details!.includes(field));
    });
  }

  it('maps a zod error to INVALID_ARGUMENT naming the path', () => {
    const parsed = z.object({ tenant: z.string().min(1) }).safeParse({ tenant: '' });
    assert.ok(!parsed.success);
    const s = toGrpcError(parsed.error);
    assert.equal(s.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(md(s, FIELD_METADATA_KEY), 'tenant');
  });

  it('maps dependency outages to UNAVAILABLE', () => {
    const e = new Error('connection refused');
    e.name = 'MongoServerSelectionError';
    assert.equal(toGrpcError(e).code, grpc.status.UNAVAILABLE);
  });

  it('hides unknown errors behind INTERNAL with an error id', () => {
    const s = toGrpcError(new TypeError('secret internals: cannot read x of undefined'), 'ref123');
    assert.equal(s.code, grpc.status.INTERNAL);
    assert.equal(s.details, 'internal error (ref ref123)');
    assert.doesNotMatch(s.details!, /secret internals/);
    assert.equal(md(s, ERROR_ID_METADATA_KEY), 'ref123');
    assert.equal(md(s, REASON_METADATA_KEY), 'INTERNAL');
    assert.equal(toGrpcError('a string').code, grpc.status.INTERNAL);
    assert.equal(toGrpcError(undefined).code, grpc.status.INTERNAL);
  });
});

describe('fromGrpcError', () => {
  it('reads code, reason, field and message from a ServiceError', () => {
    const status = toGrpcError(new InvalidArgumentError('scope', 'unknown action'));
    const serviceError = Object.assign(new Error(`3 INVALID_ARGUMENT: ${status.details}`), {
      code: status.code!,
      details: status.details!,
      metadata: status.metadata!,
    });
    const e = fromGrpcError(serviceError);
    assert.ok(e instanceof AuthorityClientError);
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(e.codeName, 'INVALID_ARGUMENT');
    assert.equal(e.reason, 'INVALID_REQUEST');
    assert.equal(e.field, 'scope');
    assert.equal(e.message, 'scope: unknown action');
  });

  it('copes with errors that are not gRPC errors', () => {
    const e = fromGrpcError(new Error('boom'));
    assert.equal(e.code, grpc.status.UNKNOWN);
    assert.equal(e.reason, undefined);
    assert.equal(e.message, 'boom');
  });
});

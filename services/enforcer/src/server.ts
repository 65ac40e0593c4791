// gRPC handlers of authority.v1.EnforcerService: authenticate the caller, then hand each request
// to the Decider (core's check engine + live state + audit). Decisions are answers, not errors:
// only an unusable call (no/invalid credential, wrong credential kind, too many checks in a batch)
// is a gRPC error status.
import * as grpc from '@grpc/grpc-js';
import { constantTimeEqual } from '@authority/core';
import {
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  bearerToken,
  credentialOfKind,
  wrapUnary,
  type Logger,
  type Secret,
} from '@authority/platform';
import type {
  BatchCheckRequest__Output,
  BatchCheckResponse,
  CheckRequest__Output,
  CheckResponse,
  EnforcerServiceHandlers,
} from '@authority/proto';
import type { KeyDirectory } from '@authority/views';
import type { Caller } from './caller';
import type { Decider } from './decide';
import { createEnforcerMetrics } from './metrics';
import type { FreshnessMonitor } from './freshness';

/** Most checks in one BatchCheck (proto contract). */
export const MAX_BATCH = 1000;

export interface AuthDeps {
  keys: KeyDirectory;
  operatorKey: Secret;
  freshness: FreshnessMonitor;
}

/**
 * The caller of a Check: the operator credential, or a live CHECKER or ADMIN credential of a
 * tenant (from the `keys` topic). A missing or unknown credential is UNAUTHENTICATED; another
 * kind of tenant credential is PERMISSION_DENIED. Before the views have replayed the credentials
 * an unknown credential is UNAVAILABLE (STALE_STATE): it may simply not be loaded yet.
 */
export function authenticateCaller(metadata: grpc.Metadata, deps: AuthDeps): Caller {
  const secret = bearerToken(metadata);
  if (constantTimeEqual(secret, deps.operatorKey.reveal())) return { kind: 'operator', id: 'operator' };
  const credential = deps.keys.authenticate(secret);
  if (credential === undefined) {
    if (!deps.freshness.snapshot().caughtUp) {
      throw new UnavailableError('credentials are still being loaded from Kafka; retry', 'STALE_STATE');
    }
    throw new UnauthenticatedError('invalid credentials');
  }
  if (credential.kind !== 'CHECKER' && credential.kind !== 'ADMIN') {
    throw new PermissionDeniedError(
      `${credentialOfKind(credential.kind)} may not call the enforcer; use a CHECKER credential`,
    );
  }
  return { kind: 'tenant', id: credential.id, tenant: credential.tenant };
}

export interface HandlerDeps extends AuthDeps {
  decider: Decider;
  logger: Logger;
}

export function enforcerHandlers(deps: HandlerDeps): EnforcerServiceHandlers {
  const opts = { logger: deps.logger };
  const metrics = createEnforcerMetrics(deps.freshness);
  return {
    Check: wrapUnary<CheckRequest__Output, CheckResponse>(async (call) => {
      const startedAt = performance.now();
      const caller = authenticateCaller(call.metadata, deps);
      const result = await deps.decider.check(caller, call.request);
      metrics.record([result], startedAt, 'Check');
      return result;
    }, opts),
    BatchCheck: wrapUnary<BatchCheckRequest__Output, BatchCheckResponse>(async (call) => {
      const startedAt = performance.now();
      const caller = authenticateCaller(call.metadata, deps);
      const checks = call.request.checks;
      if (checks.length > MAX_BATCH) {
        throw new InvalidArgumentError('checks', `at most ${MAX_BATCH} checks per BatchCheck, got ${checks.length}`);
      }
      // Independent decisions; their audit events go out in one publish.
      const results = await deps.decider.checkMany(caller, checks);
      metrics.record(results, startedAt, 'BatchCheck');
      return { results };
    }, opts),
  };
}

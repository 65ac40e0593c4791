// `enforced(tool, spec, options)`: the tool runs only after the enforcer answered a well-formed
// ALLOW for exactly this call. Every other outcome (a DENY with any reason, APPROVAL_REQUIRED, an
// error status, a timeout, a network failure, a malformed answer, a failure while building the
// request) throws AuthorityDeniedError and the tool is not called. Errors thrown by the tool itself
// propagate unchanged. There is no code path that runs the tool without a check (the original's
// EnforcedTool had several: see seed-behaviour §10).
import { AuthorityError } from '@authority/core';
import { ReasonCode, type CheckRequest, type CheckResponse__Output } from '@authority/proto';
import { EnforcerClient, type CheckCallOptions } from './clients';
import { checkContext, currentContext, mergeContexts, type CheckContextInit } from './context';
import {
  ApprovalRequiredError,
  AuthorityApiError,
  AuthorityDeniedError,
  InvalidProofError,
  ProofRequiredError,
  Status,
  type ConstraintViolation,
  type DenyReason,
} from './errors';
import type { HolderKey } from './holder-key';
import { assertLeafHolder, requestProof, shouldProve, type ProofMode } from './possession';

/** A value, or a function of the tool's arguments computing it. */
export type FromArgs<A extends unknown[], T> = T | ((...args: A) => T);

/** What a tool call needs. */
export interface EnforcedSpec<A extends unknown[]> {
  /** Scope the call needs, e.g. `vault:finance:read`. */
  scope: FromArgs<A, string>;
  /**
   * Resource the call touches, e.g. `(docId) => childResource('slos://vaults/finance', docId)`; build
   * it with `resource`/`childResource` when an argument comes from the model (never a template string).
   */
  resource?: FromArgs<A, string | undefined>;
  /** Action for constraints such as write_requires_approval (default: the scope's last segment). */
  action?: FromArgs<A, string | undefined>;
  /** Context derived from the arguments (e.g. the record count of a query). */
  context?: FromArgs<A, CheckContextInit | undefined>;
  /** A name for messages (default: the function's name). */
  name?: string;
}

/** Anything that can answer a Check (an EnforcerClient, or a test double). */
export interface Checker {
  check(req: CheckRequest, opts?: CheckCallOptions): Promise<CheckResponse__Output>;
}

export interface EnforcedOptions {
  enforcer: Checker;
  /** The envelope, or a function returning the current one (e.g. after refresh). */
  token: string | (() => string | Promise<string>);
  /**
   * The holder key of the token's last link: with it, checks carry a per-request proof of
   * possession (see `proof`). The key never leaves the process; only signatures are sent.
   */
  holderKey?: HolderKey;
  /**
   * When to attach a per-request proof (needs `holderKey`): `auto` (default) when the token is not
   * sealed or says `pop: required`; `always` (use it when the tenant policy says `pop: required`);
   * `never`.
   */
  proof?: ProofMode;
  /** Static context for every call (lowest precedence). */
  context?: CheckContextInit;
  /** Deadline of the check (default: the enforcer client's). */
  deadlineMs?: number;
  /** Observes every decision that allowed the call (e.g. to log the decision id). */
  onAllow?: (decision: CheckResponse__Output, request: CheckRequest) => void;
}

/** The wrapped tool: same arguments, always async. */
export interface EnforcedTool<A extends unknown[], R> {
  (...args: A): Promise<Awaited<R>>;
  /** The same tool, presenting an approved approval request id with its check. */
  withApproval(approvalId: string): (...args: A) => Promise<Awaited<R>>;
  /** The name used in messages. */
  readonly toolName: string;
}

const KNOWN_REASONS: ReadonlySet<string> = new Set(Object.values(ReasonCode));

function resolve<A extends unknown[], T>(v: FromArgs<A, T> | undefined, args: A): T | undefined {
  return typeof v === 'function' ? (v as (...a: A) => T)(...args) : v;
}

/** Maps a failure to obtain a decision to the reason the tool was denied for. */
function denyReasonForError(err: unknown): DenyReason {
  if (err instanceof AuthorityApiError) {
    // A proto reason the server attached (e.g. STALE_STATE, AUDIT_UNAVAILABLE, INVALID_REQUEST).
    if (
      err.reason !== undefined &&
      KNOWN_REASONS.has(err.reason) &&
      err.reason !== 'ALLOWED' &&
      err.reason !== 'REASON_CODE_UNSPECIFIED'
    ) {
      return err.reason as DenyReason;
    }
    switch (err.code) {
      case Status.UNAVAILABLE:
        return 'UNAVAILABLE';
      case Status.DEADLINE_EXCEEDED:
        return 'DEADLINE_EXCEEDED';
      case Status.UNAUTHENTICATED:
        return 'UNAUTHENTICATED';
      case Status.PERMISSION_DENIED:
        return 'PERMISSION_DENIED';
      case Status.INVALID_ARGUMENT:
        return 'INVALID_REQUEST';
      case Status.INTERNAL:
        // grpc-js reports an undecodable response as INTERNAL without server metadata.
        return err.reason === undefined ? 'MALFORMED_RESPONSE' : 'CHECK_FAILED';
      default:
        return 'CHECK_FAILED';
    }
  }
  if (err instanceof AuthorityError) {
    // Raised locally while building the request (e.g. a holder key that is not the leaf's).
    return KNOWN_REASONS.has(err.reason) && err.reason !== 'ALLOWED' ? (err.reason as DenyReason) : 'INVALID_REQUEST';
  }
  if (err instanceof TypeError || err instanceof RangeError) return 'INVALID_REQUEST';
  return 'CHECK_FAILED';
}

/**
 * Throws unless `res` is a well-formed ALLOW. Exported for custom integrations that call Check
 * themselves: use it, never `res.decision === 'ALLOW'` alone.
 */
export function assertAllowed(
  res: unknown,
  request?: Pick<CheckRequest, 'requiredScope' | 'resource'>,
): CheckResponse__Output {
  const where = { scope: request?.requiredScope ?? undefined, resource: request?.resource ?? undefined };
  if (typeof res !== 'object' || res === null) {
    throw new AuthorityDeniedError({
      reason: 'MALFORMED_RESPONSE',
      message: 'the enforcer returned no decision',
      ...where,
    });
  }
  const r = res as Partial<CheckResponse__Output>;
  const common = {
    ...where,
    decisionId: typeof r.decisionId === 'string' && r.decisionId !== '' ? r.decisionId : undefined,
    field: typeof r.field === 'string' && r.field !== '' ? r.field : undefined,
    agentId: typeof r.agentId === 'string' && r.agentId !== '' ? r.agentId : undefined,
    policyVersion: typeof r.policyVersion === 'string' && r.policyVersion !== '' ? r.policyVersion : undefined,
    violations: readViolations(r.violations),
  };
  const message = typeof r.message === 'string' && r.message !== '' ? r.message : undefined;
  if (r.decision === 'ALLOW') {
    if (r.reason === 'ALLOWED' && common.decisionId !== undefined) return r as CheckResponse__Output;
    throw new AuthorityDeniedError({
      reason: 'MALFORMED_RESPONSE',
      message: `the enforcer answered ALLOW with reason ${String(r.reason)} and decision id ${JSON.stringify(r.decisionId ?? '')}; refusing to run`,
      ...common,
    });
  }
  if (
    r.decision === 'DENY' &&
    typeof r.reason === 'string' &&
    KNOWN_REASONS.has(r.reason) &&
    r.reason !== 'ALLOWED' &&
    r.reason !== 'REASON_CODE_UNSPECIFIED'
  ) {
    if (r.reason === 'APPROVAL_REQUIRED' && typeof r.approvalRequestId === 'string' && r.approvalRequestId !== '') {
      throw new ApprovalRequiredError({
        message: message ?? 'this call needs a human approval',
        approvalRequestId: r.approvalRequestId,
        ...common,
      });
    }
    const init = { message: message ?? `denied: ${r.reason}`, ...common };
    if (r.reason === 'PROOF_REQUIRED') throw new ProofRequiredError(init);
    if (r.reason === 'INVALID_PROOF' || r.reason === 'PROOF_REPLAYED')
      throw new InvalidProofError({ ...init, reason: r.reason });
    throw new AuthorityDeniedError({ ...init, reason: r.reason as DenyReason });
  }
  throw new AuthorityDeniedError({
    reason: 'MALFORMED_RESPONSE',
    message: `the enforcer answered decision ${String(r.decision)} with reason ${String(r.reason)}; refusing to run`,
    ...common,
  });
}

/** The well-formed entries of a response's `violations` (anything else is dropped, never trusted). */
function readViolations(raw: unknown): ConstraintViolation[] {
  if (!Array.isArray(raw)) return [];
  const out: ConstraintViolation[] = [];
  for (const v of raw as unknown[]) {
    if (typeof v !== 'object' || v === null) continue;
    const { reason, constraint, field, message, source } = v as Record<string, unknown>;
    if (typeof reason !== 'string' || !KNOWN_REASONS.has(reason)) continue;
    out.push({
      reason: reason as ConstraintViolation['reason'],
      constraint: typeof constraint === 'string' ? constraint : '',
      field: typeof field === 'string' ? field : '',
      message: typeof message === 'string' ? message : '',
      source: typeof source === 'string' ? source : '',
    });
  }
  return out;
}

/**
 * Wraps `tool` so that every call is checked by the enforcer first, and the tool runs only on a
 * well-formed ALLOW. See the module comment for what counts as a deny.
 */
export function enforced<A extends unknown[], R>(
  tool: (...args: A) => R,
  spec: EnforcedSpec<A>,
  options: EnforcedOptions,
): EnforcedTool<A, R> {
  if (typeof tool !== 'function') throw new TypeError('enforced: tool must be a function');
  if (
    spec === null ||
    typeof spec !== 'object' ||
    (typeof spec.scope !== 'string' && typeof spec.scope !== 'function')
  ) {
    throw new TypeError('enforced: spec.scope is required');
  }
  if (options === null || typeof options !== 'object' || typeof options.enforcer?.check !== 'function') {
    throw new TypeError('enforced: options.enforcer is required');
  }
  const proofMode: ProofMode = options.proof ?? 'auto';
  if (proofMode !== 'auto' && proofMode !== 'always' && proofMode !== 'never')
    throw new TypeError(`enforced: options.proof must be 'auto', 'always' or 'never'`);
  if (proofMode === 'always' && options.holderKey === undefined)
    throw new TypeError("enforced: options.proof 'always' needs options.holderKey");
  const toolName = spec.name ?? (tool.name !== '' ? tool.name : 'tool');

  async function buildRequest(
    args: A,
    approvalId: string | undefined,
  ): Promise<{ request: CheckRequest; callOptions: CheckCallOptions }> {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    if (typeof token !== 'string' || token === '') throw new TypeError(`${toolName}: no token to present`);
    const requiredScope = resolve(spec.scope, args);
    if (typeof requiredScope !== 'string' || requiredScope === '')
      throw new TypeError(`${toolName}: the scope must be a non-empty string`);
    const resource = resolve(spec.resource, args);
    if (resource !== undefined && typeof resource !== 'string')
      throw new TypeError(`${toolName}: the resource must be a string`);
    const action = resolve(spec.action, args);
    if (action !== undefined && typeof action !== 'string')
      throw new TypeError(`${toolName}: the action must be a string`);
    const ambient = currentContext();
    // Precedence: static options < ambient (withPurpose...) < derived from the arguments.
    const ctx = checkContext(mergeContexts(options.context, ambient, resolve(spec.context, args)));
    const approval = approvalId ?? ambient.approvalId;
    const req: CheckRequest = { token, requiredScope, context: ctx };
    if (resource !== undefined) req.resource = resource;
    if (action !== undefined) req.action = action;
    if (approval !== undefined && approval !== '') req.approvalId = approval;
    const callOptions: CheckCallOptions = options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {};
    const key = options.holderKey;
    if (key !== undefined) {
      const prove = shouldProve(token, proofMode);
      if (options.enforcer instanceof EnforcerClient) {
        // The client signs a fresh proof for every attempt (a retry never replays a nonce).
        callOptions.holderKey = key;
        callOptions.proof = prove ? 'always' : 'never';
        // A key that is not the leaf's fails here, before anything is sent.
        if (prove) assertLeafHolder(token, key);
      } else if (prove) {
        req.proof = requestProof(token, key, req);
      }
    }
    return { request: req, callOptions };
  }

  async function authorize(args: A, approvalId: string | undefined): Promise<void> {
    let request: CheckRequest | undefined;
    try {
      const built = await buildRequest(args, approvalId);
      request = built.request;
      const res = await options.enforcer.check(request, built.callOptions);
      const allowed = assertAllowed(res, request);
      try {
        options.onAllow?.(allowed, request);
      } catch {
        // An observer must not turn an allowed call into a failure (nor a deny into a run).
      }
    } catch (err) {
      if (err instanceof AuthorityDeniedError) throw err;
      const reason = denyReasonForError(err);
      const detail = err instanceof Error ? err.message : String(err);
      throw new AuthorityDeniedError({
        reason,
        message: `${toolName} was not run: no ALLOW from the enforcer (${reason}: ${detail})`,
        scope: request?.requiredScope ?? undefined,
        resource: request?.resource ?? undefined,
        field: err instanceof AuthorityApiError || err instanceof AuthorityError ? err.field : undefined,
        cause: err,
      });
    }
  }

  const make = (approvalId: string | undefined) =>
    async function (this: unknown, ...args: A): Promise<Awaited<R>> {
      await authorize(args, approvalId);
      // Reached only after a well-formed ALLOW for exactly these arguments.
      return (await tool.apply(this, args)) as Awaited<R>;
    };

  const wrapped = make(undefined) as EnforcedTool<A, R>;
  Object.defineProperty(wrapped, 'toolName', { value: toolName, enumerable: true });
  Object.defineProperty(wrapped, 'name', { value: `enforced(${toolName})` });
  (wrapped as { withApproval: EnforcedTool<A, R>['withApproval'] }).withApproval = (approvalId: string) => {
    if (typeof approvalId !== 'string' || approvalId === '')
      throw new TypeError('withApproval: approvalId must be a non-empty string');
    return make(approvalId);
  };
  return wrapped;
}

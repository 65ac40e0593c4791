// The gate in front of every upstream tool call: the checks the mapping names, rendered from the
// call's arguments, must each get a well-formed ALLOW from the enforcer before the call is
// forwarded. Anything else (a DENY, an error, a timeout, an argument the template refuses, an empty
// rate bucket) becomes a denial and the upstream is never contacted.
import { context, propagation, trace, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import {
  ApprovalRequiredError,
  AuthorityApiError,
  AuthorityDeniedError,
  assertAllowed,
  Status,
  type EnforcerClient,
} from '@authority/sdk';
import { getMeter } from '@authority/platform';
import type { ClaimedCaller } from './auth';
import { rateKey, type RateLimiter } from './rate-limit';
import { renderTemplate, TemplateArgumentError } from './template';
import type { ToolMapping } from './mapping';

export const GATEWAY_SCOPE = '@authority/gateway';

/** `_meta` keys an agent may put on a tools/call request (never forwarded upstream). */
export const META = {
  /** An approval request id, approved since: presented with every check of the call. */
  approvalId: 'authority/approval_id',
  /** A per-request proof of possession (tools with exactly one check and one resource). */
  proof: 'authority/proof',
  /** The purpose of the call (`require_purpose`). */
  purpose: 'authority/purpose',
  /** The denial details on a refused call's result. */
  denial: 'authority/denial',
} as const;

/** Why a call was refused, as the agent receives it (in the result's `_meta` and text). */
export interface Denial {
  /** A proto ReasonCode, or a gateway reason: RATE_LIMITED, UNAVAILABLE, CHECK_FAILED, UPSTREAM_UNAVAILABLE, UPSTREAM_LIMIT. */
  reason: string;
  message: string;
  /** The request or token field at fault (`arguments.path`, `context.purpose`, `link[1].scp`...). */
  field?: string;
  /** What the agent can do about it. */
  hint: string;
  /** True when the same call may succeed later unchanged. */
  retryable: boolean;
  decision_id?: string;
  /** With APPROVAL_REQUIRED: the request a human must approve; present it in `_meta` on the retry. */
  approval_id?: string;
  retry_after_seconds?: number;
  scope?: string;
  resource?: string;
}

/** Reasons of an answer whose chain verified but whose holder did not prove possession. */
const POSSESSION_UNPROVEN = new Set(['PROOF_REQUIRED', 'INVALID_PROOF', 'PROOF_REPLAYED']);

const RETRYABLE = new Set([
  'STALE_STATE',
  'AUDIT_UNAVAILABLE',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_LIMIT',
]);

/** The hint for a reason (the original's `retry_hint`, without leaking anything the agent lacks). */
export function hintFor(reason: string, d: Partial<Denial>): string {
  switch (reason) {
    case 'SCOPE_MISSING':
      return `your envelope does not grant scope '${d.scope ?? ''}'; ask whoever delegated it for one that does`;
    case 'RESOURCE_NOT_ALLOWED':
    case 'DENIED_RESOURCE':
      return 'this resource is outside what your envelope allows; another spelling of the same object is refused too';
    case 'APPROVAL_REQUIRED':
      return `a human must approve request ${d.approval_id ?? '(none issued)'}; once approved, call again with _meta["${META.approvalId}"] set to it (good for one call)`;
    case 'APPROVAL_INVALID':
      return 'the approval does not match this call or was used up; request a new one by calling without it';
    case 'PURPOSE_REQUIRED':
      return `state why you act: _meta["${META.purpose}"]`;
    case 'EXPIRED':
    case 'REVOKED':
    case 'NOT_YET_VALID':
    case 'INVALID_TOKEN':
    case 'INVALID_SIGNATURE':
    case 'UNKNOWN_KEY':
    case 'CHAIN_VIOLATION':
    case 'AUDIENCE_MISMATCH':
    case 'TENANT_MISMATCH':
      return 'the envelope cannot be used; obtain a new one';
    case 'PROOF_REQUIRED':
    case 'INVALID_PROOF':
    case 'PROOF_REPLAYED':
      return `sign a fresh per-request proof over this call's check (see the tool's _meta["authority/checks"]) and send it in _meta["${META.proof}"], or present a sealed envelope`;
    case 'INVALID_REQUEST':
      return d.field !== undefined ? `fix ${d.field}` : 'fix the request';
    case 'NOT_FOUND':
      return d.field === 'arguments.domain'
        ? 'no such domain; authority.vault_list without a domain lists the ones you can read'
        : 'no such document; authority.vault_list lists the domain';
    case 'UPSTREAM_UNAVAILABLE':
      return 'the server behind this tool is reconnecting; retry later (check first whether a call that was cut off had its effect)';
    case 'UPSTREAM_LIMIT':
      return d.field === 'limit.per_agent'
        ? 'this agent holds as many per-agent upstream connections as it may (over all its sessions): close a session you no longer use (HTTP DELETE /mcp) or retry once an idle one was closed'
        : 'the gateway holds as many per-agent upstream connections as it may for this tenant or in total; retry later';
    case 'RATE_LIMITED':
      return `too many calls for this agent; retry after ${d.retry_after_seconds ?? 1}s`;
    case 'STALE_STATE':
    case 'AUDIT_UNAVAILABLE':
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'CHECK_FAILED':
      return 'the authorization service is temporarily unable to decide; retry later';
    default:
      return 'not allowed; retrying the same call will not help';
  }
}

export function denial(init: Omit<Denial, 'hint' | 'retryable'>): Denial {
  const d: Denial = { ...init, hint: '', retryable: RETRYABLE.has(init.reason) };
  for (const k of Object.keys(d) as (keyof Denial)[]) if (d[k] === undefined) delete d[k];
  d.hint = hintFor(init.reason, init);
  return d;
}

/** The result an agent gets for a refused call: isError, one text block, the denial in `_meta`. */
export function deniedResult(tool: string, d: Denial): CallToolResult {
  const where = d.field !== undefined ? ` (${d.field})` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `Authority denied ${tool}: ${d.reason}${where}: ${d.message}. Hint: ${d.hint}` }],
    _meta: { [META.denial]: d },
  };
}

/** Why no decision could be obtained, as a reason. */
function reasonForError(err: unknown): { reason: string; field?: string } {
  if (err instanceof AuthorityApiError) {
    if (err.reason !== undefined && err.reason !== '' && err.reason !== 'ALLOWED')
      return { reason: err.reason, ...(err.field !== undefined ? { field: err.field } : {}) };
    if (err.code === Status.UNAVAILABLE) return { reason: 'UNAVAILABLE' };
    if (err.code === Status.DEADLINE_EXCEEDED) return { reason: 'DEADLINE_EXCEEDED' };
    if (err.code === Status.INVALID_ARGUMENT)
      return { reason: 'INVALID_REQUEST', ...(err.field !== undefined ? { field: err.field } : {}) };
  }
  return { reason: 'CHECK_FAILED' };
}

export interface EnforcementOptions {
  enforcer: Pick<EnforcerClient, 'check' | 'batchCheck'>;
  limiter: RateLimiter;
  timeoutMs: number;
}

export interface CallMeta {
  approvalId?: string;
  proof?: string;
  purpose?: string;
}

/** Reads the gateway's own keys of a request's `_meta`; a wrong type is a denial naming the key. */
export function readCallMeta(meta: Record<string, unknown> | undefined): CallMeta | Denial {
  const out: CallMeta = {};
  for (const [field, key] of [
    ['approvalId', META.approvalId],
    ['proof', META.proof],
    ['purpose', META.purpose],
  ] as const) {
    const v = meta?.[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.length > 8192) {
      return denial({
        reason: 'INVALID_REQUEST',
        message: `_meta["${key}"] must be a non-empty string`,
        field: `_meta.${key}`,
      });
    }
    out[field] = v;
  }
  return out;
}

/** The check requests of one call (one per check and rendered resource). */
export function checkRequests(
  token: string,
  mapping: ToolMapping,
  args: Readonly<Record<string, unknown>>,
  meta: CallMeta,
): CheckRequest[] {
  const out: CheckRequest[] = [];
  for (const c of mapping.checks) {
    const resources = c.resource === undefined ? [undefined] : renderTemplate(c.resource, args);
    for (const resource of resources) {
      const req: CheckRequest = { token, requiredScope: c.scope };
      if (resource !== undefined) req.resource = resource;
      if (c.action !== undefined) req.action = c.action;
      if (meta.purpose !== undefined) req.context = { purpose: meta.purpose };
      if (meta.approvalId !== undefined) req.approvalId = meta.approvalId;
      out.push(req);
    }
  }
  return out;
}

export class Enforcement {
  private readonly tracer = trace.getTracer(GATEWAY_SCOPE);
  private readonly calls = getMeter(GATEWAY_SCOPE).createCounter('authority.gateway.tool_calls', {
    description: 'Tool calls through the gateway, by tool, decision (allow, deny) and reason.',
  });
  private readonly checkDuration = getMeter(GATEWAY_SCOPE).createHistogram('authority.gateway.check.duration', {
    description: 'Time to obtain the decisions of one tool call, in milliseconds.',
    unit: 'ms',
  });
  private readonly rateLimitedCounter = getMeter(GATEWAY_SCOPE).createCounter('authority.gateway.rate_limited', {
    description: 'Tool calls refused because the (tenant, agent) token bucket was empty.',
  });

  constructor(private readonly opts: EnforcementOptions) {}

  /** True when the bucket of the identity `caller` claims has a token (a refusal is counted). */
  allows(caller: ClaimedCaller): boolean {
    return this.opts.limiter.allows(rateKey(caller.tenant, caller.agent));
  }

  /** The denial for an empty bucket. */
  rateLimited(caller: ClaimedCaller): Denial {
    this.rateLimitedCounter.add(1, {});
    return denial({
      reason: 'RATE_LIMITED',
      message: `rate limit of agent '${caller.agent}' reached`,
      retry_after_seconds: this.opts.limiter.retryAfterSeconds(rateKey(caller.tenant, caller.agent)),
    });
  }

  /**
   * After the enforcer answered `responses` for `caller`: charges the identity it verified (never
   * a claimed one, see rate-limit.ts), and tells the caller when that identity is its own and the
   * holder proved possession.
   */
  private verifiedBy(caller: ClaimedCaller, responses: readonly (CheckResponse__Output | undefined)[]): void {
    const verified = responses.find((r) => r !== undefined && r.chainUnverified === false && r.agentId !== '');
    if (verified === undefined) return;
    this.charge({ tenant: verified.tenant, agent: verified.agentId });
    const own = responses.some(
      (r) =>
        r !== undefined &&
        r.chainUnverified === false &&
        !POSSESSION_UNPROVEN.has(r.reason) &&
        r.tenant === caller.tenant &&
        r.agentId === caller.agent,
    );
    if (own) caller.onVerified?.();
  }

  /** Charges `caller`'s bucket: only after a service verified its envelope (see rate-limit.ts). */
  charge(caller: Pick<ClaimedCaller, 'tenant' | 'agent'>): void {
    this.opts.limiter.charge(rateKey(caller.tenant, caller.agent));
  }

  /**
   * One check, answered as the enforcer decided it (ALLOW or DENY), or a denial when no decision
   * was obtained or the bucket is empty (authority.check_access).
   */
  async checkOnce(caller: ClaimedCaller, request: CheckRequest): Promise<CheckResponse__Output | Denial> {
    if (!this.allows(caller)) return this.rateLimited(caller);
    const responses = await this.ask(caller, [request], false);
    if (!Array.isArray(responses)) return responses;
    const res = responses[0] as CheckResponse__Output;
    if (res.decision !== 'ALLOW' && res.decision !== 'DENY')
      return denial({ reason: 'CHECK_FAILED', message: 'the enforcer answered no decision' });
    return res;
  }

  /** Runs `fn` in a span named after the tool. */
  span<T>(tool: string, fn: (span: Span) => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      `gateway tools/call ${tool}`,
      { attributes: { 'mcp.tool.name': tool } },
      async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * Undefined when every check of the call is allowed (the call may go upstream), the denial
   * otherwise. Never throws.
   */
  async authorize(
    caller: ClaimedCaller,
    tool: string,
    mapping: ToolMapping,
    args: Readonly<Record<string, unknown>>,
    rawMeta: Record<string, unknown> | undefined,
  ): Promise<Denial | undefined> {
    const started = performance.now();
    const result = await this.decide(caller, mapping, args, rawMeta);
    const span = trace.getActiveSpan();
    const decision = result === undefined ? 'allow' : 'deny';
    const reason = result?.reason ?? 'ALLOWED';
    span?.setAttributes({ 'authority.decision': decision, 'authority.reason': reason });
    this.calls.add(1, { tool, decision, reason });
    this.checkDuration.record(performance.now() - started, { tool, decision });
    if (reason === 'RATE_LIMITED') this.rateLimitedCounter.add(1, { tool });
    return result;
  }

  private async decide(
    caller: ClaimedCaller,
    mapping: ToolMapping,
    args: Readonly<Record<string, unknown>>,
    rawMeta: Record<string, unknown> | undefined,
  ): Promise<Denial | undefined> {
    const claimedKey = rateKey(caller.tenant, caller.agent);
    if (!this.opts.limiter.allows(claimedKey)) {
      const after = this.opts.limiter.retryAfterSeconds(claimedKey);
      return denial({
        reason: 'RATE_LIMITED',
        message: `rate limit of agent '${caller.agent}' reached`,
        retry_after_seconds: after,
      });
    }
    const meta = readCallMeta(rawMeta);
    if ('reason' in meta) return meta;
    let requests: CheckRequest[];
    try {
      requests = checkRequests(caller.token, mapping, args, meta);
    } catch (err) {
      if (err instanceof TemplateArgumentError)
        return denial({ reason: 'INVALID_REQUEST', message: err.message, field: err.field });
      return denial({ reason: 'INVALID_REQUEST', message: 'the arguments cannot be checked' });
    }
    if (meta.proof !== undefined) {
      if (requests.length !== 1) {
        return denial({
          reason: 'INVALID_REQUEST',
          message: `a per-request proof covers one check; this call needs ${requests.length}: present a sealed envelope`,
          field: `_meta.${META.proof}`,
        });
      }
      (requests[0] as CheckRequest).proof = meta.proof;
    }
    const responses = await this.ask(caller, requests, requests.length !== 1);
    if (!Array.isArray(responses)) return responses;
    for (const [i, res] of responses.entries()) {
      const refused = refusal(res, requests[i] as CheckRequest);
      if (refused !== undefined) return refused;
    }
    return undefined;
  }

  /**
   * The enforcer's answers to several checks of one call (one rate-limit token, one batch), or
   * the denial when no decision was obtained. Each answer still has to be read with `refusal`.
   */
  async checkMany(caller: ClaimedCaller, requests: CheckRequest[]): Promise<CheckResponse__Output[] | Denial> {
    if (!this.allows(caller)) return this.rateLimited(caller);
    return this.ask(caller, requests, true);
  }

  /**
   * The enforcer's answers to `requests` (one Check, or one BatchCheck when `batch`), one per
   * request, or the denial when no decision was obtained. The trace continues into the enforcer
   * (and from there into the audit event); only an identity it verified is charged.
   */
  private async ask(
    caller: ClaimedCaller,
    requests: CheckRequest[],
    batch: boolean,
  ): Promise<CheckResponse__Output[] | Denial> {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const callOpts = { deadlineMs: this.opts.timeoutMs, metadata: carrier };
    let responses: CheckResponse__Output[];
    try {
      responses = batch
        ? (await this.opts.enforcer.batchCheck({ checks: requests }, callOpts)).results
        : [await this.opts.enforcer.check(requests[0] as CheckRequest, callOpts)];
    } catch (err) {
      const r = reasonForError(err);
      return denial({
        reason: r.reason,
        message: `no decision from the enforcer: ${err instanceof Error ? err.message : String(err)}`,
        ...(r.field !== undefined ? { field: r.field } : {}),
      });
    }
    this.verifiedBy(caller, responses);
    if (responses.length !== requests.length)
      return denial({ reason: 'CHECK_FAILED', message: 'the enforcer answered a different number of checks' });
    return responses;
  }
}

/** Undefined when `res` is a well-formed ALLOW of `req`, the denial (reason, field, hint) otherwise. */
export function refusal(res: CheckResponse__Output, req: CheckRequest): Denial | undefined {
  try {
    assertAllowed(res, req);
    return undefined;
  } catch (err) {
    const where = {
      scope: req.requiredScope ?? undefined,
      ...(req.resource !== undefined ? { resource: req.resource } : {}),
    };
    if (err instanceof ApprovalRequiredError) {
      return denial({
        reason: 'APPROVAL_REQUIRED',
        message: err.message,
        approval_id: err.approvalRequestId,
        ...(err.decisionId !== undefined ? { decision_id: err.decisionId } : {}),
        ...where,
      });
    }
    if (err instanceof AuthorityDeniedError) {
      return denial({
        reason: err.reason,
        message: err.message,
        ...(err.field !== undefined ? { field: err.field } : {}),
        ...(err.decisionId !== undefined ? { decision_id: err.decisionId } : {}),
        ...where,
      });
    }
    return denial({ reason: 'CHECK_FAILED', message: 'the decision could not be read', ...where });
  }
}

// The gateway's own tools, under the reserved namespace `authority`. Each acts with the caller's
// envelope only, and none mints anything by itself:
//   authority.check_access   asks the enforcer whether the caller may do something (the decision
//                            is audited like any check) and returns it;
//   authority.compile_intent narrows the caller's envelope to what a task description needs
//                            (deterministic compiler, src/compile.ts) and has the issuer mint the
//                            child with Delegate: the caller's envelope is the upper bound, verified
//                            by the issuer. Exposed only when the issuer is configured.
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { parseToken, splitSeal } from '@authority/core';
import { AuthorityApiError, type AuditorClient, type IssuerClient } from '@authority/sdk';
import type { ClaimedCaller } from './auth';
import { compileIntent, words, type CompiledIntent } from './compile';
import { clipProposal, type LlmCompiler } from './llm-compiler';
import { deniedResult, denial, type Denial, type Enforcement } from './enforce';
import type { Upstream } from './upstream';
import type { VaultTools } from './vault-tools';

export const BUILTIN_NAMESPACE = 'authority';
export const CHECK_ACCESS = `${BUILTIN_NAMESPACE}.check_access`;
export const COMPILE_INTENT = `${BUILTIN_NAMESPACE}.compile_intent`;
export const AUDIT_LOG = `${BUILTIN_NAMESPACE}.audit_log`;
/** The scope the audit log needs: exactly `audit:read`, checked by the enforcer. */
export const AUDIT_READ_SCOPE = 'audit:read';
/** Most events one audit_log call returns. */
export const MAX_AUDIT_EVENTS = 100;

const AUDIT_LOG_TOOL: Tool = {
  name: AUDIT_LOG,
  title: 'Audit log',
  description:
    "The newest audit events of your own tenant (decisions, envelopes, approvals), from the auditor's verified chain. Needs the scope audit:read.",
  inputSchema: {
    type: 'object',
    properties: {
      agent_id: { type: 'string', description: 'Only events whose delegation path names this agent' },
      action: { type: 'string', description: 'Only this action, e.g. check or envelope.delegate' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_EVENTS, description: 'At most this many (default 20)' },
    },
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: { events: { type: 'array', items: { type: 'object' } }, decision_id: { type: 'string' } },
    required: ['events'],
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const CHECK_ACCESS_TOOL: Tool = {
  name: CHECK_ACCESS,
  title: 'Check access',
  description:
    'Asks Authority whether your envelope allows an action (scope, optional resource and action) without doing it. The decision is recorded in the audit trail.',
  inputSchema: {
    type: 'object',
    properties: {
      scope: { type: 'string', description: 'The scope, e.g. files:docs:read' },
      resource: { type: 'string', description: 'The canonical resource, e.g. file://local/srv/docs/a.txt' },
      action: { type: 'string', description: 'The action (default: the last scope segment)' },
      purpose: { type: 'string', description: 'Why (for require_purpose)' },
    },
    required: ['scope'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: {
      allowed: { type: 'boolean' },
      reason: { type: 'string' },
      message: { type: 'string' },
      field: { type: 'string' },
      decision_id: { type: 'string' },
      approval_id: { type: 'string' },
    },
    required: ['allowed', 'reason'],
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

const COMPILE_INTENT_TOOL: Tool = {
  name: COMPILE_INTENT,
  title: 'Compile an intent into a narrower envelope',
  description:
    'Turns a task description into a child of your envelope holding only the scopes the task needs (keyword matching over your scopes and the tools that need them), minted by the Authority issuer. Your envelope is the upper bound. Returns the child token, its holder key, the scopes kept and dropped and the reduction ratio.',
  inputSchema: {
    type: 'object',
    properties: {
      intent: { type: 'string', description: 'What the task is, in plain words' },
      agent_name: {
        type: 'string',
        description: 'Name of the sub-agent (the child is <your agent id>/<agent_name>); default: yourself',
      },
      ttl_seconds: {
        type: 'integer',
        minimum: 60,
        maximum: 86400,
        description: 'Lifetime (default: until yours ends)',
      },
    },
    required: ['intent'],
    additionalProperties: false,
  },
  outputSchema: {
    type: 'object',
    properties: {
      agent_id: { type: 'string' },
      token: { type: 'string' },
      holder_secret_key: { type: 'string' },
      expires_at: { type: 'string' },
      scopes_kept: { type: 'array', items: { type: 'string' } },
      scopes_dropped: { type: 'array', items: { type: 'string' } },
      reduction_ratio: { type: 'number' },
      reasons: { type: 'object', additionalProperties: { type: 'string' } },
      source: { type: 'string' },
      scopes_clipped: { type: 'array', items: { type: 'string' } },
    },
    required: ['agent_id', 'token', 'scopes_kept', 'scopes_dropped', 'reduction_ratio'],
  },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
};

export interface BuiltinDeps {
  enforcement: Enforcement;
  /** Absent: compile_intent is not exposed. */
  issuer?: Pick<IssuerClient, 'delegate'>;
  /** Absent: audit_log is not exposed. */
  auditor?: Pick<AuditorClient, 'queryEvents'>;
  upstreams: readonly Upstream[];
  issuerTimeoutMs: number;
  /** Absent: the vault tools are not exposed. */
  vault?: VaultTools;
  /** A model proposing compile_intent's scopes (clipped to the caller); absent: deterministic. */
  llm?: LlmCompiler;
}

function isDenial(r: CallToolResult | Denial): r is Denial {
  return typeof (r as Denial).hint === 'string' && typeof (r as Denial).reason === 'string';
}

function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function invalid(message: string, field: string): Denial {
  return denial({ reason: 'INVALID_REQUEST', message, field });
}

function optionalString(args: Record<string, unknown>, key: string, max: number): string | undefined | Denial {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > max)
    return invalid(`'${key}' must be a non-empty string of at most ${max} characters`, `arguments.${key}`);
  return v;
}

export class BuiltinTools {
  constructor(private readonly deps: BuiltinDeps) {}

  list(): Tool[] {
    return [
      CHECK_ACCESS_TOOL,
      ...(this.deps.issuer !== undefined ? [COMPILE_INTENT_TOOL] : []),
      ...(this.deps.auditor !== undefined ? [AUDIT_LOG_TOOL] : []),
      ...(this.deps.vault?.list() ?? []),
    ];
  }

  has(name: string): boolean {
    return this.list().some((t) => t.name === name);
  }

  async call(
    name: string,
    caller: ClaimedCaller,
    args: Record<string, unknown>,
    meta?: Record<string, unknown>,
  ): Promise<CallToolResult> {
    const vault = this.deps.vault;
    const result =
      vault !== undefined && vault.has(name)
        ? await vault.call(name, caller, args, meta)
        : name === CHECK_ACCESS
          ? await this.checkAccess(caller, args)
          : name === AUDIT_LOG
            ? await this.auditLog(caller, args)
            : await this.compile(caller, args);
    return isDenial(result) ? deniedResult(name, result) : result;
  }

  private async checkAccess(caller: ClaimedCaller, args: Record<string, unknown>): Promise<CallToolResult | Denial> {
    const scope = optionalString(args, 'scope', 256);
    if (scope === undefined) return invalid("'scope' is required", 'arguments.scope');
    const fields = [
      scope,
      optionalString(args, 'resource', 2048),
      optionalString(args, 'action', 64),
      optionalString(args, 'purpose', 1024),
    ];
    for (const f of fields) if (typeof f === 'object') return f;
    const [requiredScope, resource, action, purpose] = fields as (string | undefined)[];
    const res = await this.deps.enforcement.checkOnce(caller, {
      token: caller.token,
      requiredScope: requiredScope as string,
      ...(resource !== undefined ? { resource } : {}),
      ...(action !== undefined ? { action } : {}),
      ...(purpose !== undefined ? { context: { purpose } } : {}),
    });
    if ('hint' in res) return res;
    const out: Record<string, unknown> = {
      allowed: res.decision === 'ALLOW' && res.reason === 'ALLOWED',
      reason: res.reason,
    };
    if (res.message !== '') out['message'] = res.message;
    if (res.field !== '') out['field'] = res.field;
    if (res.decisionId !== '') out['decision_id'] = res.decisionId;
    if (res.approvalRequestId !== '') out['approval_id'] = res.approvalRequestId;
    return ok(out);
  }

  /**
   * The caller's own tenant's events: the enforcer must ALLOW `audit:read` for the caller's
   * envelope first, and the query names the tenant the enforcer VERIFIED (never a claimed one).
   */
  private async auditLog(caller: ClaimedCaller, args: Record<string, unknown>): Promise<CallToolResult | Denial> {
    const auditor = this.deps.auditor;
    if (auditor === undefined) return denial({ reason: 'UNAVAILABLE', message: 'no auditor configured' });
    const agentId = optionalString(args, 'agent_id', 256);
    if (typeof agentId === 'object') return agentId;
    const action = optionalString(args, 'action', 64);
    if (typeof action === 'object') return action;
    const limit = args['limit'] ?? 20;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_EVENTS)
      return invalid(`'limit' must be an integer from 1 to ${MAX_AUDIT_EVENTS}`, 'arguments.limit');
    const res = await this.deps.enforcement.checkOnce(caller, { token: caller.token, requiredScope: AUDIT_READ_SCOPE });
    if ('hint' in res) return res;
    if (res.decision !== 'ALLOW' || res.reason !== 'ALLOWED' || res.tenant === '' || res.chainUnverified) {
      return denial({
        reason: res.reason,
        message: res.message !== '' ? res.message : 'audit:read was not allowed',
        scope: AUDIT_READ_SCOPE,
        ...(res.field !== '' ? { field: res.field } : {}),
        ...(res.decisionId !== '' ? { decision_id: res.decisionId } : {}),
      });
    }
    try {
      const page = await auditor.queryEvents({
        tenant: res.tenant,
        pageSize: limit,
        ...(agentId !== undefined ? { agentId } : {}),
        ...(action !== undefined ? { action } : {}),
      });
      const events = page.entries.slice(0, limit).map((e) => {
        const ev = e.event;
        return {
          seq: Number(e.seq),
          event_id: ev?.eventId ?? '',
          time: ev?.time?.seconds !== undefined ? new Date(Number(ev.time.seconds) * 1000).toISOString() : '',
          source: ev?.source ?? '',
          agent_id: ev?.actor?.agentId ?? '',
          action: ev?.action ?? '',
          resource: ev?.resource ?? '',
          decision: ev?.decision ?? '',
          reason: ev?.reason ?? '',
        };
      });
      return ok({ events, decision_id: res.decisionId });
    } catch (err) {
      return denial({
        reason: 'UNAVAILABLE',
        message: `the auditor could not be asked: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }

  /** The scopes the intent needs: the model's proposal clipped to the caller, or the deterministic compiler's. */
  private async propose(
    intent: string,
    scopes: readonly string[],
    toolWords: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<CompiledIntent & { clipped: string[]; source: string }> {
    const llm = this.deps.llm;
    if (llm !== undefined) {
      try {
        return clipProposal(await llm.propose(intent, scopes, toolWords), scopes, llm.source);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return {
          ...compileIntent(intent, scopes, toolWords),
          clipped: [],
          source: `deterministic (${llm.source} failed: ${why})`,
        };
      }
    }
    return { ...compileIntent(intent, scopes, toolWords), clipped: [], source: 'deterministic' };
  }

  private async compile(caller: ClaimedCaller, args: Record<string, unknown>): Promise<CallToolResult | Denial> {
    const issuer = this.deps.issuer;
    if (issuer === undefined) return denial({ reason: 'UNAVAILABLE', message: 'no issuer configured' });
    const intent = optionalString(args, 'intent', 4000);
    if (intent === undefined) return invalid("'intent' is required", 'arguments.intent');
    if (typeof intent === 'object') return intent;
    const name = optionalString(args, 'agent_name', 100);
    if (typeof name === 'object') return name;
    const ttl = args['ttl_seconds'];
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 60 || ttl > 86_400))
      return invalid("'ttl_seconds' must be an integer from 60 to 86400", 'arguments.ttl_seconds');
    if (!this.deps.enforcement.allows(caller)) return this.deps.enforcement.rateLimited(caller);
    // The caller's scopes as its envelope claims them: a proposal only, Delegate verifies the bound.
    const leaf = parseToken(splitSeal(caller.token).chain).at(-1);
    if (leaf === undefined) return denial({ reason: 'INVALID_TOKEN', message: 'the envelope has no link' });
    const toolWords = new Map<string, Set<string>>();
    for (const u of this.deps.upstreams) {
      for (const t of u.exposedTools()) {
        const ws = words(`${t.mapping.name} ${t.definition.title ?? ''} ${t.definition.description ?? ''}`);
        for (const c of t.mapping.checks) toolWords.set(c.scope, new Set([...(toolWords.get(c.scope) ?? []), ...ws]));
      }
    }
    const compiled = await this.propose(intent, leaf.claims.scp, toolWords);
    if (compiled.scopes.length === 0) {
      return invalid(
        `nothing in your envelope matches the intent (scopes: ${leaf.claims.scp.join(', ')}); name what the task touches`,
        'arguments.intent',
      );
    }
    const agentId = name === undefined ? leaf.claims.sub : `${leaf.claims.sub}/${name}`;
    try {
      const issued = await issuer.delegate(
        {
          tenant: caller.tenant,
          parentToken: caller.token,
          agentId,
          grant: {
            scopes: compiled.scopes,
            resources: [...leaf.claims.res],
            contextFields: [...leaf.claims.ctx],
            constraintsJson: '', // inherited from the parent
          },
          ...(typeof ttl === 'number' ? { ttlSeconds: ttl } : {}),
        },
        { deadlineMs: this.deps.issuerTimeoutMs },
      );
      // The issuer verified the caller's envelope (and its seal) to delegate from it.
      this.deps.enforcement.charge(caller);
      caller.onVerified?.();
      const e = issued.envelope;
      const out: Record<string, unknown> = {
        agent_id: e.agentId,
        token: e.token,
        scopes_kept: compiled.scopes,
        scopes_dropped: compiled.dropped,
        reduction_ratio: compiled.reductionRatio,
        reasons: compiled.reasons,
        source: compiled.source,
        ...(compiled.clipped.length > 0 ? { scopes_clipped: compiled.clipped } : {}),
      };
      if (issued.holderKey !== undefined)
        out['holder_secret_key'] = Buffer.from(issued.holderKey.exportSeed()).toString('base64url');
      if (e.expiresAt?.seconds !== undefined)
        out['expires_at'] = new Date(Number(e.expiresAt.seconds) * 1000).toISOString();
      return ok(out);
    } catch (err) {
      if (err instanceof AuthorityApiError) {
        return denial({
          reason: err.reason !== undefined && err.reason !== '' ? err.reason : 'CHECK_FAILED',
          message: `the issuer refused the child envelope: ${err.message}`,
          ...(err.field !== undefined ? { field: err.field } : {}),
        });
      }
      return denial({ reason: 'UNAVAILABLE', message: 'the issuer could not be reached' });
    }
  }
}

// What a tool call tells the enforcer besides the token: purpose, record count, other context
// fields, and an approval id. Pass it explicitly (`checkContext`, the `context` options of
// `enforced`), or set it for everything running inside a function (`withPurpose`,
// `withRecordCount`, `withContextFields`, `withApprovalId`), which is handy when a framework calls
// the tool for you (LangChain, LangGraph) and you cannot add arguments.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CheckContext } from '@authority/proto';

/** The context of a check, in friendly form. */
export interface CheckContextInit {
  /** Why the agent acts; required by `require_purpose`. */
  purpose?: string;
  /** How many records the call reads or writes; bounded by `max_records_per_request`. */
  recordCount?: number;
  /** Other fields; each must be allowed by the envelope's `ctx`. */
  fields?: Record<string, string>;
}

/** Ambient state set by the `with*` helpers. */
export interface AmbientContext extends CheckContextInit {
  approvalId?: string;
}

const ambient = new AsyncLocalStorage<AmbientContext>();

const MAX_UINT32 = 0xffff_ffff;

/** Validates and converts to the proto CheckContext. Throws TypeError naming the bad field. */
export function checkContext(init: CheckContextInit = {}): CheckContext {
  const out: CheckContext = {};
  if (init.purpose !== undefined) {
    if (typeof init.purpose !== 'string') throw new TypeError('context.purpose must be a string');
    out.purpose = init.purpose;
  }
  if (init.recordCount !== undefined) {
    const n = init.recordCount;
    if (!Number.isInteger(n) || n < 0 || n > MAX_UINT32) {
      throw new TypeError(`context.recordCount must be an integer from 0 to ${MAX_UINT32}, got ${String(n)}`);
    }
    out.recordCount = n;
  }
  if (init.fields !== undefined) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.fields)) {
      if (typeof v !== 'string') throw new TypeError(`context.fields.${k} must be a string`);
      fields[k] = v;
    }
    out.fields = fields;
  }
  return out;
}

/** Merges contexts left to right; later ones win, `fields` are merged key by key. */
export function mergeContexts(...parts: (CheckContextInit | undefined)[]): CheckContextInit {
  const out: CheckContextInit = {};
  for (const p of parts) {
    if (p === undefined) continue;
    if (p.purpose !== undefined) out.purpose = p.purpose;
    if (p.recordCount !== undefined) out.recordCount = p.recordCount;
    if (p.fields !== undefined) out.fields = { ...out.fields, ...p.fields };
  }
  return out;
}

/** The ambient context of the current async call chain (empty outside any `with*`). */
export function currentContext(): AmbientContext {
  return ambient.getStore() ?? {};
}

/** Runs `fn` with extra ambient context (nested calls merge; the innermost wins). */
export function withContext<T>(ctx: AmbientContext, fn: () => T): T {
  const outer = currentContext();
  const merged: AmbientContext = mergeContexts(outer, ctx);
  const approvalId = ctx.approvalId ?? outer.approvalId;
  if (approvalId !== undefined) merged.approvalId = approvalId;
  return ambient.run(merged, fn);
}

/** Runs `fn` so that enforced tools inside it declare this purpose. */
export function withPurpose<T>(purpose: string, fn: () => T): T {
  return withContext({ purpose }, fn);
}

/** Runs `fn` so that enforced tools inside it declare this record count. */
export function withRecordCount<T>(recordCount: number, fn: () => T): T {
  checkContext({ recordCount });
  return withContext({ recordCount }, fn);
}

/** Runs `fn` so that enforced tools inside it send these context fields. */
export function withContextFields<T>(fields: Record<string, string>, fn: () => T): T {
  return withContext({ fields }, fn);
}

/**
 * Runs `fn` presenting an approved approval request id with the checks inside it. The enforcer
 * binds an approval to one agent, scope, action and resource and consumes it once, so presenting it
 * elsewhere only gets APPROVAL_INVALID.
 */
export function withApprovalId<T>(approvalId: string, fn: () => T): T {
  return withContext({ approvalId }, fn);
}

// Approvals: a call denied with APPROVAL_REQUIRED carries an approval request id. A human decides
// it (APPROVER credential, `authority approval approve <id>`), then the caller presents the id with
// the same call, once. An approval is bound to that exact call (scope, action, resource or none,
// purpose, record count, every context field, the presenting envelope chain): the same call with,
// say, another record count is APPROVAL_INVALID. These helpers show an approval's request, check
// its digest, wait for the decision and retry.
import { approvalRequestDigest, type ApprovalBinding } from '@authority/core';
import type { Approval__Output, GetApprovalResponse__Output } from '@authority/proto';
import { ApprovalNotGrantedError, ApprovalRequiredError } from './errors';
import type { EnforcedTool } from './enforced';
import type { CallOptions } from './transport';

export { approvalRequestDigest, type ApprovalBinding } from '@authority/core';

/** The request an approval allows, as an approver is shown it; absent fields are "none". */
export interface ApprovalRequestView {
  approvalId: string;
  tenant: string;
  /** The acting (leaf) agent. */
  agentId: string;
  /** `sub` of every link of the presenting chain, root first. */
  agentChain: string[];
  /** `jti` of every link of the presenting chain, root first. */
  chain: string[];
  requiredScope: string;
  action: string;
  resource?: string;
  purpose?: string;
  recordCount?: number;
  contextFields: Record<string, string>;
  /** Hex SHA-256 of the canonical encoding of the fields above (approvalRequestDigest). */
  requestDigest: string;
  /**
   * Whether requestDigest is the digest of the fields shown: 'none' for an approval recorded before
   * approvals were bound to the whole request (it can never be used).
   */
  digest: 'matches' | 'differs' | 'none';
}

/** The binding (approvalRequestDigest's input) an approval reports. */
export function approvalBindingOf(a: Approval__Output): ApprovalBinding {
  const b: ApprovalBinding = {
    tenant: a.tenant,
    agent: a.agentId,
    requiredScope: a.requiredScope,
    action: a.action,
    contextFields: { ...a.contextFields },
    chain: [...a.chain],
    agentChain: [...a.agentChain],
  };
  if (a.resource !== '') b.resource = a.resource;
  if (a.purpose !== '') b.purpose = a.purpose;
  if (a.recordCount !== undefined && a.recordCount !== null) b.recordCount = a.recordCount;
  return b;
}

/**
 * What an approval allows, every field, with its digest recomputed here: show this to the human
 * who decides (and refuse to ask them when `digest` is not 'matches').
 */
export function describeApproval(a: Approval__Output): ApprovalRequestView {
  const b = approvalBindingOf(a);
  let digest: ApprovalRequestView['digest'] = 'none';
  if (a.requestDigest !== '' && a.chain.length > 0) {
    try {
      digest = approvalRequestDigest(b) === a.requestDigest ? 'matches' : 'differs';
    } catch {
      digest = 'differs';
    }
  }
  return {
    approvalId: a.approvalId,
    tenant: a.tenant,
    agentId: a.agentId,
    agentChain: [...a.agentChain],
    chain: [...a.chain],
    requiredScope: a.requiredScope,
    action: a.action,
    ...(b.resource !== undefined ? { resource: b.resource } : {}),
    ...(b.purpose !== undefined ? { purpose: b.purpose } : {}),
    ...(b.recordCount !== undefined ? { recordCount: b.recordCount } : {}),
    contextFields: { ...a.contextFields },
    requestDigest: a.requestDigest,
    digest,
  };
}

/** Anything that can read an approval (an IssuerClient, or a test double). */
export interface ApprovalReader {
  getApproval(req: { tenant?: string; approvalId?: string }, opts?: CallOptions): Promise<GetApprovalResponse__Output>;
}

export interface WaitForApprovalOptions {
  /** Tenant of the approval (default: the client's default tenant). */
  tenant?: string;
  /** How often to ask (default 1 s). */
  pollIntervalMs?: number;
  /** Give up after this long (default 15 min; the server expires requests on its own too). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called on every poll while still pending. */
  onPending?: (approval: Approval__Output) => void;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls the issuer until the approval is APPROVED (resolves with it), or REJECTED, EXPIRED_UNUSED
 * or CONSUMED (throws ApprovalNotGrantedError), or the timeout passes (throws too).
 */
export async function waitForApproval(
  issuer: ApprovalReader,
  approvalId: string,
  opts: WaitForApprovalOptions = {},
): Promise<Approval__Output> {
  const interval = opts.pollIntervalMs ?? 1000;
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  for (;;) {
    const req: { tenant?: string; approvalId: string } = { approvalId };
    if (opts.tenant !== undefined) req.tenant = opts.tenant;
    const { approval } = await issuer.getApproval(req, opts.signal ? { signal: opts.signal } : {});
    if (approval === null)
      throw new ApprovalNotGrantedError(approvalId, 'UNKNOWN', `approval ${approvalId} was not found`);
    switch (approval.status) {
      case 'APPROVED':
        return approval;
      case 'PENDING':
        opts.onPending?.(approval);
        break;
      default:
        throw new ApprovalNotGrantedError(
          approvalId,
          approval.status,
          `approval ${approvalId} is ${approval.status}${approval.decidedBy ? ` (by ${approval.decidedBy})` : ''}`,
        );
    }
    if (Date.now() + interval > deadline) {
      throw new ApprovalNotGrantedError(
        approvalId,
        'PENDING',
        `approval ${approvalId} is still pending after ${opts.timeoutMs ?? 15 * 60_000} ms`,
      );
    }
    await delay(interval, opts.signal);
  }
}

export interface RunWithApprovalOptions extends WaitForApprovalOptions {
  issuer: ApprovalReader;
  /** Called once when the call turned out to need an approval (e.g. to notify a human). */
  onApprovalRequired?: (err: ApprovalRequiredError) => void;
}

/**
 * Calls an enforced tool; if it needs an approval, waits for a human to approve the request and
 * calls it again presenting the approval id (once). Any other deny, a rejection or an expiry throws.
 */
export async function runWithApproval<A extends unknown[], R>(
  tool: EnforcedTool<A, R>,
  args: A,
  opts: RunWithApprovalOptions,
): Promise<Awaited<R>> {
  try {
    return await tool(...args);
  } catch (err) {
    if (!(err instanceof ApprovalRequiredError)) throw err;
    opts.onApprovalRequired?.(err);
    await waitForApproval(opts.issuer, err.approvalRequestId, opts);
    return tool.withApproval(err.approvalRequestId)(...args);
  }
}

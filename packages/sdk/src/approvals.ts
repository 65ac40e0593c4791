// Approvals: a call denied with APPROVAL_REQUIRED carries an approval request id. A human decides
// it (APPROVER credential, `authority approval approve <id>`), then the caller presents the id with
// the same call, once. These helpers wait for the decision and retry.
import type { Approval__Output, GetApprovalResponse__Output } from '@authority/proto';
import { ApprovalNotGrantedError, ApprovalRequiredError } from './errors';
import type { EnforcedTool } from './enforced';
import type { CallOptions } from './transport';

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

// The issuer's replayed state: revocations (Delegate refuses a revoked parent) and policies (Mint
// and Delegate are bounded by the tenant's policy), rebuilt from the compacted topics at start by
// @authority/views. Keys are not followed: the issuer's own MongoDB is their system of record.
import type { EventBus, Logger } from '@authority/platform';
import { startStateViews, type PolicyView, type RevocationView } from '@authority/views';

export interface IssuerViews {
  revocations: RevocationView;
  policies: PolicyView;
  /** Resolves once both topics are replayed to the high-water mark captured at start. */
  caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  stop(): Promise<void>;
}

export async function startIssuerViews(bus: EventBus, topicPrefix: string, logger: Logger): Promise<IssuerViews> {
  const views = await startStateViews({
    bus,
    topicPrefix,
    logger,
    follow: { keys: false, revocations: true, policies: true },
  });
  return {
    revocations: views.revocations,
    policies: views.policies,
    caughtUp: views.caughtUp,
    isCaughtUp: () => views.isCaughtUp(),
    stop: () => views.stop(),
  };
}

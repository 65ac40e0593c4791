// The enforcer's state (keys, credentials, revocations, policies) rebuilt from the compacted Kafka
// topics, with the freshness monitor attached to the consumer that carries the revocation feed.
import type { KafkaEventBus, Logger } from '@authority/platform';
import { startStateViews, type StateViews } from '@authority/views';
import type { FreshnessMonitor } from '../freshness';

export interface EnforcerState {
  views: StateViews;
  /** Resolves when every state topic was replayed to the high-water mark seen at start. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export async function startEnforcerState(opts: {
  bus: KafkaEventBus;
  topicPrefix: string;
  freshness: FreshnessMonitor;
  logger: Logger;
}): Promise<EnforcerState> {
  const views = await startStateViews({ bus: opts.bus, topicPrefix: opts.topicPrefix, logger: opts.logger });
  opts.freshness.follow(views);
  const caughtUp = views.caughtUp.then(() => opts.freshness.markCaughtUp());
  caughtUp.catch(() => undefined); // observed by startEnforcer
  return {
    views,
    caughtUp,
    stop: async () => {
      opts.freshness.setState('stopped');
      await views.stop();
    },
  };
}

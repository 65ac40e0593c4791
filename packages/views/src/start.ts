// startStateViews: replays the compacted state topics into the views from the beginning, resolves
// `caughtUp` at the high-water mark captured at start, and keeps applying new records after that.
import { parseRecordKey } from '@authority/core';
import { decodeEvent, pb } from '@authority/proto';
import { topics as topicNames, type ConsumedMessage, type EventBus, type Logger } from '@authority/platform';
import { KeyDirectory } from './key-directory';
import { PolicyView } from './policy-view';
import { RevocationView } from './revocation-view';

export interface StateViewsOptions {
  bus: EventBus;
  topicPrefix: string;
  logger: Logger;
  /** Which topics to follow (default: all three). */
  follow?: { keys?: boolean; revocations?: boolean; policies?: boolean };
}

export interface StateViews {
  keys: KeyDirectory;
  revocations: RevocationView;
  policies: PolicyView;
  /** Resolves once every followed partition reached its high-water mark captured at start. */
  caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  /** When the consumer's last fetch returned (ms epoch); undefined before the first. */
  lastFetchAt(): number | undefined;
  stop(): Promise<void>;
}

export async function startStateViews(opts: StateViewsOptions): Promise<StateViews> {
  const t = topicNames(opts.topicPrefix);
  const follow = { keys: true, revocations: true, policies: true, ...opts.follow };
  const keys = new KeyDirectory();
  const revocations = new RevocationView();
  const policies = new PolicyView();
  // Versions are parsed lazily (newest first): an invalid one found then is reported here.
  policies.onInvalid((problem) => opts.logger.error({ topic: t.policies }, problem));
  const followed = [
    ...(follow.keys ? [t.keys] : []),
    ...(follow.revocations ? [t.revocations] : []),
    ...(follow.policies ? [t.policies] : []),
  ];

  const apply = (m: ConsumedMessage): void => {
    const recordKey = m.key?.toString('utf8') ?? '';
    try {
      if (m.topic === t.keys) {
        if (m.value === null) keys.applyTombstone(recordKey);
        else if (parseRecordKey(recordKey)?.kind === 'credential')
          keys.applyCredential(decodeEvent(pb.CredentialEventSchema, m.value));
        else keys.applyKey(decodeEvent(pb.KeyEventSchema, m.value));
      } else if (m.topic === t.revocations) {
        if (m.value === null) revocations.applyTombstone(recordKey);
        else revocations.apply(decodeEvent(pb.RevocationEventSchema, m.value));
      } else if (m.topic === t.policies && m.value !== null) {
        const problem = policies.apply(decodeEvent(pb.PolicyVersionEventSchema, m.value));
        if (problem) opts.logger.error({ topic: m.topic, offset: m.offset }, problem);
      }
    } catch (err) {
      // A record we cannot read is skipped loudly; it never grants anything (keys and credentials
      // only add authority when they parse, revocations are re-published by the issuer on repair).
      opts.logger.error(
        { err, topic: m.topic, partition: m.partition, offset: m.offset },
        'unreadable state record skipped',
      );
    }
  };

  const handle = await opts.bus.catchUp({ topics: followed }, apply);
  return {
    keys,
    revocations,
    policies,
    caughtUp: handle.caughtUp,
    isCaughtUp: () => handle.isCaughtUp(),
    lastFetchAt: () => handle.lastFetchAt(),
    stop: () => handle.disconnect(),
  };
}

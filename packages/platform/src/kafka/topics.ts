// Topic names, their specs, and idempotent topic creation.
import type { Admin } from 'kafkajs';
import { type Logger } from '../logger';

export interface AuthorityTopics {
  keys: string;
  policies: string;
  revocations: string;
  audit: string;
  checkpoints: string;
  /** What the auditor chained (ChainRecord per entry), for subscribers. */
  chain: string;
}

/** The topic names under a prefix (default `authority.`). */
export function topics(prefix = 'authority.'): AuthorityTopics {
  return {
    keys: `${prefix}keys`,
    policies: `${prefix}policies`,
    revocations: `${prefix}revocations`,
    audit: `${prefix}audit`,
    checkpoints: `${prefix}checkpoints`,
    chain: `${prefix}chain`,
  };
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** `cleanup.policy=compact` (state topics: keys, policies, revocations). */
  compacted: boolean;
  /** Default: the broker's default (-1). */
  replicationFactor?: number;
  /** Extra topic configs, e.g. `{ 'retention.ms': '-1' }`. */
  config?: Record<string, string>;
}

/** The specs of all Authority topics: keys/policies/revocations compacted; audit/checkpoints/chain not. */
export function authorityTopicSpecs(
  prefix = 'authority.',
  opts: { partitions?: number; replicationFactor?: number } = {},
): TopicSpec[] {
  const t = topics(prefix);
  const partitions = opts.partitions ?? 3;
  const rf = opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {};
  return [
    { topic: t.keys, partitions, compacted: true, ...rf },
    { topic: t.policies, partitions, compacted: true, ...rf },
    { topic: t.revocations, partitions, compacted: true, ...rf },
    { topic: t.audit, partitions, compacted: false, ...rf },
    { topic: t.checkpoints, partitions, compacted: false, ...rf },
    { topic: t.chain, partitions, compacted: false, ...rf },
  ];
}

/**
 * Creates the topics that do not exist yet (idempotent, safe to race with another instance);
 * warns when an existing topic's partition count differs from the spec.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[], logger?: Logger): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: Object.entries({ 'cleanup.policy': s.compacted ? 'compact' : 'delete', ...s.config }).map(
            ([name, value]) => ({ name, value }),
          ),
        })),
      });
    } catch (err) {
      // Another instance may have created some of them between listTopics and createTopics.
      const after = new Set(await admin.listTopics());
      if (!missing.every((s) => after.has(s.topic))) throw err;
    }
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length > 0 && logger) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    for (const t of meta.topics) {
      const spec = present.find((s) => s.topic === t.name);
      if (spec && t.partitions.length !== spec.partitions) {
        logger.warn(
          { topic: t.name, partitions: t.partitions.length, expected: spec.partitions },
          'topic partition count differs from spec',
        );
      }
    }
  }
  if (missing.length > 0) logger?.info({ topics: missing.map((s) => s.topic) }, 'created Kafka topics');
  return missing.map((s) => s.topic);
}

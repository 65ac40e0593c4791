// The Kafka cluster as the fault-injection suite sees it, through the admin API: each topic's
// replication and ISR, the partition a tenant's events go to, the auditors' partition assignment
// and how far their consumer group is behind.
import { AssignerProtocol, Partitioners, type Admin, type PartitionMetadata } from 'kafkajs';

/** The topics whose replication the suite asserts (the services create them at start). */
export function authorityTopics(prefix = 'authority.'): string[] {
  return ['keys', 'policies', 'revocations', 'audit', 'checkpoints'].map((t) => `${prefix}${t}`);
}

export interface TopicReplication {
  topic: string;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
  minInsyncReplicas: string;
}

export async function topicReplication(admin: Admin, topics: readonly string[]): Promise<TopicReplication[]> {
  const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['min.insync.replicas'] })),
  });
  return meta.topics.map((t) => ({
    topic: t.name,
    partitions: t.partitions
      .map((p: PartitionMetadata) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
      .sort((a, b) => a.partition - b.partition),
    minInsyncReplicas:
      configs.resources
        .find((r) => r.resourceName === t.name)
        ?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? '',
  }));
}

/** Undefined while a partition of the topics (or of the consumer offsets) misses a replica in its ISR. */
export async function isrComplete(admin: Admin, topics: readonly string[]): Promise<true | undefined> {
  const all = await topicReplication(admin, [...topics, '__consumer_offsets']);
  return all.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length))
    ? true
    : undefined;
}

/** The audit partition a tenant's events go to (the producers' default partitioner on key = tenant). */
export function partitionOf(
  tenant: string,
  topic: string,
  partitions: readonly { partition: number; leader: number }[],
): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic,
    partitionMetadata: partitions.map((p) => ({
      partitionId: p.partition,
      leader: p.leader,
      partitionErrorCode: 0,
      replicas: [],
      isr: [],
    })),
    message: { key: tenant, value: null },
  });
}

/** Audit partitions each auditor replica owns now (by Kafka client id = service name). */
export async function auditorAssignment(admin: Admin, groupId: string, topic: string): Promise<Map<string, number[]>> {
  const { groups } = await admin.describeGroups([groupId]);
  const out = new Map<string, number[]>();
  for (const m of groups[0]?.members ?? []) {
    const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    out.set(m.clientId, [...(out.get(m.clientId) ?? []), ...(decoded?.assignment[topic] ?? [])]);
  }
  return out;
}

/** Audit records not yet committed by the auditors' group, by partition (high-water mark minus committed offset). */
export async function uncommitted(admin: Admin, groupId: string, topic: string): Promise<Record<number, number>> {
  const [high, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  const out: Record<number, number> = {};
  for (const p of high) {
    const c = at.get(p.partition) ?? -1n;
    out[p.partition] = Number(BigInt(p.high) - (c < 0n ? BigInt(p.low) : c));
  }
  return out;
}

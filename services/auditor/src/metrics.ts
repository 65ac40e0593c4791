// The auditor's metrics (OpenTelemetry, observed at each collection from what this replica holds in
// memory, no database query):
//
//   authority.audit.chain.length        {entry}  entries in the tenant's chain (its head seq)
//   authority.audit.checkpoint.age      s        since the tenant's newest checkpoint was signed
//   authority.audit.checkpoint.pending  {entry}  entries appended after that checkpoint
//
// each with the attribute `authority.tenant`, for the tenants whose chains this replica appends to
// (a tenant's events all go to one partition, so one replica at a time). A tenant that has no
// checkpoint yet reports no age; its pending count still grows. Consumer lag comes from platform
// (KafkaEventBus.observeConsumerLag). And one counter:
//
//   authority.auditor.quarantined       {record} audit records quarantined instead of chained, by
//                                                 `reason` (the quarantine code); in Prometheus
//                                                 authority_auditor_quarantined_total{reason}
import { METRIC_NAMES, observeBatch } from '@authority/platform';
import type { Meter } from '@opentelemetry/api';
import type { ChainAppender } from './appender';
import type { RejectedDoc } from './adapters/mongo';

/** The quarantine counter on `meter`: call it with each newly quarantined record. */
export function quarantineCounter(meter: Meter): (doc: Pick<RejectedDoc, 'code'>) => void {
  const counter = meter.createCounter(METRIC_NAMES.auditorQuarantined, {
    description: 'Audit records quarantined instead of chained (unsigned, badly signed, unknown key, …), by reason',
    unit: '{record}',
  });
  return (doc) => counter.add(1, { reason: doc.code });
}

/** Registers the chain gauges on `meter`; returns a function that unregisters them. */
export function observeChains(meter: Meter, appender: Pick<ChainAppender, 'knownStates'>, now: () => Date): () => void {
  return observeBatch(
    meter,
    {
      length: {
        name: METRIC_NAMES.chainLength,
        description: "Entries in the tenant's audit chain (the seq of its head)",
        unit: '{entry}',
      },
      age: {
        name: METRIC_NAMES.checkpointAge,
        description: "Seconds since the tenant's newest signed checkpoint",
        unit: 's',
      },
      pending: {
        name: METRIC_NAMES.checkpointPending,
        description: "Entries appended after the tenant's newest checkpoint",
        unit: '{entry}',
      },
    },
    (record) => {
      const nowSec = now().getTime() / 1000;
      for (const s of appender.knownStates()) {
        const attributes = { 'authority.tenant': s.tenant };
        record('length', s.head.seq, attributes);
        record('pending', Math.max(0, s.head.seq - s.lastCheckpointSeq), attributes);
        if (s.lastCheckpointTime !== undefined) record('age', Math.max(0, nowSec - s.lastCheckpointTime), attributes);
      }
    },
  );
}

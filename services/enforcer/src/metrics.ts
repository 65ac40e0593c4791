// The enforcer's metrics (names from platform's METRIC_NAMES, documented in docs/operations.md):
// decisions by result and reason, check latency, the age of the revocation feed, and the size of
// the link memo and of the replay cache.
import type { LinkMemo, ReplayCache } from '@authority/core';
import { getMeter, METRIC_NAMES, observeBatch } from '@authority/platform';
import type { Attributes } from '@opentelemetry/api';
import type { FreshnessMonitor } from './freshness';

export interface DecisionLike {
  decision?: unknown;
  reason?: unknown;
}

export interface EnforcerMetrics {
  /** Counts each decision and records the call's duration (ms since `startedAt`, performance.now()). */
  record(results: readonly DecisionLike[], startedAt: number, method: 'Check' | 'BatchCheck'): void;
}

/** Take it after startTelemetry (instruments made before a provider is installed stay no-ops). */
export function createEnforcerMetrics(freshness: Pick<FreshnessMonitor, 'snapshot'>): EnforcerMetrics {
  const meter = getMeter('@authority/enforcer');
  const decisions = meter.createCounter(METRIC_NAMES.enforcerDecisions, {
    description: 'Decisions of the enforcer, by decision (ALLOW/DENY) and reason code.',
    unit: '{decision}',
  });
  const duration = meter.createHistogram(METRIC_NAMES.enforcerCheckDuration, {
    description: 'Time to answer a Check or a BatchCheck, audit acknowledgement included.',
    unit: 'ms',
  });
  meter
    .createObservableGauge(METRIC_NAMES.enforcerRevocationStaleness, {
      description: 'Seconds since the revocation feed last completed a Kafka fetch.',
      unit: 's',
    })
    .addCallback((result) => {
      const { lastFetchAt } = freshness.snapshot();
      if (lastFetchAt > 0) result.observe(Math.max(0, Date.now() - lastFetchAt) / 1000);
    });
  // Attribute objects are shared per (decision, reason): the hot path allocates none.
  const attributes = new Map<string, Attributes>();
  const methods: Record<'Check' | 'BatchCheck', Attributes> = {
    Check: { method: 'Check' },
    BatchCheck: { method: 'BatchCheck' },
  };
  return {
    record(results, startedAt, method) {
      // One add per (decision, reason) of the call, not per decision: the SDK hashes the
      // attributes on every add, and a BatchCheck's decisions mostly share one pair.
      let runAttrs: Attributes | undefined;
      let run = 0;
      for (const r of results) {
        const key = `${String(r.decision)}/${String(r.reason)}`;
        let attrs = attributes.get(key);
        if (attrs === undefined)
          attributes.set(key, (attrs = { decision: String(r.decision), reason: String(r.reason) }));
        if (attrs === runAttrs) {
          run++;
          continue;
        }
        if (runAttrs !== undefined) decisions.add(run, runAttrs);
        runAttrs = attrs;
        run = 1;
      }
      if (runAttrs !== undefined) decisions.add(run, runAttrs);
      duration.record(performance.now() - startedAt, methods[method]);
    },
  };
}

/**
 * Observes the link memo (bytes charged, entries, evictions) and the replay cache (nonces held).
 * Take it after startTelemetry; returns a function that stops observing (on shutdown).
 */
export function observeCaches(
  memo: Pick<LinkMemo, 'bytes' | 'size' | 'stats'>,
  replay: Pick<ReplayCache, 'size'>,
): () => void {
  return observeBatch(
    getMeter('@authority/enforcer'),
    {
      memoBytes: {
        name: METRIC_NAMES.enforcerMemoBytes,
        description:
          'Bytes the link memo charges for its entries, shared values and text index (at most AUTHORITY_MEMO_BYTES).',
        unit: 'By',
      },
      memoEntries: {
        name: METRIC_NAMES.enforcerMemoEntries,
        description: 'Links held by the link memo.',
        unit: '{link}',
      },
      memoEvictions: {
        name: METRIC_NAMES.enforcerMemoEvictions,
        description: 'Links evicted from the memo to stay within its budget (a tenant over its share pays first).',
        unit: '{link}',
        counter: true,
      },
      replayEntries: {
        name: METRIC_NAMES.enforcerReplayEntries,
        description: 'Nonces of per-request proofs remembered (at most AUTHORITY_REPLAY_CACHE_SIZE).',
        unit: '{nonce}',
      },
    },
    (record) => {
      record('memoBytes', memo.bytes);
      record('memoEntries', memo.size);
      record('memoEvictions', memo.stats.evictions);
      record('replayEntries', replay.size);
    },
  );
}

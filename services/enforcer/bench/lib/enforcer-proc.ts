// Child process for the gRPC benchmarks: an enforcer configured from the environment (like main.ts,
// port 0), printing `{"port":N}` on stdout once serving; stops on SIGTERM or when stdin closes.
// A line "mem" on stdin: full GC, then one JSON line with this process's memory and state sizes.
// A line "eld": one JSON line with the serving thread's event-loop delay percentiles (1 ms
// resolution) and its garbage-collection pauses (count, total, longest, by kind) since the previous
// "eld", then it starts over: whether GC explains a latency tail.
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runEnforcerChild } from '../../test/child-main';
import { round } from './common';
import type { GcPauses } from './procs';

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
let gcByKind: Record<string, GcPauses> = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    const kind = GC_KINDS[e.detail?.kind ?? -1] ?? 'other';
    const g = (gcByKind[kind] ??= { count: 0, total_ms: 0, max_ms: 0, over_2ms: 0 });
    g.count++;
    g.total_ms += e.duration;
    g.max_ms = Math.max(g.max_ms, e.duration);
    if (e.duration > 2) g.over_2ms++;
  }
}).observe({ entryTypes: ['gc'] });

runEnforcerChild({
  serviceName: 'enforcer-bench',
  logService: 'enforcer-bench',
  commands: {
    eld: () => {
      const answer = {
        eld: {
          p50_ms: ms(eld.percentile(50)),
          p99_ms: ms(eld.percentile(99)),
          max_ms: ms(eld.max),
          mean_ms: ms(eld.mean),
          gc: Object.fromEntries(
            Object.entries(gcByKind).map(([k, g]) => [
              k,
              { ...g, total_ms: round(g.total_ms, 2), max_ms: round(g.max_ms, 2) },
            ]),
          ),
        },
      };
      eld.reset();
      gcByKind = {};
      return answer;
    },
    mem: (enforcer) => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (opts?: { type: 'major'; execution: 'sync' }) => void;
      gc();
      gc();
      const m = process.memoryUsage();
      return {
        mem: {
          rss: m.rss,
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          memo: enforcer.memo.size,
          memoBytes: enforcer.memo.bytes,
          revocations: enforcer.views.revocations.size,
          publisher: enforcer.producer?.stats ?? enforcer.bus.publisher.stats,
        },
      };
    },
  },
});

// Child process for the gRPC benchmarks: an enforcer configured from the environment (like main.ts,
// port 0), printing `{"port":N}` on stdout once serving; stops on SIGTERM or when stdin closes.
// A line "mem" on stdin: full GC, then one JSON line with this process's memory and state sizes.
// A line "eld": one JSON line with the serving thread's event-loop delay percentiles (1 ms
// resolution) since the previous "eld", then it starts over.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runEnforcerChild } from '../../test/child-main';

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

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
        },
      };
      eld.reset();
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

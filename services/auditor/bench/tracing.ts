// The cost of tracing on the publish path: platform's BatchingPublisher in a tight loop over a
// sender that acknowledges at once (no Kafka: only the publisher's own CPU is measured), with
//
//   off            no telemetry started (the OpenTelemetry API's no-op tracer)          = baseline
//   propagate      startTelemetry without OTEL_* (propagate-only), records carrying an unsampled
//                  traceparent (flags 00): what production runs with export off
//   propagate_root propagate-only, records without trace context (new root per record)
//   recorded       propagate-only, records carrying a SAMPLED traceparent (flags 01): spans are
//                  recorded (not exported), the worst case with export off
//
// Rounds alternate the modes so all see the same machine load; medians of messages per CPU-second
// of this process are reported (wall-clock rates too, for context). The
// publisher's own work per message is small, so the ratio is a pessimistic bound of what the
// spans add to a real publish (which also encodes and sends the record).
//
//   AUDITOR_BENCH_TRACING_MESSAGES  messages per round (default 200,000)
//   AUDITOR_BENCH_ROUNDS            rounds (default 7)
//
// A second line, auditor.produce_spans_kafka, does the same through KafkaEventBus.publish against
// the real broker (KAFKA_BROKERS; 600-byte audit events, acks=all): CPU per message of the whole
// publish path, modes off and propagate only.
//
//   AUDITOR_BENCH_TRACING_KAFKA_MESSAGES  messages per round (default 20,000)
import { randomBytes } from 'node:crypto';
import {
  authorityTopicSpecs,
  BatchingPublisher,
  cloudEventHeaders,
  createKafka,
  silentLogger,
  startTelemetry,
  type EventMessage,
  type Telemetry,
} from '@authority/platform';
import { benchEvent, benchRecord, envInt, note, report, round, runId } from './lib/common';

type Mode = 'off' | 'propagate' | 'propagate_root' | 'recorded';
const MODES: Mode[] = ['off', 'propagate', 'propagate_root', 'recorded'];
const BATCH = 100; // concurrent publish calls of one message each, per turn

function messages(n: number, mode: Mode): EventMessage[] {
  const traceId = randomBytes(16).toString('hex');
  return Array.from({ length: n }, (_, i) => {
    const headers: Record<string, string> = cloudEventHeaders({
      id: `e-${i}`,
      type: 'authority.audit.v1',
      source: 'bench',
      subject: 'acme',
      time: 0,
    });
    delete headers['traceparent'];
    if (mode === 'propagate' || mode === 'off')
      headers['traceparent'] = `00-${traceId}-${randomBytes(8).toString('hex')}-00`;
    if (mode === 'recorded') headers['traceparent'] = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    return { key: 'acme', value: '{"eventId":"x","tenant":"acme"}', headers };
  });
}

async function round1(mode: Mode, n: number): Promise<{ wall: number; cpu: number }> {
  let telemetry: Telemetry | undefined;
  if (mode !== 'off') telemetry = await startTelemetry({ serviceName: 'bench', env: {} });
  try {
    const msgs = messages(n, mode);
    let sent = 0;
    const pub = new BatchingPublisher(
      {
        sendBatch: async (b) => {
          for (const t of b.topicMessages ?? []) sent += t.messages.length;
          return [];
        },
      },
      { maxBatchMessages: 1000, timeoutMs: 0 },
    );
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i += BATCH) {
      const calls: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) calls.push(pub.publish('bench.audit', [msgs[j]!]));
      await Promise.all(calls);
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (sent !== n) throw new Error(`sent ${sent} of ${n}`);
    await pub.close();
    return { wall: n / seconds, cpu: n / ((used.user + used.system) / 1e6) };
  } finally {
    await telemetry?.shutdown();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const n = envInt('AUDITOR_BENCH_TRACING_MESSAGES', 200_000);
  const rounds = envInt('AUDITOR_BENCH_ROUNDS', 7);
  for (const m of MODES) await round1(m, Math.min(n, 20_000)); // warm-up
  const rates: Record<Mode, number[]> = { off: [], propagate: [], propagate_root: [], recorded: [] };
  const walls: Record<Mode, number[]> = { off: [], propagate: [], propagate_root: [], recorded: [] };
  for (let r = 0; r < rounds; r++) {
    for (const m of MODES) {
      const x = await round1(m, n);
      rates[m].push(x.cpu);
      walls[m].push(x.wall);
    }
    note(
      `round ${r + 1}/${rounds} (per CPU-second): ${MODES.map((m) => `${m} ${Math.round(rates[m][r]!)}/s`).join(', ')}`,
    );
  }
  const med = Object.fromEntries(MODES.map((m) => [m, Math.round(median(rates[m]))])) as Record<Mode, number>;
  report({
    name: 'auditor.produce_spans',
    messages: n,
    rounds,
    // Messages per CPU-second of this process (robust to other load on the machine), medians.
    messages_per_cpu_sec: med,
    messages_per_wall_sec: Object.fromEntries(MODES.map((m) => [m, Math.round(median(walls[m]))])),
    cpu_us_per_message: Object.fromEntries(MODES.map((m) => [m, round(1e6 / med[m], 2)])),
    baseline: { mode: 'off', messages_per_cpu_sec: med.off },
    ratio: round(med.propagate / med.off, 3),
    ratio_root: round(med.propagate_root / med.off, 3),
    ratio_recorded: round(med.recorded / med.off, 3),
  });
}

/** The whole publish path against the real broker: CPU per message, off vs propagate. */
async function kafkaRounds(): Promise<void> {
  const brokers = process.env['KAFKA_BROKERS'];
  if (!brokers) {
    note('KAFKA_BROKERS unset: skipping auditor.produce_spans_kafka');
    return;
  }
  const n = envInt('AUDITOR_BENCH_TRACING_KAFKA_MESSAGES', 20_000);
  const rounds = envInt('AUDITOR_BENCH_ROUNDS', 7);
  const prefix = `bench-${runId()}.`;
  const bus = createKafka({ brokers: brokers.split(','), clientId: 'bench-tracing', logger: silentLogger() });
  const topic = `${prefix}audit`;
  try {
    await bus.ensureTopics(authorityTopicSpecs(prefix).filter((t) => t.topic === topic));
    await bus.connectProducer();
    const traceId = randomBytes(16).toString('hex');
    const base = Date.now();
    const records = (): EventMessage[] =>
      Array.from({ length: n }, (_, i) => {
        const r = benchRecord(benchEvent('acme', i, base));
        const headers = { ...r.headers, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-00` };
        return { ...r, headers };
      });
    const one = async (mode: 'off' | 'propagate'): Promise<number> => {
      const telemetry = mode === 'propagate' ? await startTelemetry({ serviceName: 'bench', env: {} }) : undefined;
      try {
        const msgs = records();
        const cpu = process.cpuUsage();
        for (let i = 0; i < n; i += BATCH) {
          const calls: Promise<void>[] = [];
          for (let j = i; j < Math.min(n, i + BATCH); j++) calls.push(bus.publish(topic, [msgs[j]!]));
          await Promise.all(calls);
        }
        const used = process.cpuUsage(cpu);
        return n / ((used.user + used.system) / 1e6);
      } finally {
        await telemetry?.shutdown();
      }
    };
    await one('off');
    await one('propagate'); // warm-up
    const rates = { off: [] as number[], propagate: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      rates.off.push(await one('off'));
      rates.propagate.push(await one('propagate'));
      note(
        `kafka round ${r + 1}/${rounds}: off ${Math.round(rates.off[r]!)}/cpu-s, propagate ${Math.round(rates.propagate[r]!)}/cpu-s`,
      );
    }
    const off = median(rates.off);
    const propagate = median(rates.propagate);
    report({
      name: 'auditor.produce_spans_kafka',
      messages: n,
      rounds,
      messages_per_cpu_sec: { off: Math.round(off), propagate: Math.round(propagate) },
      cpu_us_per_message: { off: round(1e6 / off, 2), propagate: round(1e6 / propagate, 2) },
      baseline: { mode: 'off', messages_per_cpu_sec: Math.round(off) },
      ratio: round(propagate / off, 3),
    });
  } finally {
    await bus.withAdmin((admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
    await bus.disconnect();
  }
}

main()
  .then(kafkaRounds)
  .catch((err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });

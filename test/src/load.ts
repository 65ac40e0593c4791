// A bounded, open-loop load generator for enforcers: Check calls at a fixed rate for a fixed
// duration, spread round-robin over the targets, each call answered or failed on its own (a slow
// or dead enforcer never slows the schedule down: open loop), every answer recorded (decision id,
// ALLOW/DENY and reason, or the gRPC error). It stops by itself; `done` resolves once every call
// sent has been answered or has failed (each has a deadline). Used by the fault-injection suite
// and by benchmarks.
//
//   const run = startLoad({ targets: [stack.service('enforcer-1')], ratePerSecond: 200,
//                           durationMs: 30_000, checks: [{ tenant, credential, request, expect: 'ALLOW' }] });
//   ... inject a fault ...
//   const report = await run.done;   // report.answers, tally(report.answers)
//
// A target's address is read before every call, so a target whose published port changed (a
// restarted container) is followed: its channel is replaced when the address differs.
import * as grpc from '@grpc/grpc-js';
import { bearerMetadata } from '@authority/platform';
import { loadAuthorityProto, type CheckResponse__Output } from '@authority/proto';

/** Milliseconds since the epoch from the monotonic clock (never jumps with the wall clock). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface LoadTarget {
  readonly name: string;
  /** host:port to call now. */
  readonly address: string;
}

export interface LoadCheck {
  tenant: string;
  /** Bearer credential of the tenant's CHECKER. */
  credential: string;
  /** The CheckRequest (proto field names in camelCase). */
  request: { token: string; requiredScope: string; resource: string; [field: string]: unknown };
  /** What a healthy stack answers. */
  expect: 'ALLOW' | 'DENY';
}

export type Outcome = 'ALLOW' | 'DENY' | 'ERROR';

export interface LoadAnswer {
  /** Order in which the call was sent (0, 1, ...). */
  readonly seq: number;
  readonly target: string;
  readonly tenant: string;
  readonly expect: 'ALLOW' | 'DENY';
  /** now() when sent and when answered (or failed). */
  readonly sentAt: number;
  answeredAt: number;
  /** undefined while in flight. */
  outcome: Outcome | undefined;
  /** The DENY's (or ALLOW's) reason code; '' for errors. */
  reason: string;
  decisionId: string;
  /** The gRPC status name of a failed call (UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
  error: string;
}

export interface LoadOptions {
  targets: readonly LoadTarget[];
  /** Calls per second over all targets. */
  ratePerSecond: number;
  durationMs: number;
  /** Cycled: call n of a target uses checks[n % checks.length]. */
  checks: readonly LoadCheck[];
  /** Deadline of each call (default 15 s). */
  deadlineMs?: number;
  /**
   * Calls in flight beyond which a scheduled call is not sent but counted in `skipped`: bounds
   * the generator's memory when the targets stop answering (default 5000).
   */
  maxInFlight?: number;
  /** Sees every answer as it arrives (e.g. to note the first STALE_STATE). */
  onAnswer?: (answer: LoadAnswer) => void;
}

export interface LoadReport {
  startedAt: number;
  endedAt: number;
  answers: LoadAnswer[];
  /** Scheduled calls not sent because maxInFlight calls were outstanding. */
  skipped: number;
}

export interface LoadRun {
  readonly startedAt: number;
  /** Every call sent so far, in send order (in-flight ones have outcome undefined). */
  readonly answers: readonly LoadAnswer[];
  readonly done: Promise<LoadReport>;
  /** Ends the schedule early (calls in flight still complete). */
  stop(): void;
}

interface Channel {
  address: string;
  client: grpc.Client;
}

type CheckMethod = (
  req: object,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: CheckResponse__Output) => void,
) => grpc.ClientUnaryCall;

// Reconnect quickly after an outage: grpc-js backs off up to 120 s by default, which would be
// measured as the enforcer's recovery time.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k])) as Record<number, string>;

export function startLoad(opts: LoadOptions): LoadRun {
  if (opts.targets.length === 0) throw new Error('startLoad: no targets');
  if (opts.checks.length === 0) throw new Error('startLoad: no checks');
  if (!(opts.ratePerSecond > 0) || !(opts.durationMs > 0)) throw new Error('startLoad: rate and duration must be > 0');
  const Ctor = loadAuthorityProto().grpcObject.authority.v1.EnforcerService as unknown as new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options: grpc.ChannelOptions,
  ) => grpc.Client;
  const deadlineMs = opts.deadlineMs ?? 15_000;
  const maxInFlight = opts.maxInFlight ?? 5000;
  const channels = new Map<string, Channel>();
  const channel = (target: LoadTarget): grpc.Client => {
    const address = target.address;
    const current = channels.get(target.name);
    if (current !== undefined && current.address === address) return current.client;
    current?.client.close();
    const client = new Ctor(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    channels.set(target.name, { address, client });
    return client;
  };

  const answers: LoadAnswer[] = [];
  const startedAt = now();
  let sent = 0;
  let inFlight = 0;
  let skipped = 0;
  let ended = false;
  let endedAt = startedAt;
  let finish!: () => void;
  const drained = new Promise<void>((resolve) => (finish = resolve));

  const send = (seq: number): void => {
    const target = opts.targets[seq % opts.targets.length]!;
    const check = opts.checks[Math.floor(seq / opts.targets.length) % opts.checks.length]!;
    if (inFlight >= maxInFlight) {
      skipped++;
      return;
    }
    const answer: LoadAnswer = {
      seq,
      target: target.name,
      tenant: check.tenant,
      expect: check.expect,
      sentAt: now(),
      answeredAt: 0,
      outcome: undefined,
      reason: '',
      decisionId: '',
      error: '',
    };
    answers.push(answer);
    inFlight++;
    const md = bearerMetadata(check.credential);
    const client = channel(target) as unknown as { Check: CheckMethod };
    client.Check(check.request, md, { deadline: Date.now() + deadlineMs }, (err, res) => {
      answer.answeredAt = now();
      if (err !== null || res === undefined) {
        answer.outcome = 'ERROR';
        answer.error = err ? (STATUS_NAMES[err.code] ?? String(err.code)) : 'NO_RESPONSE';
      } else {
        answer.outcome = res.decision === 'ALLOW' ? 'ALLOW' : 'DENY';
        answer.reason = res.reason;
        answer.decisionId = res.decisionId;
      }
      inFlight--;
      opts.onAnswer?.(answer);
      if (ended && inFlight === 0) finish();
    });
  };

  const end = (): void => {
    if (ended) return;
    ended = true;
    endedAt = now();
    clearInterval(timer);
    if (inFlight === 0) finish();
  };
  // Open loop: every tick sends what the schedule says is due by now, whatever is outstanding.
  const timer = setInterval(() => {
    const elapsed = now() - startedAt;
    const due = Math.floor((Math.min(elapsed, opts.durationMs) * opts.ratePerSecond) / 1000);
    while (sent < due) send(sent++);
    if (elapsed >= opts.durationMs) end();
  }, 5);

  const done = drained.then(() => {
    for (const c of channels.values()) c.client.close();
    return { startedAt, endedAt, answers, skipped };
  });
  return { startedAt, answers, done, stop: end };
}

/** Counts of a set of answers, by what was expected and what came back. */
export interface Tally {
  sent: number;
  /** Expected ALLOW, got ALLOW. */
  allowed: number;
  /** Expected DENY, got DENY with any reason. */
  denied: number;
  /** Expected ALLOW, got a DENY (fail closed), by reason. */
  refused: Record<string, number>;
  /** Calls that failed (no decision), by gRPC status. */
  unanswered: Record<string, number>;
  /** Expected DENY, got ALLOW: must never happen. */
  wrongAllows: number;
  /** Still in flight. */
  pending: number;
}

export function tally(answers: Iterable<LoadAnswer>): Tally {
  const t: Tally = { sent: 0, allowed: 0, denied: 0, refused: {}, unanswered: {}, wrongAllows: 0, pending: 0 };
  for (const a of answers) {
    t.sent++;
    if (a.outcome === undefined) t.pending++;
    else if (a.outcome === 'ERROR') t.unanswered[a.error] = (t.unanswered[a.error] ?? 0) + 1;
    else if (a.expect === 'ALLOW' && a.outcome === 'ALLOW') t.allowed++;
    else if (a.expect === 'ALLOW') t.refused[a.reason] = (t.refused[a.reason] ?? 0) + 1;
    else if (a.outcome === 'ALLOW') t.wrongAllows++;
    else t.denied++;
  }
  return t;
}

/** Sum of a count map. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Whether the answer is a refusal or a failure of a call a healthy stack would have allowed. */
export function isRefusal(a: LoadAnswer): boolean {
  return a.expect === 'ALLOW' && a.outcome !== undefined && a.outcome !== 'ALLOW';
}

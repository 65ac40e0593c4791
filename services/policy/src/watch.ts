// WatchPolicies fan-out. MongoDB is the source of truth: each stream keeps a cursor (the next
// version it owes the client) and, whenever it is woken, reads the versions after its cursor in
// version order and sends them. Versions are contiguous per tenant (each one is inserted as
// `expected + 1` after `expected` exists), so "send from the cursor, in order" delivers each
// version exactly once and in order: first the backlog, then live ones.
// Wake-ups come from local commits, from the policies topic (commits of other replicas), and
// from a slow poll that bounds the delay should a wake-up be missed.
import type { Logger } from '@authority/platform';
import type { PolicyStore, PolicyVersionDoc } from './adapters/mongo';

const BATCH = 100;

export interface WatchSink {
  /** Sends one version; resolves when the stream can take more (backpressure). */
  send(doc: PolicyVersionDoc): Promise<void>;
}

class Subscription {
  /** Next version owed to the client. */
  next: number;
  private running: Promise<void> | undefined;
  private again = false;
  closed = false;
  failure: unknown;

  constructor(
    readonly tenant: string,
    afterVersion: number,
    private readonly store: PolicyStore,
    private readonly sink: WatchSink,
    private readonly onFailure: (err: unknown) => void,
  ) {
    this.next = afterVersion + 1;
  }

  /** Reads and sends everything after the cursor; coalesces concurrent wake-ups. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump()
      .catch((err: unknown) => {
        this.closed = true;
        this.failure = err;
        this.onFailure(err);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      this.again = false;
      const docs = await this.store.listAfter(this.tenant, this.next - 1, BATCH);
      for (const doc of docs) {
        if (this.closed) return;
        // Contiguity guard: never skip a version (and never repeat one).
        if (doc.version !== this.next) return;
        await this.sink.send(doc);
        this.next = doc.version + 1;
      }
      if (docs.length < BATCH) return;
    }
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

export interface WatchHubOptions {
  store: PolicyStore;
  logger: Logger;
  /** Poll period of the safety net, ms (0 disables it). */
  pollIntervalMs: number;
  maxWatchers: number;
}

export class WatchHub {
  private readonly byTenant = new Map<string, Set<Subscription>>();
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(private readonly opts: WatchHubOptions) {
    if (opts.pollIntervalMs > 0) {
      this.timer = setInterval(() => this.wakeAll(), opts.pollIntervalMs);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.opts.maxWatchers;
  }

  /**
   * Streams every version of `tenant` after `afterVersion` to `sink` until `signal` aborts or the
   * sink fails. Resolves when the stream is over; rejects with the sink's or the store's error.
   */
  async watch(tenant: string, afterVersion: number, sink: WatchSink, signal: AbortSignal): Promise<void> {
    let rejectFailure!: (err: unknown) => void;
    const failed = new Promise<never>((_, reject) => (rejectFailure = reject));
    failed.catch(() => undefined); // observed by the race below; never an unhandled rejection
    const sub = new Subscription(tenant, afterVersion, this.opts.store, sink, (err) => rejectFailure(err));
    let set = this.byTenant.get(tenant);
    if (!set) this.byTenant.set(tenant, (set = new Set()));
    set.add(sub);
    this.count++;
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      sub.wake();
      await Promise.race([aborted, failed]);
    } finally {
      sub.closed = true;
      set.delete(sub);
      if (set.size === 0) this.byTenant.delete(tenant);
      this.count--;
      await sub.idle();
    }
  }

  /** A version of `tenant` was committed (here or elsewhere): every stream of it reads on. */
  notify(tenant: string): void {
    for (const sub of this.byTenant.get(tenant) ?? []) sub.wake();
  }

  private wakeAll(): void {
    for (const tenant of this.byTenant.keys()) this.notify(tenant);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

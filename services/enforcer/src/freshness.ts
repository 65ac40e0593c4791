// Freshness of the revocation feed, evaluated on every check (fail closed).
//
// "Stale" means exactly one of:
//   1. the state views have not yet replayed keys, credentials, revocations and policies up to the
//      high-water mark they saw at start (start-up replay not finished);
//   2. the revocation consumer is not running: it crashed, was stopped, or disconnected, and has
//      not completed a fetch since;
//   3. the revocation consumer's last COMPLETED fetch (the consumer handle's `fetch` event,
//      emitted after every fetch response, including empty long-poll responses, which
//      come back at least every `maxWaitTimeInMs`, 5 s by default; platform's consumer handle
//      records its time as `lastFetchAt()`) is older than AUTHORITY_MAX_STALENESS.
// Case 2 is known at once when the consumer's lifecycle events are attached (attach(consumer));
// otherwise (the views expose only lastFetchAt) a crashed or disconnected consumer is caught by
// case 3 within the bound, and stopping the views marks the feed stopped at once.
// A fetch that completed proves the broker answered recently for the partitions we read, so any
// revocation published before that answer was (or is being) applied. While stale, every check
// answers DENY STALE_STATE; the gRPC health status also turns NOT_SERVING.
import type { ConsumerHandle } from '@authority/platform';

export type FeedState = 'starting' | 'running' | 'crashed' | 'stopped' | 'disconnected';

export interface FreshnessSnapshot {
  state: FeedState;
  caughtUp: boolean;
  /** ms since the epoch of the last completed fetch (0: never). */
  lastFetchAt: number;
}

/** The part of a consumer handle (the EventBus port) the monitor follows. */
export type InstrumentedConsumer = Pick<ConsumerHandle, 'on'>;

/** What the state views tell about their consumer (platform's catch-up handle). */
export interface FeedSource {
  isCaughtUp(): boolean;
  /** ms epoch of the last completed fetch; undefined before the first. */
  lastFetchAt(): number | undefined;
}

export class FreshnessMonitor {
  private state: FeedState = 'starting';
  private source: FeedSource | undefined;
  private caughtUp = false;
  private lastFetchAt = 0;
  private readonly removers: (() => void)[] = [];
  private readonly listeners = new Set<(stale: boolean) => void>();
  private lastReported: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxStalenessMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Follows a consumer's lifecycle events. */
  attach(consumer: InstrumentedConsumer): void {
    this.removers.push(
      consumer.on('fetch', () => this.fetched()),
      consumer.on('crash', () => this.setState('crashed')),
      consumer.on('stop', () => this.setState('stopped')),
      consumer.on('disconnect', () => this.setState('disconnected')),
    );
  }

  /** Follows the views' consumer by polling its last-fetch time on every check (cheap). */
  follow(source: FeedSource): void {
    this.source = source;
  }

  /** Records a completed fetch (also usable by adapters that track fetches differently). */
  fetched(at: number = this.clock()): void {
    this.lastFetchAt = at;
    this.state = 'running';
    this.report();
  }

  setState(state: FeedState): void {
    this.state = state;
    this.report();
  }

  markCaughtUp(): void {
    this.caughtUp = true;
    if (this.lastFetchAt === 0) this.lastFetchAt = this.clock();
    if (this.state === 'starting') this.state = 'running';
    this.report();
  }

  /** Why the state is stale, or undefined when it is fresh. Cheap: called on every check. */
  staleReason(now: number = this.clock()): string | undefined {
    if (this.state === 'stopped') return 'revocation feed is stopped';
    if (!this.caughtUp) {
      if (this.source === undefined || !this.source.isCaughtUp()) {
        return 'state is still being rebuilt from Kafka (not caught up to the high-water mark)';
      }
      this.markCaughtUp();
    }
    if (this.state !== 'running') return `revocation feed is ${this.state}`;
    const polled = this.source?.lastFetchAt();
    if (polled !== undefined && polled > this.lastFetchAt) this.lastFetchAt = polled;
    const age = now - this.lastFetchAt;
    if (age > this.maxStalenessMs) {
      return `revocation feed has not completed a fetch for ${age} ms (bound ${this.maxStalenessMs} ms)`;
    }
    return undefined;
  }

  snapshot(): FreshnessSnapshot {
    if (!this.caughtUp && this.source?.isCaughtUp() === true) this.markCaughtUp();
    return {
      state: this.state,
      caughtUp: this.caughtUp,
      lastFetchAt: Math.max(this.lastFetchAt, this.source?.lastFetchAt() ?? 0),
    };
  }

  /**
   * Calls `listener(stale)` whenever staleness changes (checked on events and on a timer every
   * `intervalMs`), e.g. to flip the gRPC health status.
   */
  onChange(
    listener: (stale: boolean) => void,
    intervalMs = Math.max(100, Math.min(1000, Math.floor(this.maxStalenessMs / 4))),
  ): void {
    this.listeners.add(listener);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.report(), intervalMs);
      this.timer.unref();
    }
    this.report(true);
  }

  private report(force = false): void {
    if (this.listeners.size === 0) return;
    const stale = this.staleReason() !== undefined;
    if (!force && stale === this.lastReported) return;
    this.lastReported = stale;
    for (const l of this.listeners) l(stale);
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const remove of this.removers.splice(0)) remove();
    this.listeners.clear();
  }
}

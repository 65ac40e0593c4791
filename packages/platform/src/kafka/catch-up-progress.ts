// catchUp's progress towards the high-water marks captured at its start, shared by the adapters:
// caught up = every record that existed at start was applied.

export class CatchUpProgress {
  /** Resolves once every partition reached its target; rejects if the consumer crashed for good first. */
  readonly caughtUp: Promise<void>;
  private readonly remaining: Map<string, string>;
  private caught: boolean;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  /** `targets`: `topic:partition` → the high-water mark at start (partitions with records only). */
  constructor(readonly targets: ReadonlyMap<string, string>) {
    this.remaining = new Map(targets);
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.caughtUp.catch(() => undefined); // observed by the caller; avoid an unhandled rejection
    this.caught = this.remaining.size === 0;
    if (this.caught) this.resolve();
  }

  isCaughtUp(): boolean {
    return this.caught;
  }

  /** Everything of the partition up to `lastOffset` was processed. */
  processed(topic: string, partition: number, lastOffset: string): void {
    if (this.caught) return;
    const key = `${topic}:${partition}`;
    const target = this.remaining.get(key);
    if (target !== undefined && BigInt(lastOffset) + 1n >= BigInt(target)) this.remaining.delete(key);
    if (this.remaining.size === 0) {
      this.caught = true;
      this.resolve();
    }
  }

  /** The consumer crashed for good: caughtUp rejects unless it already resolved. */
  crashed(err: unknown): void {
    if (!this.caught) this.reject(err);
  }
}

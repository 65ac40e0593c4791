// Retries a Kafka operation on errors Kafka itself calls retriable (a leader moved, a broker is
// restarting, a request timed out), with capped exponential backoff and jitter. kafkajs retries
// inside one client call, but some errors (NOT_LEADER_OR_FOLLOWER from fetchTopicOffsets during a
// leader change) surface because its metadata is stale: the caller's `attempt` must start from a
// fresh client or refreshed metadata, which is why the whole operation is retried here.

/** Error types kafkajs reports for conditions that clear up by themselves. */
const RETRIABLE_TYPES = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'REBALANCE_IN_PROGRESS',
]);

/** Error classes of kafkajs for a broker that could not be reached or answered too late. */
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSConnectionClosedError',
]);

/** True when `err` (or the error it wraps) is one Kafka says may succeed if retried. */
export function isRetriableKafkaError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const { retriable, type, name, cause, originalError } = e as {
      retriable?: unknown;
      type?: unknown;
      name?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (typeof type === 'string' && RETRIABLE_TYPES.has(type)) return true;
    if (typeof name === 'string' && RETRIABLE_NAMES.has(name)) return true;
    // kafkajs gives up after its own retries with KafkaJSNumberOfRetriesExceeded wrapping the last
    // error: that one decides. A plain `retriable: true` counts too.
    if (retriable === true && name !== 'KafkaJSNumberOfRetriesExceeded') return true;
    e = originalError ?? cause;
  }
  return false;
}

export interface KafkaRetryOptions {
  /** Attempts in all, the first included (default 8: about 10 s of backoff in the worst case). */
  attempts?: number;
  /** First backoff (default 100 ms); doubles per attempt up to maxDelayMs, with ±20 % jitter. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Told before each retry (log it). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying (rejects with the last error) once aborted. */
  signal?: AbortSignal;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Runs `attempt` until it succeeds, fails with a non-retriable error, or attempts run out. */
export async function retryKafka<T>(attempt: (n: number) => Promise<T>, opts: KafkaRetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 8);
  const initial = opts.initialDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 3_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= attempts || !isRetriableKafkaError(err) || opts.signal?.aborted === true) throw err;
      const base = Math.min(max, initial * 2 ** (n - 1));
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      opts.onRetry?.(err, n, delay);
      await sleep(delay);
    }
  }
}

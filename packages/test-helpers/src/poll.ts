// Polling with a deadline: the one way tests wait for asynchronous state.

export interface PollOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 50 ms. */
  intervalMs?: number;
}

function pollOptions(opts: number | PollOptions | undefined, intervalMs?: number): Required<PollOptions> {
  const o = typeof opts === 'number' ? { timeoutMs: opts, intervalMs } : (opts ?? {});
  return { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: o.intervalMs ?? 50 };
}

/**
 * Polls `check` until it returns a value other than undefined, or fails after the timeout. A
 * check that throws is retried; its last error is named in the failure. The options may also be
 * given positionally: `(check, what, timeoutMs, intervalMs)`.
 */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  opts?: number | PollOptions,
  interval?: number,
): Promise<T> {
  const { timeoutMs, intervalMs } = pollOptions(opts, interval);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Like eventually, for a condition that is met when truthy (returns the truthy value). */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  opts: PollOptions & { what?: string } = {},
): Promise<NonNullable<T>> {
  return eventually(
    async () => {
      const value = await condition();
      return value ? (value as NonNullable<T>) : undefined;
    },
    opts.what ?? 'condition',
    opts,
  );
}

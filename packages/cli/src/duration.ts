// Durations like `90s`, `5m`, `24h`, `7d`, `2w`, `1h30m`, `500ms`, or bare seconds (`300`), and
// points in time given either as a duration ago or as an ISO 8601 date/time.

import { parseDuration, parseDurationSeconds } from '@authority/core';

// One grammar for the CLI's flags and the policy's max_ttl: it lives in core.
export { parseDuration, parseDurationSeconds };

/** `1h30m`-style rendering of a number of seconds (for humans). */
export function formatDuration(seconds: number): string {
  let s = Math.round(Math.abs(seconds));
  if (s === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join('');
}

/** "in 5m" / "3h ago" relative to `nowSec`. */
export function relativeTime(atSec: number, nowSec: number): string {
  const d = atSec - nowSec;
  if (d === 0) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(d)} ago`;
}

/**
 * A point in time: a duration meaning "that long ago" (`24h`, `7d`), `now`, or an ISO 8601
 * date/time (`2025-01-31`, `2025-01-31T12:00:00Z`). Returns milliseconds since the epoch.
 */
export function parseTimePoint(text: string, nowMs: number): number {
  const s = String(text).trim();
  if (s.toLowerCase() === 'now') return nowMs;
  try {
    return nowMs - parseDuration(s);
  } catch {
    // not a duration
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw new RangeError(
    `invalid time ${JSON.stringify(text)}: use a duration ago (24h, 7d), 'now', or an ISO 8601 time (2025-01-31T12:00:00Z)`,
  );
}

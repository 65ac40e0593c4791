// Durations like `90s`, `5m`, `24h`, `7d`, `2w`, `1h30m`, `500ms`, or bare seconds (`300`), and
// points in time given either as a duration ago or as an ISO 8601 date/time.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+)(ms|s|m|h|d|w)/g;
const WHOLE = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
/** Refuse absurd values instead of overflowing (100 years). */
const MAX_MS = 100 * 365 * 86_400_000;

/** Milliseconds of a duration text; throws RangeError with the accepted forms. */
export function parseDuration(text: string): number {
  const s = String(text).trim().toLowerCase();
  const bad = () =>
    new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 90s, 5m, 24h, 7d, 1h30m or a number of seconds`);
  if (s === '') throw bad();
  let ms: number;
  if (/^\d+$/.test(s)) ms = Number(s) * 1000;
  else if (WHOLE.test(s)) {
    ms = 0;
    for (const m of s.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  } else throw bad();
  if (!Number.isSafeInteger(ms) || ms > MAX_MS) throw new RangeError(`duration ${JSON.stringify(text)} is too long`);
  return ms;
}

/** Whole seconds of a duration (e.g. a TTL); refuses fractions of a second. */
export function parseDurationSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms % 1000 !== 0) throw new RangeError(`duration ${JSON.stringify(text)} must be whole seconds`);
  return ms / 1000;
}

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

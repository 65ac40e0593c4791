// The one duration grammar of Authority (the CLI's flags and the policy's max_ttl): `90s`, `5m`,
// `24h`, `7d`, `2w`, `1h30m`, `500ms`, or bare seconds (`300`).

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

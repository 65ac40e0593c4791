// Output: human text by default, one JSON document with --json. Errors go to stderr (as JSON with
// --json). Progress lines only when stderr is a terminal and not in --json mode.
import type { Io } from './io';

/**
 * Converts proto-loader values to plain JSON: Buffers/Uint8Arrays to base64, Timestamps
 * ({seconds, nanos}) to ISO 8601 strings, oneof discriminators dropped.
 */
export function toJsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && 'seconds' in o && 'nanos' in o) {
      const ms = Number(o.seconds) * 1000 + Math.floor(Number(o.nanos) / 1e6);
      return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = toJsonValue(o[k]);
    return out;
  }
  return v;
}

/** ISO string of a proto Timestamp, or '' when unset. */
export function isoOf(t: { seconds?: string | number | null; nanos?: number | null } | null | undefined): string {
  if (!t || (Number(t.seconds ?? 0) === 0 && Number(t.nanos ?? 0) === 0)) return '';
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A line of human text (ignored in --json mode). */
  line(text = ''): void {
    if (!this.json) this.io.stdout(`${text}\n`);
  }

  /** The JSON document of a command (only in --json mode). */
  data(value: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(toJsonValue(value), null, 2)}\n`);
  }

  /** One JSON value per line (streams such as `audit tail -f` in --json mode). */
  jsonLine(value: unknown): void {
    this.io.stdout(`${JSON.stringify(toJsonValue(value))}\n`);
  }

  /** A note for humans on stderr (never in --json mode, never mixed into stdout data). */
  note(text: string): void {
    if (!this.json) this.io.stderr(`${text}\n`);
  }

  /** Progress, only on a terminal. Overwrites the line; call `progressDone` at the end. */
  progress(text: string): void {
    if (!this.json && this.io.stderrIsTTY) this.io.stderr(`\r\x1b[2K${text}`);
  }

  progressDone(): void {
    if (!this.json && this.io.stderrIsTTY) this.io.stderr('\r\x1b[2K');
  }

  /** A table with a header row; columns padded to their widest cell. */
  table(headers: string[], rows: string[][]): void {
    if (this.json) return;
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    this.io.stdout(`${fmt(headers)}\n`);
    for (const r of rows) this.io.stdout(`${fmt(r)}\n`);
  }

  /** Aligned `key: value` lines. */
  fields(pairs: [string, string | number | boolean | undefined][]): void {
    if (this.json) return;
    const shown = pairs.filter(([, v]) => v !== undefined && v !== '');
    const w = Math.max(0, ...shown.map(([k]) => k.length));
    for (const [k, v] of shown) this.io.stdout(`${`${k}:`.padEnd(w + 1)} ${String(v)}\n`);
  }
}

/** Truncates for table cells. */
export function cell(s: string | undefined, max = 48): string {
  const t = (s ?? '').replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

// Structured JSON logs (pino) behind a small app-level Logger interface, with secrets redacted
// and the active trace/span ids on every line.
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { LogLevel } from './config';

export type LogFields = Record<string, unknown>;

/**
 * What domain and service code log through. Pass errors as `{ err }` so they are serialised with
 * their stack. Never pass a whole envelope/token: log its `jti` (see `fingerprint` for keys).
 */
export interface Logger {
  trace(msg: string): void;
  trace(fields: LogFields, msg?: string): void;
  debug(msg: string): void;
  debug(fields: LogFields, msg?: string): void;
  info(msg: string): void;
  info(fields: LogFields, msg?: string): void;
  warn(msg: string): void;
  warn(fields: LogFields, msg?: string): void;
  error(msg: string): void;
  error(fields: LogFields, msg?: string): void;
  fatal(msg: string): void;
  fatal(fields: LogFields, msg?: string): void;
  child(bindings: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
  /** Flushes buffered output (call before process exit). */
  flush(): void;
}

/**
 * Paths whose values are replaced with `[redacted]`. Tokens/envelopes are bearer credentials, so
 * they are never logged whole (log the jti instead); key material and API keys never at all.
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'apiKey',
  'secret',
  'privateKey',
  'token',
  'envelope',
  'password',
  '*.authorization',
  '*.apiKey',
  '*.secret',
  '*.privateKey',
  '*.token',
  '*.envelope',
  '*.password',
  '*.*.authorization',
  '*.*.apiKey',
  '*.*.privateKey',
  '*.*.token',
];

export interface CreateLoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where lines go (default stdout). Tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
  /** Extra fields on every line (e.g. version). */
  base?: LogFields;
}

class PinoLogger implements Logger {
  constructor(readonly pino: pino.Logger) {}
  trace(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.trace(a);
    else this.pino.trace(a, msg);
  }
  debug(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.debug(a);
    else this.pino.debug(a, msg);
  }
  info(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.info(a);
    else this.pino.info(a, msg);
  }
  warn(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.warn(a);
    else this.pino.warn(a, msg);
  }
  error(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.error(a);
    else this.pino.error(a, msg);
  }
  fatal(a: LogFields | string, msg?: string): void {
    if (typeof a === 'string') this.pino.fatal(a);
    else this.pino.fatal(a, msg);
  }
  child(bindings: LogFields): Logger {
    return new PinoLogger(this.pino.child(bindings));
  }
  isLevelEnabled(level: LogLevel): boolean {
    return level !== 'silent' && this.pino.isLevelEnabled(level);
  }
  flush(): void {
    this.pino.flush();
  }
}

/** trace_id / span_id of the active span, when there is one (pino mixin). */
function traceFields(): LogFields {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/** A pino JSON logger: `{"level":"info","time":"…","service":"issuer","trace_id":…,"msg":…}`. */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    mixin: traceFields,
  };
  // Synchronous stdout by default: lines keep their order and none is lost when the process
  // exits right after a fatal log (pino's default async stream can reorder at exit).
  const p = pino(options, opts.destination ?? pino.destination({ dest: 1, sync: true }));
  return new PinoLogger(p);
}

/** A logger that drops everything (unit tests of code that requires one). */
export function silentLogger(): Logger {
  return createLogger({ service: 'silent', level: 'silent' });
}

/**
 * A short, stable, non-reversible reference to a credential (first 12 hex of SHA-256) so logs
 * can tell keys apart without containing them.
 */
export function fingerprint(credential: string | Uint8Array): string {
  return createHash('sha256').update(credential).digest('hex').slice(0, 12);
}

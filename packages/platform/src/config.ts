// Configuration from environment variables: one zod schema per service, parsed once at start,
// failing fast with every bad variable named.
import { statSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';

/** One problem with one environment variable. */
export interface ConfigIssue {
  variable: string;
  problem: string;
}

/** Thrown by loadConfig; its message lists every bad variable, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(['invalid configuration:', ...issues.map((i) => `  ${i.variable}: ${i.problem}`)].join('\n'));
  }
}

/**
 * A secret value (API key, password in a URI, key-encryption key). Printing, logging or
 * JSON-serialising it yields `[redacted]`; only `reveal()` returns the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** A post-parse check across several variables (e.g. TLS key without certificate). */
export type ConfigCheck = (config: Record<string, unknown>) => ConfigIssue[];

// ---------------------------------------------------------------------------------------------
// Field helpers. Each takes the raw env string and reports problems without echoing the value
// (the formatter appends `got "<value>"` unless the field is a secret).

type Ctx = { issues: unknown[] };
function bad(ctx: Ctx, input: string, message: string): never {
  (ctx.issues as { code: string; message: string; input: unknown }[]).push({ code: 'custom', message, input });
  return z.NEVER as never;
}

/** A TCP port: an integer 1-65535 (0-65535 with `allowEphemeral`, for tests binding port 0). */
export function port(opts: { allowEphemeral?: boolean } = {}) {
  const min = opts.allowEphemeral ? 0 : 1;
  return z.string().transform((s, ctx): number => {
    const t = s.trim();
    const n = /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(n) || n < min || n > 65535) return bad(ctx, s, `expected an integer ${min}-65535`);
    return n;
  });
}

/** An integer within bounds. */
export function integer(opts: { min?: number; max?: number } = {}) {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return z.string().transform((s, ctx): number => {
    const t = s.trim();
    const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      return bad(
        ctx,
        s,
        `expected an integer${opts.min !== undefined || opts.max !== undefined ? ` ${opts.min ?? ''}..${opts.max ?? ''}` : ''}`,
      );
    }
    return n;
  });
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `250ms`, `90s`, `5m`, `24h`, `7d` or a bare integer (milliseconds) into milliseconds;
 * undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2] ?? 'ms']!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration (see parseDuration) → milliseconds. */
export function duration() {
  return z.string().transform((s, ctx): number => {
    const ms = parseDuration(s);
    if (ms === undefined)
      return bad(ctx, s, 'expected a duration like 250ms, 90s, 5m, 24h, 7d or an integer of milliseconds');
    return ms;
  });
}

/** A comma-separated list, items trimmed, empty items dropped; at least `min` (default 1) items. */
export function csv(opts: { min?: number } = {}) {
  const min = opts.min ?? 1;
  return z.string().transform((s, ctx): string[] => {
    const items = s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    if (items.length < min) return bad(ctx, s, `expected a comma-separated list of at least ${min} item(s)`);
    return items;
  });
}

/** A boolean: true/false/1/0 (case-insensitive). */
export function bool() {
  return z.string().transform((s, ctx): boolean => {
    const t = s.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0') return false;
    return bad(ctx, s, 'expected true, false, 1 or 0');
  });
}

/** A non-empty string with surrounding whitespace removed. */
export function text() {
  return z.string().transform((s, ctx): string => {
    const t = s.trim();
    if (t === '') return bad(ctx, s, 'expected a non-empty value');
    return t;
  });
}

/** A secret string (never echoed in errors, logs or JSON): yields a `Secret`. */
export function secret() {
  return z
    .string()
    .transform((s, ctx): Secret => {
      if (s.trim() === '') return bad(ctx, s, 'expected a non-empty secret');
      return new Secret(s.trim());
    })
    .meta({ secret: true });
}

/** Shortest API key accepted anywhere (configured keys and AUTHORITY_API_KEYS entries). */
export const MIN_API_KEY_LENGTH = 16;

/** An API key given in configuration: a secret of at least MIN_API_KEY_LENGTH characters. */
export function apiKeySecret() {
  return secret().refine((s) => s.reveal().length >= MIN_API_KEY_LENGTH, {
    message: `expected an API key of at least ${MIN_API_KEY_LENGTH} characters`,
  });
}

/** A path to an existing, readable regular file (checked at start, so typos fail fast). */
export function filePath() {
  return z.string().transform((s, ctx): string => {
    const p = s.trim();
    let isFile = false;
    try {
      isFile = statSync(p).isFile();
    } catch {
      return bad(ctx, s, 'file not found');
    }
    if (!isFile) return bad(ctx, s, 'not a regular file');
    return p;
  });
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino log level. */
export function logLevel() {
  return z.string().transform((s, ctx): LogLevel => {
    const t = s.trim().toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(t)) return t as LogLevel;
    return bad(ctx, s, `expected one of ${LOG_LEVELS.join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Common schema. Services extend it: `serviceConfigSchema({...}).extend(mongoConfigShape)`.

/** Builds the variables every service reads, with the service's own name and port as defaults. */
export function serviceConfigSchema(defaults: { serviceName: string; grpcPort: number }) {
  return z.object({
    AUTHORITY_SERVICE_NAME: text()
      .prefault(defaults.serviceName)
      .describe('Service name used in logs, traces (service.name) and as the Kafka client id by default.'),
    AUTHORITY_GRPC_HOST: text().prefault('0.0.0.0').describe('Address the gRPC server binds to.'),
    AUTHORITY_GRPC_PORT: port().prefault(String(defaults.grpcPort)).describe('Port the gRPC server listens on.'),
    AUTHORITY_LOG_LEVEL: logLevel()
      .prefault('info')
      .describe(`Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines on stdout.`),
    AUTHORITY_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'expected only letters, digits, ".", "_" and "-"')
      .prefault('authority.')
      .describe('Prefix of the Kafka topic names (keys, policies, revocations, audit, checkpoints).'),
    KAFKA_BROKERS: csv().describe('Comma-separated Kafka bootstrap brokers, host:port.'),
    KAFKA_CLIENT_ID: text().optional().describe('Kafka client id. Defaults to AUTHORITY_SERVICE_NAME.'),
    AUTHORITY_SHUTDOWN_GRACE: duration()
      .prefault('10s')
      .describe('Deadline for graceful shutdown after SIGTERM (keep below terminationGracePeriodSeconds).'),
    AUTHORITY_TLS_CERT: filePath()
      .optional()
      .describe('PEM certificate chain of the gRPC server. When set (with AUTHORITY_TLS_KEY) the server uses TLS.'),
    AUTHORITY_TLS_KEY: filePath().optional().describe('PEM private key of the gRPC server certificate.'),
    AUTHORITY_TLS_CA: filePath()
      .optional()
      .describe('PEM CA bundle for client certificates. When set the server requires client certificates (mTLS).'),
    AUTHORITY_REFLECTION: bool().prefault('true').describe('Serve gRPC server reflection.'),
  });
}

/** The common variables with generic defaults (name `authority`, port 50051). */
export const commonConfigSchema = serviceConfigSchema({ serviceName: 'authority', grpcPort: 50051 });
export type CommonConfig = z.output<typeof commonConfigSchema>;

/** For services that use MongoDB (issuer, auditor): extend the common schema with this shape. */
export const mongoConfigShape = {
  MONGODB_URI: secret().describe(
    'MongoDB connection string (mongodb://...). Required by the services that use MongoDB (issuer, policy, auditor).',
  ),
};

/** TLS variables must come as a pair (certificate and key); a CA without them makes no sense. */
export const checkTlsSettings: ConfigCheck = (config) => {
  const cert = config['AUTHORITY_TLS_CERT'];
  const key = config['AUTHORITY_TLS_KEY'];
  const ca = config['AUTHORITY_TLS_CA'];
  const issues: ConfigIssue[] = [];
  if (cert !== undefined && key === undefined) {
    issues.push({ variable: 'AUTHORITY_TLS_KEY', problem: 'required when AUTHORITY_TLS_CERT is set' });
  }
  if (key !== undefined && cert === undefined) {
    issues.push({ variable: 'AUTHORITY_TLS_CERT', problem: 'required when AUTHORITY_TLS_KEY is set' });
  }
  if (ca !== undefined && cert === undefined && key === undefined) {
    issues.push({
      variable: 'AUTHORITY_TLS_CA',
      problem: 'requires AUTHORITY_TLS_CERT and AUTHORITY_TLS_KEY (mTLS needs server TLS)',
    });
  }
  return issues;
};

// ---------------------------------------------------------------------------------------------
// Loading and describing.

type AnyZod = z.ZodType;
interface FieldInfo {
  description?: string;
  default?: string;
  optional: boolean;
  secret: boolean;
}

function defaultToText(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (v instanceof Secret) return '[redacted]';
  return String(v);
}

/** Walks wrappers (describe/optional/default/prefault/pipe) collecting what docs need. */
function fieldInfo(schema: AnyZod): FieldInfo {
  const info: FieldInfo = { optional: false, secret: false };
  let s: AnyZod | undefined = schema;
  for (let depth = 0; s && depth < 20; depth++) {
    const meta = z.globalRegistry.get(s) as { description?: string; secret?: boolean } | undefined;
    if (info.description === undefined && meta?.description) info.description = meta.description;
    if (meta?.secret) info.secret = true;
    const def = (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    switch (def.type) {
      case 'optional':
        info.optional = true;
        s = def['innerType'] as AnyZod;
        break;
      case 'default':
      case 'prefault': {
        info.optional = true;
        if (info.default === undefined) info.default = defaultToText(def['defaultValue']);
        s = def['innerType'] as AnyZod;
        break;
      }
      case 'nullable':
      case 'readonly':
      case 'catch':
        s = def['innerType'] as AnyZod;
        break;
      case 'pipe':
        s = def['in'] as AnyZod;
        break;
      default:
        s = undefined;
    }
  }
  return info;
}

function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
}

/**
 * Parses the variables named by `schema` from `env` (empty strings count as unset), then runs
 * the cross-variable `checks`. Throws ConfigError naming EVERY bad variable; secret values are
 * never echoed.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
  checks: readonly ConfigCheck[] = [checkTlsSettings],
): z.output<S> {
  const shape = schema.shape as Record<string, AnyZod>;
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const v = env[name];
    input[name] = v === '' ? undefined : v;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues: ConfigIssue[] = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(config)');
      const raw = input[name];
      const field = shape[name];
      const isSecret = field ? fieldInfo(field).secret : false;
      if (raw === undefined) return { variable: name, problem: 'required but not set' };
      const message = issue.message.replace(/^Invalid input: /, '');
      return { variable: name, problem: isSecret ? message : `${message}, got ${quote(raw)}` };
    });
    throw new ConfigError(issues);
  }
  const config = result.data as z.output<S>;
  const crossIssues = checks.flatMap((check) => check(config as Record<string, unknown>));
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return config;
}

/** Like loadConfig, but prints the error to stderr and exits with 78 (EX_CONFIG). */
export function loadConfigOrExit<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
  checks: readonly ConfigCheck[] = [checkTlsSettings],
): z.output<S> {
  try {
    return loadConfig(schema, env, checks);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

/** One documented variable. `default` is the text form (as it would be written in the env). */
export interface ConfigRow {
  name: string;
  required: boolean;
  default?: string;
  secret: boolean;
  description: string;
}

/** The documentation rows of a schema, in declaration order (docs and k8s checks compare these). */
export function describeConfig(schema: z.ZodObject): ConfigRow[] {
  return Object.entries(schema.shape as Record<string, AnyZod>).map(([name, field]) => {
    const info = fieldInfo(field);
    const row: ConfigRow = {
      name,
      required: !info.optional,
      secret: info.secret,
      description: info.description ?? '',
    };
    if (info.default !== undefined) row.default = info.default;
    return row;
  });
}

/**
 * The config as a plain object safe to log or print (`config print --redacted`): fields the
 * schema marks secret become `[redacted]` whatever their parsed form.
 */
export function redactedConfig(schema: z.ZodObject, config: Record<string, unknown>): Record<string, unknown> {
  const shape = schema.shape as Record<string, AnyZod>;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    const field = shape[name];
    out[name] = field && fieldInfo(field).secret && value !== undefined ? '[redacted]' : value;
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** A Markdown table of rows (docs/configuration.md sections are generated and checked with it). */
export function configMarkdownTable(rows: readonly ConfigRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| Variable | Required | Default | Description |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.name}\` | ${r.required ? 'yes' : 'no'} | ${r.default !== undefined ? `\`${cell(r.default)}\`` : '—'} | ${cell(r.description)}${r.secret ? ' (secret: never logged)' : ''} |`,
    ),
  ].join('\n');
}

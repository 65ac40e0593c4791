// Configuration from environment variables: one zod schema per service, parsed once at start,
// failing fast with every bad variable named.
// Size: the variable parsers (ports, durations, lists, secrets, files, log levels), the common,
// Kafka-security and MongoDB schemas, their cross-variable checks and the error report, which
// every service's schema builds on.
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';
import { decodeKey32, isEventKeyId } from '@authority/core';

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

/**
 * A secret holding the base64 (or base64url) of exactly 32 bytes: an Ed25519 seed, a
 * key-encryption key. `problem` is the error, naming what the bytes are. Never echoed.
 */
export function key32Secret(problem: string) {
  return secret().transform((s, ctx): Secret => (decodeKey32(s.reveal()) === undefined ? bad(ctx, '', problem) : s));
}

/** A duration in whole seconds (what is compared with the `exp`/`nbf` seconds of a token). */
export function wholeSeconds() {
  return duration().transform((ms, ctx): number =>
    ms % 1000 !== 0 ? bad(ctx, String(ms), 'expected whole seconds (e.g. 30s)') : ms / 1000,
  );
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

/**
 * A secret read from a file (`..._FILE` variables: a mounted Kubernetes Secret): the path must be a
 * readable regular file; its content, surrounding whitespace removed, becomes a `Secret`. The
 * content is never echoed; `check` validates it (an error message, or undefined when valid).
 */
export function secretFile(check: (content: string) => string | undefined = () => undefined) {
  return z
    .string()
    .transform((s, ctx): Secret => {
      const p = s.trim();
      let content: string;
      try {
        if (!statSync(p).isFile()) return bad(ctx, s, 'not a regular file');
        content = readFileSync(p, 'utf8').trim();
      } catch {
        return bad(ctx, s, 'file not found or not readable');
      }
      if (content === '') return bad(ctx, s, 'the file is empty');
      const problem = check(content);
      if (problem !== undefined) return bad(ctx, s, `file content: ${problem}`);
      return new Secret(content);
    })
    .meta({ secret: true });
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

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

function saslMechanism() {
  return z.string().transform((s, ctx): KafkaSaslMechanism => {
    const t = s.trim().toLowerCase();
    if ((KAFKA_SASL_MECHANISMS as readonly string[]).includes(t)) return t as KafkaSaslMechanism;
    return bad(ctx, s, `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
  });
}

/**
 * How the services authenticate to Kafka (every service: part of the common schema). TLS with the
 * system CAs or a CA file, optionally a client certificate (mTLS), and/or SASL (PLAIN only over
 * TLS, SCRAM-SHA-256/512). checkKafkaSecurity validates the combinations; kafka/kafkajs-security.ts
 * turns them into the kafkajs client options (kafkaSecurityFromConfig).
 */
export const kafkaSecurityConfigShape = {
  KAFKA_SSL: bool()
    .prefault('false')
    .describe(
      'Connect to the brokers over TLS (server certificates verified against the system CAs or KAFKA_SSL_CA_FILE).',
    ),
  KAFKA_SSL_CA_FILE: filePath()
    .optional()
    .describe("PEM CA bundle that signed the brokers' certificates (requires KAFKA_SSL=true)."),
  KAFKA_SSL_CERT_FILE: filePath()
    .optional()
    .describe(
      'PEM client certificate for mTLS to the brokers (with KAFKA_SSL_KEY_FILE; requires KAFKA_SSL=true). Its subject is the Kafka principal.',
    ),
  KAFKA_SSL_KEY_FILE: filePath().optional().describe('PEM private key of KAFKA_SSL_CERT_FILE.'),
  KAFKA_SASL_MECHANISM: saslMechanism()
    .optional()
    .describe(
      `SASL authentication to the brokers: ${KAFKA_SASL_MECHANISMS.join(', ')} (plain only with KAFKA_SSL=true). Needs KAFKA_SASL_USERNAME and a password.`,
    ),
  KAFKA_SASL_USERNAME: text().optional().describe('SASL user name: the Kafka principal the ACLs name (User:<name>).'),
  KAFKA_SASL_PASSWORD: secret().optional().describe('SASL password (or KAFKA_SASL_PASSWORD_FILE).'),
  KAFKA_SASL_PASSWORD_FILE: secretFile()
    .optional()
    .describe('File holding the SASL password (a mounted Secret), instead of KAFKA_SASL_PASSWORD.'),
};

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
      .describe('Prefix of the Kafka topic names (keys, policies, revocations, audit, checkpoints, chain).'),
    KAFKA_BROKERS: csv().describe('Comma-separated Kafka bootstrap brokers, host:port.'),
    KAFKA_CLIENT_ID: text().optional().describe('Kafka client id. Defaults to AUTHORITY_SERVICE_NAME.'),
    ...kafkaSecurityConfigShape,
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

/** The Kafka TLS and SASL variables must make a complete, safe combination. */
export const checkKafkaSecurity: ConfigCheck = (config) => {
  const issues: ConfigIssue[] = [];
  const set = (name: string) => config[name] !== undefined;
  const ssl = config['KAFKA_SSL'] === true;
  for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE']) {
    if (set(name) && !ssl) issues.push({ variable: name, problem: 'requires KAFKA_SSL=true' });
  }
  if (set('KAFKA_SSL_CERT_FILE') && !set('KAFKA_SSL_KEY_FILE'))
    issues.push({ variable: 'KAFKA_SSL_KEY_FILE', problem: 'required when KAFKA_SSL_CERT_FILE is set' });
  if (set('KAFKA_SSL_KEY_FILE') && !set('KAFKA_SSL_CERT_FILE'))
    issues.push({ variable: 'KAFKA_SSL_CERT_FILE', problem: 'required when KAFKA_SSL_KEY_FILE is set' });
  const mechanism = config['KAFKA_SASL_MECHANISM'];
  const passwords = ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'].filter(set);
  if (mechanism === undefined) {
    for (const name of ['KAFKA_SASL_USERNAME', ...passwords])
      if (set(name)) issues.push({ variable: name, problem: 'requires KAFKA_SASL_MECHANISM' });
  } else {
    if (!set('KAFKA_SASL_USERNAME'))
      issues.push({ variable: 'KAFKA_SASL_USERNAME', problem: 'required when KAFKA_SASL_MECHANISM is set' });
    if (passwords.length === 0)
      issues.push({
        variable: 'KAFKA_SASL_PASSWORD',
        problem: 'KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is required when KAFKA_SASL_MECHANISM is set',
      });
    if (passwords.length === 2)
      issues.push({
        variable: 'KAFKA_SASL_PASSWORD_FILE',
        problem: 'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
      });
    if (mechanism === 'plain' && !ssl)
      issues.push({
        variable: 'KAFKA_SASL_MECHANISM',
        problem: 'plain sends the password in clear: requires KAFKA_SSL=true',
      });
  }
  return issues;
};

// ---------------------------------------------------------------------------------------------
// The producer's audit-event signing key (issuer, policy, enforcer; see core events/signature.ts).

const SEED_PROBLEM = 'expected base64url (or base64) of a 32-byte Ed25519 seed (e.g. `openssl rand -base64 32`)';

function seedProblem(text: string): string | undefined {
  return decodeKey32(text) === undefined ? SEED_PROBLEM : undefined;
}

/** The seed itself (a Kubernetes Secret in production). Never echoed. */
function eventSigningSeed() {
  return key32Secret(SEED_PROBLEM);
}

function eventKeyId() {
  return text().transform((s, ctx): string => {
    if (!isEventKeyId(s)) return bad(ctx, s, 'expected 1-64 of A-Z a-z 0-9 _ -');
    return s;
  });
}

/**
 * For the services that produce audit events: the Ed25519 identity that signs every record they
 * write to the audit topic. Exactly one of the key and the key file is required
 * (checkEventSigningKey; eventSigningSeedFromConfig checks again at start).
 */
export const eventSigningConfigShape = {
  AUTHORITY_EVENT_SIGNING_KEY: eventSigningSeed()
    .optional()
    .describe(
      'Audit-event signing key of this service: base64url (or base64) of a 32-byte Ed25519 seed. Every record it writes to the audit topic is signed with it; the auditor chains only records signed by a key in its AUTHORITY_EVENT_TRUSTED_KEYS. This or AUTHORITY_EVENT_SIGNING_KEY_FILE is required.',
    ),
  AUTHORITY_EVENT_SIGNING_KEY_FILE: secretFile(seedProblem)
    .optional()
    .describe('File holding the audit-event signing key (a mounted Secret), instead of AUTHORITY_EVENT_SIGNING_KEY.'),
  AUTHORITY_EVENT_SIGNING_KEY_ID: eventKeyId()
    .optional()
    .describe(
      'Key id sent with every signature (1-64 of A-Z a-z 0-9 _ -); the auditor looks the public key up by it. Default: the first 16 hex digits of SHA-256 of the public key (logged at start).',
    ),
};

/** Exactly one of AUTHORITY_EVENT_SIGNING_KEY and AUTHORITY_EVENT_SIGNING_KEY_FILE. */
export const checkEventSigningKey: ConfigCheck = (config) => {
  const inline = config['AUTHORITY_EVENT_SIGNING_KEY'] !== undefined;
  const file = config['AUTHORITY_EVENT_SIGNING_KEY_FILE'] !== undefined;
  if (inline && file)
    return [
      {
        variable: 'AUTHORITY_EVENT_SIGNING_KEY_FILE',
        problem: 'set AUTHORITY_EVENT_SIGNING_KEY or AUTHORITY_EVENT_SIGNING_KEY_FILE, not both',
      },
    ];
  if (!inline && !file)
    return [
      {
        variable: 'AUTHORITY_EVENT_SIGNING_KEY',
        problem:
          'required (or AUTHORITY_EVENT_SIGNING_KEY_FILE): audit events are signed by their producer, and the auditor quarantines unsigned ones',
      },
    ];
  return [];
};

/**
 * The signing seed and key id from a parsed config (before signing: await cryptoReady(), then
 * core's eventSigningKey(seed, kid)). Throws ConfigError when the key is missing or given twice,
 * so a config built without the checks still cannot start a producer that does not sign.
 */
export function eventSigningSeedFromConfig(config: {
  AUTHORITY_EVENT_SIGNING_KEY?: Secret | undefined;
  AUTHORITY_EVENT_SIGNING_KEY_FILE?: Secret | undefined;
  AUTHORITY_EVENT_SIGNING_KEY_ID?: string | undefined;
}): { seed: Buffer; kid: string | undefined } {
  const issues = checkEventSigningKey(config as Record<string, unknown>);
  if (issues.length > 0) throw new ConfigError(issues);
  const secret = (config.AUTHORITY_EVENT_SIGNING_KEY ?? config.AUTHORITY_EVENT_SIGNING_KEY_FILE) as Secret;
  const seed = decodeKey32(secret.reveal());
  if (seed === undefined) {
    const variable =
      config.AUTHORITY_EVENT_SIGNING_KEY !== undefined
        ? 'AUTHORITY_EVENT_SIGNING_KEY'
        : 'AUTHORITY_EVENT_SIGNING_KEY_FILE';
    throw new ConfigError([{ variable, problem: SEED_PROBLEM }]);
  }
  return { seed, kid: config.AUTHORITY_EVENT_SIGNING_KEY_ID };
}

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

/** The checks every service's configuration gets by default: gRPC TLS and Kafka security. */
export const DEFAULT_CONFIG_CHECKS: readonly ConfigCheck[] = [checkTlsSettings, checkKafkaSecurity];

/**
 * Parses the variables named by `schema` from `env` (empty strings count as unset), then runs
 * the cross-variable `checks`. Throws ConfigError naming EVERY bad variable; secret values are
 * never echoed.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env,
  checks: readonly ConfigCheck[] = DEFAULT_CONFIG_CHECKS,
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
  checks: readonly ConfigCheck[] = DEFAULT_CONFIG_CHECKS,
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

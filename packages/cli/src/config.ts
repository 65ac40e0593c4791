// Where the CLI finds its services and credential. Precedence, highest first: command-line flags,
// environment variables, the selected profile of the config file, built-in defaults.
//
// Config file (YAML), default `$XDG_CONFIG_HOME/authority/config.yaml` or
// `~/.config/authority/config.yaml` (override with --config or AUTHORITY_CONFIG):
//
//   default_profile: local
//   profiles:
//     local:
//       issuer: 127.0.0.1:50051
//       enforcer: [127.0.0.1:50052, 127.0.0.1:50062]
//       policy: 127.0.0.1:50053
//       auditor: 127.0.0.1:50054
//       tenant: acme
//       api_key_file: ~/.config/authority/acme-admin.key   # or api_key: ...
//       tls: { ca: ca.pem, cert: client.pem, key: client-key.pem, server_name: authority.internal }
//       timeout: 5s
//
// A file without `profiles:` is one unnamed profile.
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ClientOptions, TlsOptions } from '@authority/sdk';
import { parseDuration } from './duration';
import { usage } from './exit';
import type { Io } from './io';

export const DEFAULT_ADDRESSES = {
  issuer: '127.0.0.1:50051',
  enforcer: '127.0.0.1:50052',
  policy: '127.0.0.1:50053',
  auditor: '127.0.0.1:50054',
} as const;

export type ServiceName = keyof typeof DEFAULT_ADDRESSES;

/** Global flags as commander parses them. */
export interface GlobalFlags {
  json?: boolean;
  config?: string;
  profile?: string;
  tenant?: string;
  apiKeyFile?: string;
  issuer?: string;
  enforcer?: string;
  policy?: string;
  auditor?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  timeout?: string;
}

export interface ResolvedConfig {
  issuer: string;
  /** One or more replicas. */
  enforcer: string[];
  policy: string;
  auditor: string;
  tenant: string | undefined;
  apiKey: string | undefined;
  /** Where the credential came from (for doctor; never the secret). */
  apiKeySource: string | undefined;
  tls: ClientOptions['tls'];
  timeoutMs: number;
  /** Which sources were used, for doctor and error messages. */
  configFile: string | undefined;
  profile: string | undefined;
}

interface ProfileFile {
  issuer?: unknown;
  enforcer?: unknown;
  policy?: unknown;
  auditor?: unknown;
  tenant?: unknown;
  api_key?: unknown;
  api_key_file?: unknown;
  tls?: unknown;
  timeout?: unknown;
}

const PROFILE_KEYS = new Set([
  'issuer',
  'enforcer',
  'policy',
  'auditor',
  'tenant',
  'api_key',
  'api_key_file',
  'tls',
  'timeout',
]);

function expandHome(p: string, io: Io): string {
  return p === '~' ? io.homedir : p.startsWith('~/') ? path.join(io.homedir, p.slice(2)) : p;
}

function resolvePath(p: string, io: Io, base = io.cwd): string {
  const e = expandHome(p, io);
  return path.isAbsolute(e) ? e : path.resolve(base, e);
}

export function defaultConfigPath(io: Io): string {
  const xdg = io.env.XDG_CONFIG_HOME;
  return path.join(xdg && xdg !== '' ? xdg : path.join(io.homedir, '.config'), 'authority', 'config.yaml');
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw usage(`${where} must be a string`);
}

function addressList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x, i) => str(x, `${where}[${i}]`) as string).filter((x) => x !== '');
  const s = str(v, where);
  return s === undefined ? undefined : splitList(s);
}

/** Splits a comma-separated list, dropping blanks. */
export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

async function loadProfile(
  io: Io,
  flags: GlobalFlags,
): Promise<{ profile: ProfileFile; file?: string; name?: string; dir: string }> {
  const explicit = flags.config ?? io.env.AUTHORITY_CONFIG;
  const file = explicit ? resolvePath(explicit, io) : defaultConfigPath(io);
  const wantedProfile = flags.profile ?? io.env.AUTHORITY_PROFILE;
  if (!(await io.fileExists(file))) {
    if (explicit) throw usage(`config file ${file} does not exist`);
    if (wantedProfile)
      throw usage(`profile ${JSON.stringify(wantedProfile)} requested but there is no config file at ${file}`);
    return { profile: {}, dir: io.cwd };
  }
  let doc: unknown;
  try {
    doc = parseYaml(await io.readFile(file), { maxAliasCount: 50 });
  } catch (err) {
    throw usage(`config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usage(`config file ${file}: expected a mapping`);
  const d = doc as Record<string, unknown>;
  let profile: unknown = d;
  let name: string | undefined;
  if (d.profiles !== undefined) {
    if (typeof d.profiles !== 'object' || d.profiles === null || Array.isArray(d.profiles))
      throw usage(`config file ${file}: 'profiles' must be a mapping`);
    const profiles = d.profiles as Record<string, unknown>;
    name =
      wantedProfile ??
      str(d.default_profile, 'default_profile') ??
      (Object.keys(profiles).length === 1 ? Object.keys(profiles)[0] : undefined);
    if (name === undefined) {
      throw usage(
        `config file ${file} has several profiles (${Object.keys(profiles).join(', ')}): choose one with --profile or default_profile`,
      );
    }
    profile = profiles[name];
    if (profile === undefined)
      throw usage(
        `config file ${file} has no profile ${JSON.stringify(name)} (it has: ${Object.keys(profiles).join(', ') || 'none'})`,
      );
  } else if (wantedProfile) {
    throw usage(`config file ${file} has no 'profiles' section, so --profile ${wantedProfile} cannot be used`);
  }
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile))
    throw usage(`config file ${file}: the profile must be a mapping`);
  for (const k of Object.keys(profile)) {
    if (!PROFILE_KEYS.has(k) && k !== 'default_profile') {
      throw usage(`config file ${file}: unknown key ${JSON.stringify(k)} (known: ${[...PROFILE_KEYS].join(', ')})`);
    }
  }
  return { profile: profile as ProfileFile, file, ...(name !== undefined ? { name } : {}), dir: path.dirname(file) };
}

async function readSecretFile(p: string, io: Io, what: string): Promise<string> {
  let text: string;
  try {
    text = await io.readFile(p);
  } catch (err) {
    throw usage(`${what} ${p}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const secret = text.trim();
  if (secret === '') throw usage(`${what} ${p} is empty`);
  return secret;
}

/** Resolves the effective configuration. Throws a usage CliError on any bad source. */
export async function resolveConfig(flags: GlobalFlags, io: Io): Promise<ResolvedConfig> {
  const { profile, file, name, dir } = await loadProfile(io, flags);
  const env = io.env;
  const pick = (flag: string | undefined, envName: string, prof: unknown, where: string): string | undefined =>
    flag ?? (env[envName] !== undefined && env[envName] !== '' ? env[envName] : undefined) ?? str(prof, where);

  const issuer = pick(flags.issuer, 'AUTHORITY_ISSUER_ADDR', profile.issuer, 'issuer') ?? DEFAULT_ADDRESSES.issuer;
  const policy = pick(flags.policy, 'AUTHORITY_POLICY_ADDR', profile.policy, 'policy') ?? DEFAULT_ADDRESSES.policy;
  const auditor =
    pick(flags.auditor, 'AUTHORITY_AUDITOR_ADDR', profile.auditor, 'auditor') ?? DEFAULT_ADDRESSES.auditor;
  const enforcerText =
    flags.enforcer ??
    (env.AUTHORITY_ENFORCER_ADDR !== undefined && env.AUTHORITY_ENFORCER_ADDR !== ''
      ? env.AUTHORITY_ENFORCER_ADDR
      : undefined);
  const enforcer = (enforcerText !== undefined
    ? splitList(enforcerText)
    : addressList(profile.enforcer, 'enforcer')) ?? [DEFAULT_ADDRESSES.enforcer];
  if (enforcer.length === 0) throw usage('no enforcer address given');
  const tenant = pick(flags.tenant, 'AUTHORITY_TENANT', profile.tenant, 'tenant');

  let apiKey: string | undefined;
  let apiKeySource: string | undefined;
  if (flags.apiKeyFile !== undefined) {
    apiKey = await readSecretFile(resolvePath(flags.apiKeyFile, io), io, '--api-key-file');
    apiKeySource = `--api-key-file ${flags.apiKeyFile}`;
  } else if (env.AUTHORITY_API_KEY !== undefined && env.AUTHORITY_API_KEY !== '') {
    apiKey = env.AUTHORITY_API_KEY.trim();
    apiKeySource = 'AUTHORITY_API_KEY';
  } else if (env.AUTHORITY_API_KEY_FILE !== undefined && env.AUTHORITY_API_KEY_FILE !== '') {
    apiKey = await readSecretFile(resolvePath(env.AUTHORITY_API_KEY_FILE, io), io, 'AUTHORITY_API_KEY_FILE');
    apiKeySource = 'AUTHORITY_API_KEY_FILE';
  } else if (profile.api_key_file !== undefined) {
    const p = str(profile.api_key_file, 'api_key_file') as string;
    apiKey = await readSecretFile(resolvePath(p, io, dir), io, 'api_key_file');
    apiKeySource = `profile api_key_file ${p}`;
  } else if (profile.api_key !== undefined) {
    apiKey = str(profile.api_key, 'api_key');
    apiKeySource = 'profile api_key';
  }

  // TLS: flags, then AUTHORITY_TLS* environment, then the profile.
  let tls: ClientOptions['tls'] = false;
  const profTls = profile.tls;
  const envTls = env.AUTHORITY_TLS === '1' || env.AUTHORITY_TLS === 'true';
  const caPath = flags.ca ?? env.AUTHORITY_TLS_CA;
  const certPath = flags.cert ?? env.AUTHORITY_TLS_CERT;
  const keyPath = flags.key ?? env.AUTHORITY_TLS_KEY;
  const serverName = flags.serverName ?? env.AUTHORITY_TLS_SERVER_NAME;
  if (flags.tls || envTls || caPath || certPath || keyPath || serverName) {
    const t: TlsOptions = {};
    if (caPath) t.ca = await io.readFile(resolvePath(caPath, io));
    if (certPath) t.cert = await io.readFile(resolvePath(certPath, io));
    if (keyPath) t.key = await io.readFile(resolvePath(keyPath, io));
    if (serverName) t.serverName = serverName;
    tls = Object.keys(t).length === 0 ? true : t;
  } else if (profTls === true) {
    tls = true;
  } else if (typeof profTls === 'object' && profTls !== null && !Array.isArray(profTls)) {
    const p = profTls as Record<string, unknown>;
    for (const k of Object.keys(p))
      if (!['ca', 'cert', 'key', 'server_name'].includes(k))
        throw usage(`config: unknown tls key ${JSON.stringify(k)}`);
    const t: TlsOptions = {};
    const ca = str(p.ca, 'tls.ca');
    const cert = str(p.cert, 'tls.cert');
    const key = str(p.key, 'tls.key');
    const sn = str(p.server_name, 'tls.server_name');
    if (ca) t.ca = await io.readFile(resolvePath(ca, io, dir));
    if (cert) t.cert = await io.readFile(resolvePath(cert, io, dir));
    if (key) t.key = await io.readFile(resolvePath(key, io, dir));
    if (sn) t.serverName = sn;
    tls = Object.keys(t).length === 0 ? true : t;
  } else if (profTls !== undefined && profTls !== false && profTls !== null) {
    throw usage('config: tls must be true, false or a mapping {ca, cert, key, server_name}');
  }
  if (typeof tls === 'object' && (tls.cert === undefined) !== (tls.key === undefined))
    throw usage('TLS client certificate and key must be given together');

  const timeoutText = flags.timeout ?? env.AUTHORITY_TIMEOUT ?? str(profile.timeout, 'timeout');
  let timeoutMs = 5000;
  if (timeoutText !== undefined) {
    try {
      timeoutMs = parseDuration(timeoutText);
    } catch (err) {
      throw usage(`timeout: ${(err as Error).message}`);
    }
    if (timeoutMs <= 0) throw usage('timeout must be positive');
  }

  return {
    issuer,
    enforcer,
    policy,
    auditor,
    tenant,
    apiKey,
    apiKeySource,
    tls,
    timeoutMs,
    configFile: file,
    profile: name,
  };
}

// Runs the four services as child processes on fixed local ports, waits until each reports
// SERVING, then (optionally) the MCP gateway in front of the enforcer until it reports ready, and
// stops them all (SIGTERM, then SIGKILL after a grace period) on request.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitHttpReady, waitServing, type ServiceAddresses } from './clients';

export const SERVICE_NAMES = ['issuer', 'enforcer', 'policy', 'auditor'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  issuer: 50051,
  enforcer: 50052,
  policy: 50053,
  auditor: 50054,
};

/** The services that sign their audit events, each with its own key. */
export const EVENT_PRODUCERS = ['issuer', 'enforcer', 'policy'] as const;
export type EventProducer = (typeof EVENT_PRODUCERS)[number];

/** A producer's audit-event key pair: base64url seed and public key. */
export interface EventKeyPair {
  seed: string;
  publicKey: string;
}

export interface StackSecrets {
  operatorKey: string;
  serviceKey: string;
  issuerKek: string;
  auditorSigningKey: string;
  /** Each producer's audit-event signing key; the auditor trusts each public key for its own source. */
  eventKeys: Record<EventProducer, EventKeyPair>;
}

/** AUTHORITY_EVENT_TRUSTED_KEYS of the auditor: `<producer>-1=<public key>;sources=<producer>`, … */
export function trustedEventKeys(keys: StackSecrets['eventKeys']): string {
  return EVENT_PRODUCERS.map((p) => `${p}-1=${keys[p].publicKey};sources=${p}`).join(',');
}

/** AUTHORITY_EVENT_SIGNING_KEY and _ID of a producer. */
function signingEnv(keys: StackSecrets['eventKeys'], p: EventProducer): NodeJS.ProcessEnv {
  return { AUTHORITY_EVENT_SIGNING_KEY: keys[p].seed, AUTHORITY_EVENT_SIGNING_KEY_ID: `${p}-1` };
}

/** The audience the demo's envelopes name to be usable through the gateway (the enforcer accepts it too). */
export const GATEWAY_AUDIENCE = 'authority-gateway';
export const DEFAULT_GATEWAY_PORT = 8765;

export interface LaunchOptions {
  repoRoot: string;
  /** Also start the MCP gateway with this mapping file (on `gatewayPort`, default 8765). */
  gatewayMapping?: string;
  gatewayPort?: number;
  env: NodeJS.ProcessEnv;
  secrets: StackSecrets;
  ports?: Partial<Record<ServiceName, number>>;
  logDir: string;
  readyTimeoutMs?: number;
  log: (line: string) => void;
}

export interface RunningStack {
  addresses: ServiceAddresses;
  /** The database of the gateway's document vault. */
  vaultDb: string;
  /** The gateway's MCP endpoint (`http://127.0.0.1:<port>/mcp`) when it was started. */
  gatewayUrl?: string;
  pids: number[];
  stop(): Promise<void>;
}

export async function launchStack(o: LaunchOptions): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...o.ports };
  const addresses = Object.fromEntries(
    SERVICE_NAMES.map((n) => [n, `127.0.0.1:${ports[n]}`]),
  ) as unknown as ServiceAddresses;
  mkdirSync(o.logDir, { recursive: true });
  // The demo's databases are named after its secrets, so a new set of secrets (a deleted
  // .infra/demo-secrets.json) starts clean instead of meeting keys sealed under another KEK.
  const dbSuffix = createHash('sha256').update(o.secrets.issuerKek).digest('hex').slice(0, 8);
  const vaultDb = `authority_vault_${dbSuffix}`;
  const common: NodeJS.ProcessEnv = {
    AUTHORITY_ISSUER_DB: `authority_issuer_${dbSuffix}`,
    AUTHORITY_POLICY_DB: `authority_policy_${dbSuffix}`,
    AUTHORITY_AUDITOR_DB: `authority_auditor_${dbSuffix}`,
    ...o.env,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_OPERATOR_API_KEY: o.secrets.operatorKey,
    AUTHORITY_SERVICE_API_KEY: o.secrets.serviceKey,
  };
  const keys = o.secrets.eventKeys;
  const perService: Record<ServiceName, NodeJS.ProcessEnv> = {
    issuer: { AUTHORITY_ISSUER_KEK: o.secrets.issuerKek, ...signingEnv(keys, 'issuer') },
    enforcer: {
      AUTHORITY_ISSUER_ADDR: addresses.issuer,
      // Envelopes bound to the gateway (aud) are verified by the enforcer on its behalf.
      AUTHORITY_AUDIENCE: GATEWAY_AUDIENCE,
      ...signingEnv(keys, 'enforcer'),
    },
    policy: { ...signingEnv(keys, 'policy') },
    auditor: {
      AUTHORITY_AUDITOR_SIGNING_KEY: o.secrets.auditorSigningKey,
      AUTHORITY_EVENT_TRUSTED_KEYS: trustedEventKeys(keys),
      AUTHORITY_CHECKPOINT_INTERVAL: '5s',
    },
  };
  const children = new Map<ServiceName | 'gateway', ChildProcess>();
  const exited = new Set<ServiceName | 'gateway'>();
  const stop = async (): Promise<void> => {
    await Promise.all(
      [...children.entries()].map(
        ([name, child]) =>
          new Promise<void>((done) => {
            if (exited.has(name)) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  // Detached services do not die with the launcher's process group: if the launcher exits without
  // stop() (a crash), take them down with it.
  const orphanGuard = () => {
    for (const [name, child] of children) if (!exited.has(name)) child.kill('SIGTERM');
  };
  process.once('exit', orphanGuard);
  const launch = (name: ServiceName | 'gateway', env: NodeJS.ProcessEnv) => {
    const out = createWriteStream(join(o.logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [resolve(o.repoRoot, `services/${name}/dist/src/main.js`)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches only
      // the launcher, which stops each service once with SIGTERM. Two signals would make a
      // service skip its drain and exit 1.
      detached: true,
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.once('exit', (code, signal) => {
      exited.add(name);
      if (code !== 0 && signal !== 'SIGTERM')
        o.log(`${name} exited (${signal ?? code}); see ${join(o.logDir, `${name}.log`)}`);
    });
    children.set(name, child);
  };
  let gatewayUrl: string | undefined;
  try {
    for (const name of SERVICE_NAMES) {
      launch(name, { ...common, ...perService[name], AUTHORITY_GRPC_PORT: String(ports[name]) });
    }
    const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
    for (const name of SERVICE_NAMES) {
      await waitServing(addresses[name], deadline, () => !exited.has(name));
      o.log(`   ${name.padEnd(8)} SERVING on ${addresses[name]} (pid ${children.get(name)?.pid})`);
    }
    if (o.gatewayMapping !== undefined) {
      const port = o.gatewayPort ?? DEFAULT_GATEWAY_PORT;
      launch('gateway', {
        ...o.env,
        AUTHORITY_GATEWAY_MAPPING: o.gatewayMapping,
        AUTHORITY_GATEWAY_HOST: '127.0.0.1',
        AUTHORITY_GATEWAY_PORT: String(port),
        AUTHORITY_GATEWAY_AUDIENCE: GATEWAY_AUDIENCE,
        // The document vault (authority.vault_* tools) in MongoDB, in a database of the demo's own.
        AUTHORITY_GATEWAY_VAULT_DB: vaultDb,
        AUTHORITY_ENFORCER_ADDR: addresses.enforcer,
        // The local demo's gateway checks (and delegates, for authority.compile_intent) for every
        // tenant; a gateway of one tenant gets that tenant's CHECKER (and ADMIN) credential.
        AUTHORITY_ENFORCER_API_KEY: o.secrets.operatorKey,
        AUTHORITY_ISSUER_ADDR: addresses.issuer,
        AUTHORITY_ISSUER_API_KEY: o.secrets.operatorKey,
      });
      const base = `http://127.0.0.1:${port}`;
      await waitHttpReady(`${base}/readyz`, deadline, () => !exited.has('gateway'));
      gatewayUrl = `${base}/mcp`;
      o.log(`   ${'gateway'.padEnd(8)} ready on ${gatewayUrl} (pid ${children.get('gateway')?.pid})`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    addresses,
    vaultDb,
    ...(gatewayUrl !== undefined ? { gatewayUrl } : {}),
    pids: [...children.values()].map((c) => c.pid ?? 0),
    stop,
  };
}

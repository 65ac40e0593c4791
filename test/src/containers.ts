// The container stack: Kafka, FerretDB and the four services as containers on a private Docker
// network, started with testcontainers from the images built on this machine
// (scripts/containers/base-images.sh and build-images.sh; nothing is ever pulled). Each service
// runs as uid 10001 with a read-only root file system (a tmpfs /tmp, as the manifests mount) and
// counts as started once its grpc.health.v1 answers SERVING on the published port.
//
//   const stack = await startContainerStack({ enforcers: 2 });
//   stack.service('enforcer-1').address   // 127.0.0.1:<published port>
//   await stack.stop();
//
// Without a Docker engine this fails loudly (`docker info` must answer): the containers suite is
// run by `npm run test:containers`, which starts the engine and builds the images first.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import {
  GenericContainer,
  Network,
  PullPolicy,
  Wait,
  type BoundPorts,
  type StartedNetwork,
  type StartedTestContainer,
  type WaitStrategy,
} from 'testcontainers';
import { checkHealth } from '@authority/sdk';

// Ryuk (testcontainers' reaper) is an image from a registry; here every container is stopped by
// the stack itself.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

export const IMAGE_TAG = process.env['AUTHORITY_IMAGE_TAG'] ?? 'dev';
export const KAFKA_IMAGE = process.env['AUTHORITY_KAFKA_IMAGE'] ?? 'authority-infra/kafka:4.4.0';
export const FERRETDB_IMAGE = process.env['AUTHORITY_FERRETDB_IMAGE'] ?? 'authority-infra/ferretdb:1.24.2';
export const SERVICE_UID = 10001;
export const GRPC_PORTS = { issuer: 50051, enforcer: 50052, policy: 50053, auditor: 50054 } as const;
export type ServiceKind = keyof typeof GRPC_PORTS;

/** Fails loudly when no Docker engine answers or an image is missing (never skips). */
export function requireImages(images: readonly string[]): void {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'no Docker engine answers: run `npm run test:containers` (it starts one) or scripts/containers/engine.sh up',
    );
  }
  const missing = images.filter((image) => {
    try {
      execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`images not built: ${missing.join(', ')} (run scripts/containers/build-images.sh)`);
  }
}

export function serviceImage(kind: ServiceKind): string {
  return `authority/${kind}:${IMAGE_TAG}`;
}

/** Waits until grpc.health.v1 answers SERVING on the container's published gRPC port. */
export class GrpcHealthWaitStrategy implements WaitStrategy {
  private startupTimeoutMs = 120_000;
  private startupTimeoutSet = false;

  constructor(private readonly port: number) {}

  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = startupTimeoutMs;
    this.startupTimeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.startupTimeoutSet;
  }

  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }

  async waitUntilReady(_container: unknown, boundPorts: BoundPorts, startTime: Date = new Date()): Promise<void> {
    const address = `127.0.0.1:${boundPorts.getBinding(this.port)}`;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const deadline = startTime.getTime() + this.startupTimeoutMs;
    let last = 'no answer';
    try {
      for (;;) {
        try {
          const status = await checkHealth(client, '', { deadlineMs: 2000 });
          if (status === 'SERVING') return;
          last = status;
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() > deadline) {
          throw new Error(`${address} not SERVING after ${this.startupTimeoutMs} ms (last: ${last})`);
        }
        await new Promise((r) => setTimeout(r, 250)); // poll interval of a readiness probe
      }
    } finally {
      client.close();
    }
  }
}

/** A service container: uid 10001, read-only root file system, tmpfs /tmp, probed over gRPC. */
export class ServiceContainer extends GenericContainer {
  constructor(kind: ServiceKind) {
    super(serviceImage(kind));
    this.withUser(`${SERVICE_UID}:${SERVICE_UID}`)
      .withTmpFs({ '/tmp': 'rw,noexec,nosuid,size=64m' })
      .withExposedPorts(GRPC_PORTS[kind])
      .withPullPolicy(NEVER_PULL)
      .withWaitStrategy(new GrpcHealthWaitStrategy(GRPC_PORTS[kind]))
      .withStartupTimeout(120_000);
    this.hostConfig.ReadonlyRootfs = true;
  }
}

/** Never pull: the images are built on this machine (there is no registry to pull from). */
const NEVER_PULL = { shouldPull: () => false } satisfies ReturnType<typeof PullPolicy.defaultPolicy>;

export interface StartedService {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly container: StartedTestContainer;
  /** host:port of the published gRPC port. */
  readonly address: string;
}

export interface ContainerStackOptions {
  /** Kafka brokers (KRaft, each broker also a controller): 1, or 3 with replication factor 3. */
  brokers?: 1 | 3;
  enforcers?: number;
  auditors?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
}

export interface ContainerStack {
  readonly network: StartedNetwork;
  readonly kafka: StartedTestContainer[];
  readonly mongo: StartedTestContainer;
  readonly services: StartedService[];
  readonly operatorKey: string;
  readonly serviceKey: string;
  service(name: string): StartedService;
  stop(): Promise<void>;
}

function kafkaContainer(network: StartedNetwork, node: number, brokers: number, clusterId: string): GenericContainer {
  const voters = Array.from({ length: brokers }, (_, i) => `${i + 1}@kafka-${i + 1}:9093`).join(',');
  const replication = String(brokers);
  const minIsr = brokers >= 3 ? '2' : '1';
  return new GenericContainer(KAFKA_IMAGE)
    .withNetwork(network)
    .withNetworkAliases(`kafka-${node}`)
    .withPullPolicy(NEVER_PULL)
    .withEnvironment({
      KAFKA_CLUSTER_ID: clusterId,
      KAFKA_NODE_ID: String(node),
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://kafka-${node}:9092`,
      KAFKA_DEFAULT_REPLICATION_FACTOR: replication,
      KAFKA_MIN_INSYNC_REPLICAS: minIsr,
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: replication,
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: replication,
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: minIsr,
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: replication,
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: minIsr,
      KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000);
}

/** A fresh Ed25519 key pair as base64url seed and public key (the JWK's `d` and `x`). */
function eventKeyPair(): { seed: string; publicKey: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { seed: String(jwk.d), publicKey: String(jwk.x) };
}

/** A Kafka cluster id: 16 random bytes, base64url (22 characters), as kafka-storage makes them. */
function kafkaClusterId(): string {
  return randomBytes(16).toString('base64url');
}

export async function startContainerStack(opts: ContainerStackOptions = {}): Promise<ContainerStack> {
  const brokers = opts.brokers ?? 1;
  const kinds: ServiceKind[] = ['issuer', 'policy', 'enforcer', 'auditor'];
  requireImages([KAFKA_IMAGE, FERRETDB_IMAGE, ...kinds.map(serviceImage)]);
  const network = await new Network().start();
  const started: StartedTestContainer[] = [];
  const stop = async (): Promise<void> => {
    for (const c of started.reverse()) await c.stop({ timeout: 10_000 }).catch(() => undefined);
    started.length = 0;
    await network.stop().catch(() => undefined);
  };
  try {
    const clusterId = kafkaClusterId();
    const kafka = await Promise.all(
      Array.from({ length: brokers }, (_, i) => kafkaContainer(network, i + 1, brokers, clusterId).start()),
    );
    started.push(...kafka);
    const mongo = await new GenericContainer(FERRETDB_IMAGE)
      .withNetwork(network)
      .withNetworkAliases('mongo')
      .withPullPolicy(NEVER_PULL)
      .withWaitStrategy(Wait.forLogMessage(/Listening on/))
      .withStartupTimeout(60_000)
      .start();
    started.push(mongo);

    const operatorKey = `op-${randomBytes(24).toString('base64url')}`;
    const serviceKey = `svc-${randomBytes(24).toString('base64url')}`;
    const common: Record<string, string> = {
      KAFKA_BROKERS: kafka.map((_, i) => `kafka-${i + 1}:9092`).join(','),
      MONGODB_URI: 'mongodb://mongo:27017/',
      AUTHORITY_OPERATOR_API_KEY: operatorKey,
      AUTHORITY_SERVICE_API_KEY: serviceKey,
      AUTHORITY_LOG_LEVEL: 'info',
      ...opts.env,
    };
    const services: StartedService[] = [];
    const launch = async (kind: ServiceKind, name: string, env: Record<string, string>): Promise<void> => {
      const container = await new ServiceContainer(kind)
        .withNetwork(network)
        .withNetworkAliases(name)
        .withName(`authority-${name}-${randomBytes(3).toString('hex')}`)
        .withEnvironment({ ...common, AUTHORITY_SERVICE_NAME: name, ...env })
        .start();
      started.push(container);
      services.push({
        name,
        kind,
        container,
        address: `127.0.0.1:${container.getMappedPort(GRPC_PORTS[kind])}`,
      });
    };
    // Each producer signs its audit events with its own key; the auditors trust each for its own source.
    const eventKeys = { issuer: eventKeyPair(), policy: eventKeyPair(), enforcer: eventKeyPair() };
    const signing = (p: keyof typeof eventKeys) => ({
      AUTHORITY_EVENT_SIGNING_KEY: eventKeys[p].seed,
      AUTHORITY_EVENT_SIGNING_KEY_ID: `${p}-1`,
    });
    await launch('issuer', 'issuer', {
      AUTHORITY_ISSUER_KEK: randomBytes(32).toString('base64'),
      ...signing('issuer'),
    });
    await launch('policy', 'policy', signing('policy'));
    for (let i = 1; i <= (opts.enforcers ?? 1); i++) {
      await launch('enforcer', `enforcer-${i}`, {
        AUTHORITY_ISSUER_ADDR: `issuer:${GRPC_PORTS.issuer}`,
        AUTHORITY_ENFORCER_ID: `enforcer-${i}`,
        ...signing('enforcer'),
      });
    }
    const auditorKey = randomBytes(32).toString('base64');
    const trusted = (Object.keys(eventKeys) as (keyof typeof eventKeys)[])
      .map((p) => `${p}-1=${eventKeys[p].publicKey};sources=${p}`)
      .join(',');
    for (let i = 1; i <= (opts.auditors ?? 1); i++) {
      await launch('auditor', `auditor-${i}`, {
        AUTHORITY_AUDITOR_SIGNING_KEY: auditorKey,
        AUTHORITY_EVENT_TRUSTED_KEYS: trusted,
      });
    }
    return {
      network,
      kafka,
      mongo,
      services,
      operatorKey,
      serviceKey,
      service(name: string): StartedService {
        const found = services.find((s) => s.name === name);
        if (found === undefined) throw new Error(`no service '${name}' in the container stack`);
        return found;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

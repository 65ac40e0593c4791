// The container stack: Kafka, FerretDB and the four services as containers on private Docker
// networks, started with testcontainers from the images built on this machine
// (scripts/containers/base-images.sh and build-images.sh; nothing is ever pulled). Each service
// runs as uid 10001 with a read-only root file system (a tmpfs /tmp, as the manifests mount) and
// counts as started once its grpc.health.v1 answers SERVING on the published port.
//
//   const stack = await startContainerStack({ brokers: 3, enforcers: 2, auditors: 2 });
//   stack.service('enforcer-1').address   // 127.0.0.1:<published port>, re-read after a restart
//   await stack.kill('kafka-2'); await stack.restart('kafka-2');
//   await stack.disconnect('enforcer-2'); await stack.reconnect('enforcer-2');
//   await stack.stop();
//
// Two networks. The backplane carries everything between containers (Kafka, MongoDB, the services'
// calls to each other); the clients network carries only the published gRPC ports of the services,
// so a service cut off from the backplane (`disconnect`) still answers the test's calls. Docker
// publishes a container's ports on its gateway network, which it picks by network name: the clients
// network's name sorts first, so the published ports stay put while the backplane comes and goes.
//
// Without a Docker engine this fails loudly (`docker info` must answer): the container suites are
// run by `npm run test:containers` and `npm run test:faults`, which start the engine and build the
// images first.
//
// Size: one stack; its members' containers, networks, secrets and environment are built together
// (each service's environment names the others' network aliases and the shared keys).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel as KafkaLogLevel, type ISocketFactory } from 'kafkajs';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  PullPolicy,
  Wait,
  type BoundPorts,
  type StartedNetwork,
  type StartedTestContainer,
  type WaitStrategy,
} from 'testcontainers';
import { checkHealth, type ServingStatus } from '@authority/sdk';

// Ryuk (testcontainers' reaper) is an image from a registry; here every container is stopped by
// the stack itself.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

export const IMAGE_TAG = process.env['AUTHORITY_IMAGE_TAG'] ?? 'dev';
export const KAFKA_IMAGE = process.env['AUTHORITY_KAFKA_IMAGE'] ?? 'authority-infra/kafka:4.4.0';
export const FERRETDB_IMAGE = process.env['AUTHORITY_FERRETDB_IMAGE'] ?? 'authority-infra/ferretdb:1.24.2';
export const SERVICE_UID = 10001;
export const GRPC_PORTS = { issuer: 50051, enforcer: 50052, policy: 50053, auditor: 50054 } as const;
export type ServiceKind = keyof typeof GRPC_PORTS;
export const KAFKA_PORT = 9092;
export const MONGO_PORT = 27017;
/** Label on every container of a stack: its id (and the run's, see AUTHORITY_CONTAINER_RUN). */
export const STACK_LABEL = 'org.authority.stack';
/** Label naming the run that started the container (scripts remove a run's leftovers by it). */
export const RUN_LABEL = 'org.authority.run';

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

const LOG_TAIL_LINES = 40;

/** A network to join and the names the container answers to on it. */
interface Attachment {
  network: StartedNetwork;
  aliases: string[];
}

/**
 * A container on the stack's networks: the first attachment is its network from creation (where
 * Docker publishes its ports), the others are joined before it starts. testcontainers itself
 * joins one network, and when aliases are asked for it does so from Docker's default bridge.
 */
class StackContainer extends GenericContainer {
  private readonly joins: Attachment[] = [];
  /** The last lines the container wrote, kept to explain a failed start (Docker removes it). */
  private readonly tail: string[] = [];

  constructor(image: string) {
    super(image);
    this.withLogConsumer((stream) => {
      let partial = '';
      stream.on('data', (chunk: Buffer | string) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        this.tail.push(...lines);
        if (this.tail.length > LOG_TAIL_LINES) this.tail.splice(0, this.tail.length - LOG_TAIL_LINES);
      });
      stream.on('error', () => undefined);
    });
  }

  /** start(), with the container's last log lines in the error when it does not come up. */
  override async start(): Promise<StartedTestContainer> {
    try {
      return await super.start();
    } catch (err) {
      const tail = this.tail.join('\n');
      throw new Error(
        `${this.imageName.string} did not start: ${(err as Error).message}\n--- last log lines ---\n${tail}`,
        {
          cause: err,
        },
      );
    }
  }

  onNetworks(first: Attachment, ...others: Attachment[]): this {
    this.withNetwork(first.network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [first.network.getName()]: { Aliases: first.aliases } } };
    this.joins.push(...others);
    return this;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(containerId);
    for (const { network, aliases } of this.joins) {
      await client.container.connectToNetwork(container, client.network.getById(network.getId()), aliases);
    }
  }
}

/** A service container: uid 10001, read-only root file system, tmpfs /tmp, probed over gRPC. */
export class ServiceContainer extends StackContainer {
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

export type MemberKind = ServiceKind | 'kafka' | 'mongo';

/** One container of the stack, by the name the stack gives it (`kafka-2`, `mongo`, `enforcer-1`). */
export interface StackMember {
  readonly name: string;
  readonly kind: MemberKind;
  readonly container: StartedTestContainer;
  /** The container port the stack publishes (gRPC for services, 9092 for Kafka, 27017 for MongoDB). */
  readonly port: number;
  /** 127.0.0.1:<published port> as Docker publishes it now (refreshed after restarts and reconnects). */
  readonly address: string;
}

export interface StartedService extends StackMember {
  readonly kind: ServiceKind;
}

export interface ContainerStackOptions {
  /** Kafka brokers (KRaft, each broker also a controller): 1, or 3 with replication factor 3. */
  brokers?: 1 | 3;
  enforcers?: number;
  auditors?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for the services of one kind (after `env`). */
  serviceEnv?: Partial<Record<ServiceKind, Record<string, string>>>;
}

/** What a container's process looks like to Docker now. */
export interface MemberState {
  running: boolean;
  /** Exit code of the last run (meaningful when not running, or after a restart). */
  exitCode: number;
  /** Docker's own restarts (a restart policy); the stack's restart() does not count here. */
  restartCount: number;
  startedAt: string;
  oomKilled: boolean;
}

export interface ContainerStack {
  /** The backplane: Kafka, MongoDB and the services' calls to each other. */
  readonly network: StartedNetwork;
  /** The network of the services' published gRPC ports. */
  readonly clients: StartedNetwork;
  readonly kafka: StartedTestContainer[];
  readonly mongo: StartedTestContainer;
  readonly services: StartedService[];
  readonly operatorKey: string;
  readonly serviceKey: string;
  /** The environment each service was started with, by service name. */
  readonly environment: ReadonlyMap<string, Readonly<Record<string, string>>>;
  service(name: string): StartedService;
  /** Any container of the stack by name: `kafka-N`, `mongo` or a service. */
  member(name: string): StackMember;
  members(): StackMember[];
  /** `docker kill -s KILL`: the process dies at once, no shutdown hook runs. */
  kill(name: string): Promise<void>;
  /**
   * Starts the container again (a killed one) or restarts it (a running one: SIGTERM, then SIGKILL
   * after `graceMs`, default 0 = at once) and waits for it as at start (SERVING, or Kafka's and
   * FerretDB's start-up log line); re-reads its published port.
   */
  restart(name: string, opts?: { graceMs?: number }): Promise<void>;
  /** Cuts the container off the backplane (Kafka, MongoDB, the other services); its published port stays. */
  disconnect(name: string): Promise<void>;
  reconnect(name: string): Promise<void>;
  /** grpc.health.v1 of a service now ('UNREACHABLE' when it does not answer within `deadlineMs`). */
  health(name: string, deadlineMs?: number): Promise<ServingStatus | 'UNREACHABLE'>;
  state(name: string): Promise<MemberState>;
  /**
   * A kafkajs client reaching the brokers from this process through their published ports (the
   * brokers advertise their backplane names; this maps each name to its published port at connect
   * time, so it follows a restarted broker).
   */
  kafkaClient(clientId?: string): Kafka;
  stop(): Promise<void>;
}

function kafkaContainer(
  backplane: StartedNetwork,
  node: number,
  brokers: number,
  clusterId: string,
  labels: Record<string, string>,
): GenericContainer {
  const voters = Array.from({ length: brokers }, (_, i) => `${i + 1}@kafka-${i + 1}:9093`).join(',');
  const replication = String(brokers);
  const minIsr = brokers >= 3 ? '2' : '1';
  return new StackContainer(KAFKA_IMAGE)
    .onNetworks({ network: backplane, aliases: [`kafka-${node}`] })
    .withName(`authority-kafka-${node}-${labels[STACK_LABEL]}`)
    .withLabels(labels)
    .withExposedPorts(KAFKA_PORT)
    .withPullPolicy(NEVER_PULL)
    .withEnvironment({
      KAFKA_CLUSTER_ID: clusterId,
      KAFKA_NODE_ID: String(node),
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://kafka-${node}:${KAFKA_PORT}`,
      KAFKA_DEFAULT_REPLICATION_FACTOR: replication,
      KAFKA_MIN_INSYNC_REPLICAS: minIsr,
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: replication,
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: replication,
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: minIsr,
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: replication,
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: minIsr,
      // A broker that comes back must not elect an out-of-sync replica (the default, stated).
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
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
/**
 * A KRaft cluster id (16 random bytes, base64url) that does not start with '-': Kafka's own
 * random-uuid never gives one, and command-line parsers read such a value as an option (CI failed
 * once on `format -t -…`, 1 id in 64).
 */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Secrets and addresses every service's environment is made from. */
interface StackSecrets {
  brokers: string;
  operatorKey: string;
  serviceKey: string;
  issuerKek: string;
  auditorKey: string;
  /** Each audit-event producer's signing key; the auditors trust each for its own source. */
  eventKeys: Record<EventProducer, { seed: string; publicKey: string }>;
}

type EventProducer = 'issuer' | 'policy' | 'enforcer';

/**
 * The environment of a service container: the ONE place where the stack's services get their
 * variables (add a variable every service needs here), then `opts.env`, then `opts.serviceEnv`.
 */
function serviceEnvironment(
  kind: ServiceKind,
  name: string,
  s: StackSecrets,
  opts: ContainerStackOptions,
): Record<string, string> {
  const common: Record<string, string> = {
    KAFKA_BROKERS: s.brokers,
    MONGODB_URI: 'mongodb://mongo:27017/',
    AUTHORITY_OPERATOR_API_KEY: s.operatorKey,
    AUTHORITY_SERVICE_API_KEY: s.serviceKey,
    AUTHORITY_LOG_LEVEL: 'info',
    AUTHORITY_SERVICE_NAME: name,
  };
  const signing = (p: EventProducer) => ({
    AUTHORITY_EVENT_SIGNING_KEY: s.eventKeys[p].seed,
    AUTHORITY_EVENT_SIGNING_KEY_ID: `${p}-1`,
  });
  const trusted = (Object.keys(s.eventKeys) as EventProducer[])
    .map((p) => `${p}-1=${s.eventKeys[p].publicKey};sources=${p}`)
    .join(',');
  const own: Record<ServiceKind, Record<string, string>> = {
    issuer: { AUTHORITY_ISSUER_KEK: s.issuerKek, ...signing('issuer') },
    policy: signing('policy'),
    enforcer: {
      AUTHORITY_ISSUER_ADDR: `issuer:${GRPC_PORTS.issuer}`,
      AUTHORITY_ENFORCER_ID: name,
      ...signing('enforcer'),
    },
    auditor: { AUTHORITY_AUDITOR_SIGNING_KEY: s.auditorKey, AUTHORITY_EVENT_TRUSTED_KEYS: trusted },
  };
  return { ...common, ...own[kind], ...opts.env, ...opts.serviceEnv?.[kind] };
}

class Member implements StackMember {
  private published: number;

  constructor(
    readonly name: string,
    readonly kind: MemberKind,
    readonly container: StartedTestContainer,
    readonly port: number,
  ) {
    this.published = container.getMappedPort(port);
  }

  get address(): string {
    return `127.0.0.1:${this.published}`;
  }

  /** Re-reads the published port from Docker (a restart or a network change may move it). */
  async refresh(): Promise<void> {
    const client = await getContainerRuntimeClient();
    const info = await client.container.inspect(client.container.getById(this.container.getId()));
    const bindings = info.NetworkSettings.Ports[`${this.port}/tcp`] ?? [];
    const v4 = bindings.find((b) => !b.HostIp.includes(':')) ?? bindings[0];
    if (v4 === undefined) throw new Error(`${this.name}: port ${this.port} is not published`);
    this.published = Number(v4.HostPort);
  }
}

export async function startContainerStack(opts: ContainerStackOptions = {}): Promise<ContainerStack> {
  const brokers = opts.brokers ?? 1;
  const kinds: ServiceKind[] = ['issuer', 'policy', 'enforcer', 'auditor'];
  requireImages([KAFKA_IMAGE, FERRETDB_IMAGE, ...kinds.map(serviceImage)]);
  const stackId = randomBytes(4).toString('hex');
  const labels: Record<string, string> = { [STACK_LABEL]: stackId };
  const run = process.env['AUTHORITY_CONTAINER_RUN'];
  if (run !== undefined && run !== '') labels[RUN_LABEL] = run;
  // Names sort clients first: Docker publishes ports on the first network by name (see the top).
  const clients = await new Network({ nextUuid: () => `authority-${stackId}-0-clients` }).start();
  const backplane = await new Network({ nextUuid: () => `authority-${stackId}-1-backplane` }).start();
  const started: StartedTestContainer[] = [];
  const members = new Map<string, Member>();
  const stop = async (): Promise<void> => {
    for (const c of started.reverse()) await c.stop({ timeout: 10_000 }).catch(() => undefined);
    started.length = 0;
    await backplane.stop().catch(() => undefined);
    await clients.stop().catch(() => undefined);
  };
  try {
    const clusterId = kafkaClusterId();
    // Started together (the KRaft quorum forms once a majority is up); all of them settle before
    // a failure is thrown, so stop() finds every broker that did start.
    const brokerStarts = await Promise.allSettled(
      Array.from({ length: brokers }, (_, i) => kafkaContainer(backplane, i + 1, brokers, clusterId, labels).start()),
    );
    const kafka: StartedTestContainer[] = [];
    brokerStarts.forEach((r, i) => {
      if (r.status !== 'fulfilled') return;
      started.push(r.value);
      kafka.push(r.value);
      members.set(`kafka-${i + 1}`, new Member(`kafka-${i + 1}`, 'kafka', r.value, KAFKA_PORT));
    });
    const failed = brokerStarts.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const mongo = await new StackContainer(FERRETDB_IMAGE)
      .onNetworks({ network: backplane, aliases: ['mongo'] })
      .withName(`authority-mongo-${stackId}`)
      .withLabels(labels)
      .withExposedPorts(MONGO_PORT)
      .withPullPolicy(NEVER_PULL)
      .withWaitStrategy(Wait.forLogMessage(/Listening on/))
      .withStartupTimeout(60_000)
      .start();
    started.push(mongo);
    members.set('mongo', new Member('mongo', 'mongo', mongo, MONGO_PORT));

    const secrets: StackSecrets = {
      brokers: kafka.map((_, i) => `kafka-${i + 1}:${KAFKA_PORT}`).join(','),
      operatorKey: `op-${randomBytes(24).toString('base64url')}`,
      serviceKey: `svc-${randomBytes(24).toString('base64url')}`,
      issuerKek: randomBytes(32).toString('base64'),
      auditorKey: randomBytes(32).toString('base64'),
      eventKeys: { issuer: eventKeyPair(), policy: eventKeyPair(), enforcer: eventKeyPair() },
    };
    const services: StartedService[] = [];
    const environment = new Map<string, Record<string, string>>();
    const launch = async (kind: ServiceKind, name: string): Promise<void> => {
      const env = serviceEnvironment(kind, name, secrets, opts);
      environment.set(name, env);
      const container = await new ServiceContainer(kind)
        .onNetworks({ network: clients, aliases: [] }, { network: backplane, aliases: [name] })
        .withName(`authority-${name}-${stackId}`)
        .withLabels(labels)
        .withEnvironment(env)
        .start();
      started.push(container);
      const member = new Member(name, kind, container, GRPC_PORTS[kind]);
      members.set(name, member);
      services.push(member as StartedService);
    };
    await launch('issuer', 'issuer');
    // The others need only Kafka and MongoDB (the enforcers call the issuer only for approvals):
    // started together, and every start settles before a failure is thrown (stop() finds them all).
    const launched = await Promise.allSettled([
      launch('policy', 'policy'),
      ...Array.from({ length: opts.enforcers ?? 1 }, (_, i) => launch('enforcer', `enforcer-${i + 1}`)),
      ...Array.from({ length: opts.auditors ?? 1 }, (_, i) => launch('auditor', `auditor-${i + 1}`)),
    ]);
    const notLaunched = launched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (notLaunched !== undefined) throw notLaunched.reason;
    const order = (s: StartedService) => kinds.indexOf(s.kind) * 1000 + Number(/\d+$/.exec(s.name)?.[0] ?? 0);
    services.sort((a, b) => order(a) - order(b));

    const member = (name: string): Member => {
      const found = members.get(name);
      if (found === undefined) throw new Error(`no container '${name}' in the stack`);
      return found;
    };
    const dockerContainer = async (name: string) => {
      const client = await getContainerRuntimeClient();
      return { client, container: client.container.getById(member(name).container.getId()) };
    };
    const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
      const published = members.get(host);
      if (published === undefined || published.kind !== 'kafka' || port !== KAFKA_PORT) {
        throw new Error(`no published port for Kafka broker ${host}:${port}`);
      }
      const [h, p] = published.address.split(':') as [string, string];
      const socket = netConnect({ host: h, port: Number(p) }, onConnect);
      socket.setKeepAlive(true, 30_000);
      return socket;
    };

    return {
      network: backplane,
      clients,
      kafka,
      mongo,
      services,
      operatorKey: secrets.operatorKey,
      serviceKey: secrets.serviceKey,
      environment,
      service(name: string): StartedService {
        const found = services.find((s) => s.name === name);
        if (found === undefined) throw new Error(`no service '${name}' in the container stack`);
        return found;
      },
      member,
      members: () => [...members.values()],
      async kill(name) {
        const { container } = await dockerContainer(name);
        await container.kill({ signal: 'SIGKILL' });
        await container.wait(); // returns once Docker saw the process exit
      },
      async restart(name, restartOpts = {}) {
        const m = member(name);
        await m.container.restart({ timeout: restartOpts.graceMs ?? 0 });
        await m.refresh();
      },
      async disconnect(name) {
        const { client, container } = await dockerContainer(name);
        await client.network.getById(backplane.getId()).disconnect({ Container: container.id, Force: true });
        await member(name).refresh();
      },
      async reconnect(name) {
        const { client, container } = await dockerContainer(name);
        await client.container.connectToNetwork(container, client.network.getById(backplane.getId()), [name]);
        await member(name).refresh();
      },
      async health(name, deadlineMs = 2000) {
        const probe = new grpc.Client(member(name).address, grpc.credentials.createInsecure());
        try {
          return await checkHealth(probe, '', { deadlineMs });
        } catch {
          return 'UNREACHABLE';
        } finally {
          probe.close();
        }
      },
      async state(name) {
        const { client, container } = await dockerContainer(name);
        const info = await client.container.inspect(container);
        const s = info.State;
        return {
          running: s.Running,
          exitCode: s.ExitCode,
          restartCount: info.RestartCount,
          startedAt: s.StartedAt,
          oomKilled: s.OOMKilled,
        };
      },
      kafkaClient(clientId = `stack-${stackId}`) {
        return new Kafka({
          clientId,
          brokers: kafka.map((_, i) => `kafka-${i + 1}:${KAFKA_PORT}`),
          socketFactory,
          connectionTimeout: 3_000,
          requestTimeout: 10_000,
          logLevel: KafkaLogLevel.NOTHING,
          retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2_000 },
        });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

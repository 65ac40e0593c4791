// A MongoDB client whose server monitor wedges must come back by itself (issue 14, fault 5).
//
// What the fault suite saw (mongodb 7.9.0 and 7.9.1, FerretDB restarted under load, reproduced in
// a CPU-starved container in 2 of 3 tries): the monitor's polling check wrote `hello` to a
// connection whose socket had just been destroyed; socket.write() then returns false and the
// check waits for a 'drain' that never comes (only an 'error' ends that wait). The monitor never
// checks again, the server stays Unknown, and every operation of the process fails server
// selection. The race needs a starved event loop; this test puts the monitor in exactly that state
// (the one place it touches the driver's internals) and then drops every connection as a
// FerretDB restart does, through a TCP proxy in front of the real server.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { randomId } from '@authority/core';
import { eventually } from '@authority/test-helpers';
import type { MongoClient } from 'mongodb';
import { connectMongo, createLogger, type Logger } from '../../src';
import { requireEnv } from './env';

const uri = requireEnv('MONGODB_URI');
const dbName = `it_monitor_${Date.now()}_${randomId(4).replace(/[^A-Za-z0-9]/g, 'x')}`;

/** A TCP proxy to the real server that can drop every connection and refuse new ones, like a restart. */
class RestartingProxy {
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;
  private server!: net.Server;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Closes every connection; new ones are closed at once until `accept()`. */
  drop(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  accept(): void {
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Makes the monitor's next check hang as the driver's does when its socket closes under it: the
 * write destroys the socket and reports a full buffer, so the check waits for 'drain' forever.
 */
function wedgeNextMonitorCheck(client: MongoClient): void {
  type Socket = { write: (chunk: unknown) => boolean; destroy: () => void };
  const internals = client as unknown as {
    topology: { s: { servers: Map<string, { monitor: { connection: { socket: Socket } | null } }> } };
  };
  const [server] = internals.topology.s.servers.values();
  const socket = server?.monitor.connection?.socket;
  assert.ok(socket, 'the monitor has an open connection');
  socket.write = () => {
    socket.destroy();
    return false;
  };
}

function captureLogger(lines: Record<string, unknown>[]): Logger {
  return createLogger({
    service: 'platform-it',
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } as never,
  });
}

describe('MongoDB client with a wedged server monitor (real server behind a proxy)', { timeout: 120_000 }, () => {
  const target = new URL(uri);
  const proxy = new RestartingProxy({ host: target.hostname, port: Number(target.port || 27017) });
  let client: MongoClient | undefined;

  before(async () => {
    await proxy.start();
  });

  after(async () => {
    await client
      ?.db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await client?.close();
    await proxy.stop();
  });

  it('reconnects by itself after a restart that leaves the monitor stuck, and says so', async () => {
    const lines: Record<string, unknown>[] = [];
    client = await connectMongo(`mongodb://127.0.0.1:${proxy.port}/`, {
      appName: 'platform-it',
      logger: captureLogger(lines),
      heartbeatFrequencyMS: 500,
    });
    const c = client;
    const docs = c.db(dbName).collection('docs');
    await docs.insertOne({ n: 0 });

    // The next check wedges (a heartbeat starts and never ends), then "FerretDB" restarts.
    const started = new Promise<void>((resolve) => c.once('serverHeartbeatStarted', () => resolve()));
    wedgeNextMonitorCheck(c);
    await started;
    proxy.drop();
    await assert.rejects(docs.insertOne({ n: 1 }), 'writes fail while the server is down');
    proxy.accept();

    // Without a recovery the server stays Unknown for good: every write fails server selection.
    await eventually(
      async () => ((await docs.insertOne({ n: 2 }).then(() => true)) ? true : undefined),
      'a write through the client after the restart',
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.ok(
      lines.some((l) => l['msg'] === 'MongoDB server monitor stuck: reconnecting the client'),
      'the recovery is logged',
    );
    assert.equal(await docs.countDocuments({ n: 2 }), 1);
  });
});

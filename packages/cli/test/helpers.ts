// Test harness: run the CLI in-process with captured output, a private home directory and a chosen
// environment (never the developer's real config or credentials).
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startStack, type StackHandle } from '@authority/test-helpers';
import { run, type Io } from '../src';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
  /** stderr parsed as JSON. */
  errJson<T = Record<string, unknown>>(): T;
}

export interface TestIo extends Io {
  dir: string;
  out: string[];
  err: string[];
  stdinText: string;
}

export function testIo(
  env: Record<string, string | undefined> = {},
  opts: { signal?: AbortSignal; now?: () => number; stderrIsTTY?: boolean } = {},
): TestIo {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'authority-cli-'));
  const out: string[] = [];
  const err: string[] = [];
  const io: TestIo = {
    dir,
    out,
    err,
    stdinText: '',
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    stdoutIsTTY: false,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    env: { ...env },
    homedir: dir,
    cwd: dir,
    readFile: (p) => fs.readFile(path.resolve(dir, p), 'utf8'),
    writeFile: async (p, data, o = {}) => {
      await fs.writeFile(path.resolve(dir, p), data, {
        flag: o.exclusive ? 'wx' : 'w',
        mode: o.secret ? 0o600 : 0o644,
      });
    },
    fileExists: async (p) =>
      fs.access(path.resolve(dir, p)).then(
        () => true,
        () => false,
      ),
    readStdin: async () => io.stdinText,
    now: opts.now ?? (() => Date.now()),
    signal: opts.signal ?? new AbortController().signal,
  };
  return io;
}

export async function cli(io: TestIo, ...argv: string[]): Promise<Captured> {
  io.out.length = 0;
  io.err.length = 0;
  const code = await run(argv, io);
  const stdout = io.out.join('');
  const stderr = io.err.join('');
  const parse = (s: string, what: string) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      throw new Error(`${what} is not JSON (exit ${code}):\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
    }
  };
  return {
    code,
    stdout,
    stderr,
    json: <T>() => parse(stdout, 'stdout') as T,
    errJson: <T>() => parse(stderr, 'stderr') as T,
  };
}

/** Writes a file in the test io's directory and returns its path. */
export async function writeIn(io: TestIo, name: string, text: string): Promise<string> {
  const p = path.join(io.dir, name);
  await fs.writeFile(p, text);
  return p;
}

/**
 * The stack the CLI's integration tests run against: one enforcer, the policy service and an
 * auditor that signs a checkpoint every few entries, so `audit verify` rests on a signed checkpoint.
 */
export function startCliStack(): Promise<StackHandle> {
  return startStack({
    enforcers: 1,
    withPolicy: true,
    withAuditor: true,
    auditorEnv: {
      AUTHORITY_AUDITOR_SIGNING_KEY: randomBytes(32).toString('base64'),
      AUTHORITY_CHECKPOINT_EVERY: '5',
      AUTHORITY_CHECKPOINT_INTERVAL: '1s',
    },
  });
}

/**
 * An io configured like a user's shell on that stack: every service address, the tenant and one
 * credential. `stack` is read at call time (tests assign it in `before`).
 */
export function stackShell(
  stack: () => StackHandle,
  tenant: string,
  timeout: string,
): (apiKey: string, extra?: Record<string, string>) => TestIo {
  return (apiKey, extra = {}) => {
    const s = stack();
    return testIo({
      AUTHORITY_ISSUER_ADDR: s.issuer.address,
      AUTHORITY_ENFORCER_ADDR: s.enforcers.map((e) => e.address).join(','),
      AUTHORITY_POLICY_ADDR: s.policy?.address ?? '',
      AUTHORITY_AUDITOR_ADDR: s.auditor?.address ?? '',
      AUTHORITY_TENANT: tenant,
      AUTHORITY_API_KEY: apiKey,
      AUTHORITY_TIMEOUT: timeout,
      ...extra,
    });
  };
}

export interface MintedEnvelope {
  token: string;
  jti: string;
  agentId: string;
  tenant: string;
  depth: number;
  sealed: boolean;
}

/** `envelope mint --json` with these flags: asserts exit 0 and returns the minted envelope. */
export async function mintEnvelope(io: TestIo, ...flags: string[]): Promise<MintedEnvelope> {
  const r = await cli(io, '--json', 'envelope', 'mint', ...flags);
  assert.equal(r.code, 0, `envelope mint ${flags.join(' ')}: ${r.stderr}`);
  return r.json<{ envelope: MintedEnvelope }>().envelope;
}

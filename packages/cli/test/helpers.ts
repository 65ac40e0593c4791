// Test harness: run the CLI in-process with captured output, a private home directory and a chosen
// environment (never the developer's real config or credentials).
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

// Everything the CLI touches outside itself, injectable so tests run `run(argv, io)` in-process and
// capture output: streams, environment, home directory, files, stdin, time, and a stop signal.
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stdout/stderr are terminals (progress and colours only then). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  homedir: string;
  cwd: string;
  readFile(path: string): Promise<string>;
  /**
   * Writes a file; `secret` files are created with mode 0600; `exclusive` refuses to overwrite;
   * `durable` flushes the file and its directory to disk before returning (fsync), for a file that
   * must survive a crash before something it stands for is deleted (an archive).
   */
  writeFile(
    path: string,
    data: string | Uint8Array,
    opts?: { secret?: boolean; exclusive?: boolean; durable?: boolean },
  ): Promise<void>;
  fileExists(path: string): Promise<boolean>;
  readStdin(): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Aborted on Ctrl-C (SIGINT/SIGTERM); long-running commands (audit tail -f) stop on it. */
  signal: AbortSignal;
}

/** The real process. */
export function processIo(signal: AbortSignal): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    homedir: os.homedir(),
    cwd: process.cwd(),
    readFile: (p) => fs.readFile(p, 'utf8'),
    writeFile: async (p, data, opts = {}) => {
      const flag = opts.exclusive ? 'wx' : 'w';
      if (opts.durable) {
        const fh = await fs.open(p, flag, opts.secret ? 0o600 : 0o644);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        const dir = await fs.open(path.dirname(path.resolve(p)), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      } else await fs.writeFile(p, data, { flag, mode: opts.secret ? 0o600 : 0o644 });
      if (opts.secret) await fs.chmod(p, 0o600);
    },
    fileExists: async (p) => {
      try {
        await fs.access(p, fsConstants.F_OK);
        return true;
      } catch {
        return false;
      }
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      return Buffer.concat(chunks).toString('utf8');
    },
    now: () => Date.now(),
    signal,
  };
}

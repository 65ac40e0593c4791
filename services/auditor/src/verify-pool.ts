// Where the auditor's Ed25519 signature checks run: on the consumer thread (inlineVerifier), or on
// worker threads (VerifierPool, AUTHORITY_AUDITOR_VERIFY_THREADS) so that verifying one batch
// overlaps the chain writes of the others. Admission is nearly all of the consumer thread's CPU
// per record, and the verification most of it (a profile of the ingest benchmark on sodium-native:
// 72 µs of the 117 µs of admission).
// Only the arithmetic moves: the header, the key and the signed bytes are prepared on the consumer
// thread (core prepareEventSignature), and a thread that fails or stops fails the batch (never a
// `true`): the batch is not committed and Kafka delivers it again.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ed25519Verify } from '@authority/core';
import type { Logger } from '@authority/platform';
import type { VerifyAnswer, VerifyRequest } from './verify-worker';

/** One Ed25519 verification. */
export interface SignatureJob {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/** Verifies a batch of signatures: one boolean per job, in order. Rejects rather than guess. */
export type BatchVerifier = (jobs: readonly SignatureJob[]) => Promise<boolean[]>;

/** Verification on the calling thread. */
export const inlineVerifier: BatchVerifier = async (jobs) =>
  jobs.map((j) => ed25519Verify(j.signature, j.message, j.publicKey));

const WORKER_FILE = join(__dirname, 'verify-worker.js');

interface Pending {
  resolve: (valid: boolean[]) => void;
  reject: (err: Error) => void;
  n: number;
}

/** One verification thread, started on first use and again after it stopped. */
class VerifyThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly index: number,
    private readonly logger: Logger,
    private readonly workerFile: string,
  ) {}

  verify(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    const n = jobs.length;
    const sigs = new Uint8Array(n * 64);
    const pks = new Uint8Array(n * 32);
    const ends = new Uint32Array(n);
    let total = 0;
    for (const j of jobs) total += j.message.length;
    const msgs = new Uint8Array(total);
    let at = 0;
    jobs.forEach((j, i) => {
      // A wrong length never verifies (as ed25519Verify): an all-zero slot is sent instead.
      if (j.signature.length === 64) sigs.set(j.signature, i * 64);
      if (j.publicKey.length === 32) pks.set(j.publicKey, i * 32);
      msgs.set(j.message, at);
      at += j.message.length;
      ends[i] = at;
    });
    const malformed = jobs.map((j) => j.signature.length !== 64 || j.publicKey.length !== 32);
    const id = this.nextId++;
    const worker = this.started();
    return new Promise<boolean[]>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (valid) => resolve(valid.map((v, i) => v && !malformed[i])),
        reject,
        n,
      });
      const req: VerifyRequest = { id, sigs, pks, msgs, ends };
      try {
        worker.postMessage(req, [sigs.buffer, pks.buffer, msgs.buffer, ends.buffer]);
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(this.workerFile, {
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    });
    // The consumer's sockets keep the process alive; a pool left open must not.
    worker.unref();
    worker.on('message', (answer: VerifyAnswer) => {
      const p = this.pending.get(answer.id);
      if (p === undefined) return;
      this.pending.delete(answer.id);
      if ('error' in answer) p.reject(new Error(`signature verification thread failed: ${answer.error}`));
      else if (!(answer.valid instanceof Uint8Array) || answer.valid.length !== p.n)
        p.reject(new Error('signature verification thread answered a batch of the wrong size'));
      else p.resolve(Array.from(answer.valid, (v) => v === 1));
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const err = new Error(`signature verification thread ${this.index} stopped: ${why}`);
      if (this.pending.size > 0)
        this.logger.warn({ err, batches: this.pending.size }, 'verification thread lost; its batches are redelivered');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    const err = new Error(`signature verification thread ${this.index} closed`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    await worker.terminate();
  }

  /** Stops the thread as a crash would (tests). */
  async crashForTest(): Promise<void> {
    await this.worker?.terminate();
  }
}

export interface VerifierPoolOptions {
  /** Threads (≥ 1). */
  threads: number;
  logger: Logger;
  /** The worker script (tests pass another). */
  workerFile?: string;
}

/** Ed25519 verification on `threads` worker threads; a batch is split evenly across them. */
export class VerifierPool {
  private readonly threads: VerifyThread[];
  private closed = false;

  constructor(opts: VerifierPoolOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new Error('VerifierPool needs at least one thread');
    this.threads = Array.from(
      { length: opts.threads },
      (_, i) => new VerifyThread(i, opts.logger, opts.workerFile ?? WORKER_FILE),
    );
  }

  readonly verify: BatchVerifier = async (jobs) => {
    if (this.closed) throw new Error('signature verification threads closed');
    if (jobs.length === 0) return [];
    const per = Math.ceil(jobs.length / this.threads.length);
    const parts: Promise<boolean[]>[] = [];
    for (let k = 0; k * per < jobs.length; k++) parts.push(this.threads[k]!.verify(jobs.slice(k * per, (k + 1) * per)));
    return (await Promise.all(parts)).flat();
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.close()));
  }

  /** Stops every thread as a crash would (tests: batches in flight fail, the next call starts new threads). */
  async crashForTest(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.crashForTest()));
  }
}

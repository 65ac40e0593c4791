// The end-to-end engineer's in-process stack (test/src/stack.ts, package @authority/e2e): the real
// issuer, enforcer(s), policy service and auditor against the REAL Kafka and MongoDB-wire server.
// Loaded at run time (not a TypeScript project reference, so the e2e package may depend on the SDK
// and CLI without a build cycle); the shape used here is declared structurally.

export interface StackHandle {
  operatorKey: string;
  prefix: string;
  issuer: { address: string };
  enforcers: { address: string; handle: { stop(): Promise<void> } }[];
  policy?: { address: string };
  auditor?: { address: string };
  stop(): Promise<void>;
}

export interface StackOptions {
  enforcers?: number;
  withPolicy?: boolean;
  withAuditor?: boolean;
  auditorEnv?: Record<string, string>;
}

/** Fails loudly when the infrastructure is not configured (never skips). */
export function requireInfra(): void {
  if (!process.env['KAFKA_BROKERS'] || !process.env['MONGODB_URI']) {
    throw new Error(
      'integration tests need KAFKA_BROKERS and MONGODB_URI (source /work/main/.infra/env or run `npm run infra:up`)',
    );
  }
}

export async function startStack(opts: StackOptions): Promise<StackHandle> {
  requireInfra();
  const spec = '@authority/e2e/dist/src/stack';
  let mod: { startStack?: (o: StackOptions) => Promise<StackHandle> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(spec) as typeof mod;
  } catch (err) {
    throw new Error(`cannot load ${spec} (build it with \`npx tsc -b test\`): ${(err as Error).message}`);
  }
  if (typeof mod.startStack !== 'function') throw new Error(`${spec} does not export startStack`);
  return mod.startStack(opts);
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

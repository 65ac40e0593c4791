// The end-to-end in-process stack (test/src/stack.ts, package @authority/e2e): the real issuer,
// enforcer(s), policy service and auditor against the REAL Kafka and MongoDB-wire server. Loaded
// at run time (not a TypeScript project reference, so the e2e package may depend on the SDK and
// the CLI without a build cycle); the shape used here is declared structurally.
import { requireInfra } from './infra';

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

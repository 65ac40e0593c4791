// Shared pieces of the commands: option parsers that fail as usage errors, the action wrapper,
// and the grant flags of mint / delegate / attenuate.
import { Command, InvalidArgumentError, Option } from 'commander';
import { AuthorityError, parseConstraints, constraintsToWire } from '@authority/core';
import { HolderKey, holderPublicKey, publicKeyFromJwk } from '@authority/sdk';
import { CommandContext } from '../context';
import { parseDurationSeconds, parseTimePoint } from '../duration';
import { usage } from '../exit';
import type { Io } from '../io';

/** Shared between run() and the actions: the exit code the command chose. */
export interface RunState {
  io: Io;
  exitCode: number;
}

type ActionFn = (
  ctx: CommandContext,
  args: string[],
  opts: Record<string, unknown>,
  cmd: Command,
) => Promise<number | void>;

/** Wraps a command action: builds the context from all flags, closes clients, records the exit code. */
export function action(state: RunState, fn: ActionFn): (...a: unknown[]) => Promise<void> {
  return async (...a: unknown[]) => {
    const cmd = a[a.length - 1] as Command;
    const opts = (a[a.length - 2] ?? {}) as Record<string, unknown>;
    const args = a.slice(0, -2).map((x) => x as string);
    const ctx = new CommandContext(state.io, cmd.optsWithGlobals());
    try {
      state.exitCode = (await fn(ctx, args, opts, cmd)) ?? 0;
    } finally {
      ctx.close();
    }
  };
}

/** Collects a repeatable option, splitting comma-separated values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/** Collects repeatable `key=value` options. */
export function collectPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

export function intOption(min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

export function durationSecondsOption(value: string): number {
  try {
    return parseDurationSeconds(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A time point option (duration ago, `now`, or ISO 8601); parsed later against io.now(). */
export function timeOption(value: string): string {
  try {
    parseTimePoint(value, Date.now());
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

export function resolveTime(ctx: CommandContext, text: unknown): Date | undefined {
  if (typeof text !== 'string') return undefined;
  return new Date(parseTimePoint(text, ctx.io.now()));
}

export function choiceOption(flags: string, description: string, choices: string[]): Option {
  return new Option(flags, description).choices(choices);
}

/** Adds `--token-file` (the token itself is a positional argument, `-` for stdin). */
export function tokenOptions(cmd: Command): Command {
  return cmd.option(
    '--token-file <file>',
    'read the token from a file (or pass it as the argument, - for stdin, or set AUTHORITY_TOKEN)',
  );
}

/** The grant flags of mint / delegate / attenuate. */
export function grantOptions(cmd: Command): Command {
  return cmd
    .option('-s, --scope <scope>', 'scope to grant, e.g. vault:finance:read (repeatable, comma-separated)', collect)
    .option('-r, --resource <pattern>', 'resource glob to grant, e.g. slos://vaults/finance/* (repeatable)', collect)
    .option('--context-field <name>', 'context field the agent may see and send (repeatable)', collect)
    .option('--constraints <json>', 'constraints as JSON, e.g. \'{"require_purpose":true}\'')
    .option('--require-purpose', 'constraint: every call must declare a purpose')
    .option('--max-records <n>', 'constraint: at most n records per call', intOption(1, 0xffff_ffff))
    .option('--deny-resource <glob>', 'constraint: refuse resources matching the glob (repeatable)', collect)
    .option('--write-requires-approval', 'constraint: write/create/update/delete need a human approval')
    .option('--ttl <duration>', 'lifetime, e.g. 90s, 5m, 1h, 24h (60 s to 24 h)', durationSecondsOption);
}

export interface GrantFlags {
  scope?: string[];
  resource?: string[];
  contextField?: string[];
  constraints?: string;
  requirePurpose?: boolean;
  maxRecords?: number;
  denyResource?: string[];
  writeRequiresApproval?: boolean;
  ttl?: number;
}

/**
 * Constraints from --constraints plus the constraint flags, in wire form, validated offline with
 * core's parser (unknown or empty constraints are refused, as the issuer would). Undefined when
 * none were given.
 */
export function constraintsFromFlags(f: GrantFlags): Record<string, unknown> | undefined {
  let obj: Record<string, unknown> = {};
  if (f.constraints !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(f.constraints);
    } catch (err) {
      throw usage(`--constraints: not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw usage('--constraints: expected a JSON object');
    obj = { ...(parsed as Record<string, unknown>) };
  }
  if (f.requirePurpose) obj.require_purpose = true;
  if (f.maxRecords !== undefined) obj.max_records_per_request = f.maxRecords;
  if (f.denyResource !== undefined && f.denyResource.length > 0)
    obj.denied_resources = [...((obj.denied_resources as string[] | undefined) ?? []), ...f.denyResource];
  if (f.writeRequiresApproval) obj.write_requires_approval = true;
  if (Object.keys(obj).length === 0) return undefined;
  try {
    return constraintsToWire(parseConstraints(obj, 'INVALID_REQUEST', 'constraints'));
  } catch (err) {
    throw usage(`--constraints: ${err instanceof AuthorityError ? err.message : String(err)}`);
  }
}

/** Parses a holder key file (a JWK, as `authority envelope keygen` writes it). */
async function readJwkFile(ctx: CommandContext, file: string): Promise<unknown> {
  const text = await ctx.readInput(file, 'holder key file');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Never quote the file: it holds a secret.
    throw usage(
      `holder key file ${file}: not JSON (expected an Ed25519 JWK; create one with \`authority envelope keygen\`)`,
    );
  }
}

/** Reads a holder key file with its private part (`d`): a key that can seal, prove and attenuate. */
export async function readHolderKey(ctx: CommandContext, file: string): Promise<HolderKey> {
  const jwk = await readJwkFile(ctx, file);
  try {
    return await HolderKey.fromJwk(jwk);
  } catch (err) {
    throw usage(`holder key file ${file}: ${(err as Error).message}`);
  }
}

/**
 * Reads a holder key file (private or public JWK). Returns the public key, and the key itself when
 * the file has its private part.
 */
export async function readHolderKeyFile(
  ctx: CommandContext,
  file: string,
): Promise<{ publicKey: Uint8Array; key?: HolderKey }> {
  const jwk = await readJwkFile(ctx, file);
  try {
    const publicKey = publicKeyFromJwk(jwk);
    if ((jwk as Record<string, unknown>).d === undefined) return { publicKey };
    return { publicKey, key: await HolderKey.fromJwk(jwk) };
  } catch (err) {
    throw usage(`holder key file ${file}: ${(err as Error).message}`);
  }
}

/** A holder PUBLIC key given on the command line (base64url, the `x` that keygen prints). */
export function publicKeyOption(flag: string, value: string): Uint8Array {
  try {
    return holderPublicKey(value);
  } catch {
    throw usage(`${flag}: expected a 32-byte Ed25519 public key in base64url (43 characters), as keygen prints it`);
  }
}

/** Writes a holder key's private JWK to a new file, mode 0600 (never overwrites). */
export async function writeHolderKeyFile(
  ctx: CommandContext,
  flag: string,
  file: string,
  key: HolderKey,
): Promise<void> {
  await ctx.io
    .writeFile(file, `${JSON.stringify(key.exportPrivateJwk(), null, 2)}\n`, { secret: true, exclusive: true })
    .catch((err: NodeJS.ErrnoException) => {
      throw usage(
        `${flag} ${file}: ${err.code === 'EEXIST' ? 'file exists (refusing to overwrite a key)' : err.message}`,
      );
    });
}

// envelope mint | delegate | attenuate | seal | keygen | inspect | check · revoke envelope | agent
// Size: the envelope subcommands' options and output, each short, sharing this file's helpers
// for showing envelopes and decisions and choosing the holder key.
import type { Command } from 'commander';
import {
  AuthorityError,
  closestName,
  constraintsToWire,
  parseConstraints,
  parsePolicy,
  parseToken,
  policyViewFor,
  splitSeal,
  type AgentPolicyView,
} from '@authority/core';
import type { CheckResponse__Output, Envelope__Output, Grant } from '@authority/proto';
import {
  AuthorityApiError,
  HolderKey,
  NotFoundError,
  Status,
  agentChainOf,
  attenuate,
  isSealed,
  seal,
  type AttenuateParams,
  type IssuedEnvelope,
} from '@authority/sdk';
import { CliError, ExitCode, isRefusalReason, usage } from '../exit';
import { inspectToken, renderInspection } from '../inspect';
import { isoOf } from '../output';
import type { CommandContext } from '../context';
import {
  action,
  collect,
  collectPairs,
  constraintsFromFlags,
  grantOptions,
  intOption,
  publicKeyOption,
  readHolderKey,
  readHolderKeyFile,
  tokenOptions,
  writeHolderKeyFile,
  type GrantFlags,
  type RunState,
} from './common';

/** TTL of a minted envelope when neither --ttl nor the policy's max_ttl says otherwise. */
const DEFAULT_MINT_TTL = 3600;
/** The envelope rules' longest TTL (24 h). */
const MAX_MINT_TTL = 86_400;

/** What is shown of an envelope (from the issuer, or derived offline). */
interface ShownEnvelope {
  token: string;
  jti: string;
  agentId: string;
  tenant: string;
  notBefore: string;
  expiresAt: string;
  depth: number;
  keyId: string;
  sealed: boolean;
  agentChain: string[];
}

function fromIssuer(env: Envelope__Output, token = env.token): ShownEnvelope {
  return {
    token,
    jti: env.jti,
    agentId: env.agentId,
    tenant: env.tenant,
    notBefore: isoOf(env.notBefore),
    expiresAt: isoOf(env.expiresAt),
    depth: env.depth,
    keyId: env.keyId,
    sealed: isSealed(token),
    agentChain: env.agentChain.length > 0 ? [...env.agentChain] : claimedAgentChain(token),
  };
}

/** The summary of an envelope derived offline, from its leaf's claims. */
function fromLeaf(
  token: string,
  c: { jti: string; sub: string; tnt: string; nbf: number; exp: number; dep: number },
  keyId: string,
  sealed: boolean,
  agentChain: string[],
): ShownEnvelope {
  return {
    token,
    jti: c.jti,
    agentId: c.sub,
    tenant: c.tnt,
    notBefore: new Date(c.nbf * 1000).toISOString(),
    expiresAt: new Date(c.exp * 1000).toISOString(),
    depth: c.dep,
    keyId,
    sealed,
    agentChain,
  };
}

function claimedAgentChain(token: string): string[] {
  try {
    return agentChainOf(token);
  } catch {
    return [];
  }
}

/** The holder key that goes with an emitted envelope: its file, or its secret when asked to print it. */
interface HolderKeyNote {
  /** `holderKey` (the envelope's own) or `childKey` (an attenuated child's). */
  label: 'holderKey' | 'childKey';
  key: HolderKey;
  file?: string;
  printSecret: boolean;
}

async function emitEnvelope(
  ctx: CommandContext,
  env: ShownEnvelope,
  opts: Record<string, unknown>,
  holder?: HolderKeyNote,
): Promise<void> {
  const out = opts.out as string | undefined;
  if (out !== undefined) await ctx.io.writeFile(out, `${env.token}\n`, { secret: true });
  if (ctx.json) {
    const doc: Record<string, unknown> = {
      envelope: out !== undefined ? { ...env, token: undefined, tokenFile: out } : env,
    };
    if (holder !== undefined) {
      const pub: Record<string, unknown> = { publicKey: holder.key.publicKeyBase64Url };
      if (holder.file !== undefined) pub.file = holder.file;
      if (holder.printSecret) pub.jwk = holder.key.exportPrivateJwk();
      doc[holder.label] = pub;
    }
    ctx.out.data(doc);
    return;
  }
  if (opts.quiet) {
    if (out === undefined) ctx.io.stdout(`${env.token}\n`);
  } else {
    ctx.out.fields([
      ['agent', env.agentId],
      ['lineage', env.agentChain.length > 1 ? env.agentChain.join(' > ') : undefined],
      ['tenant', env.tenant],
      ['jti', env.jti],
      ['depth', env.depth],
      ['signed by', env.keyId],
      ['not before', env.notBefore],
      ['expires', env.expiresAt],
      [
        'sealed',
        env.sealed ? 'yes (presentable)' : 'NO: the holder seals it (authority envelope seal --holder-key FILE)',
      ],
    ]);
    if (holder !== undefined) {
      const what = holder.label === 'childKey' ? "child's holder key" : 'holder key';
      ctx.out.line(`${what} (public): ${holder.key.publicKeyBase64Url}`);
      if (holder.file !== undefined) ctx.out.line(`${what} written to ${holder.file} (mode 0600)`);
    }
    if (out !== undefined) ctx.out.line(`token written to ${out} (mode 0600)`);
    else {
      ctx.out.line(env.sealed ? 'token:' : 'chain (unsealed):');
      ctx.out.line(env.token);
    }
  }
  if (holder?.printSecret) {
    // Only on explicit request, and never mixed into the token line of -q output.
    ctx.io.stdout(`${JSON.stringify(holder.key.exportPrivateJwk())}\n`);
    ctx.out.note('(the line above is a SECRET holder key: store it like a password)');
  }
}

function grantFrom(
  f: GrantFlags,
  defaults?: { scp: string[]; res: string[]; ctx: string[]; cns: Record<string, unknown> },
): Grant | undefined {
  const cns = constraintsFromFlags(f);
  const given = f.scope !== undefined || f.resource !== undefined || f.contextField !== undefined || cns !== undefined;
  if (!given && defaults !== undefined) return undefined;
  const grant: Grant = {
    scopes: f.scope ?? defaults?.scp ?? [],
    resources: f.resource ?? defaults?.res ?? [],
    contextFields: f.contextField ?? defaults?.ctx ?? [],
    constraintsJson: JSON.stringify(cns ?? defaults?.cns ?? { unconstrained: true }),
  };
  return grant;
}

/** The agent's entry in the tenant's current policy, or undefined when the tenant has no policy. */
async function policyEntry(
  ctx: CommandContext,
  tenant: string,
  agent: string,
): Promise<{ version: string; view: AgentPolicyView } | undefined> {
  const client = await ctx.policy();
  let stored;
  try {
    stored = (await client.getPolicy({ tenant, version: 0 })).policy;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    if (err instanceof AuthorityApiError && err.code === Status.UNAVAILABLE)
      throw new CliError(
        `mint takes the grant flags you leave out from the agent's policy entry, and the policy service is unreachable (${err.message}); set AUTHORITY_POLICY_ADDR, or give --scope, --resource, the constraint flags and --ttl`,
        ExitCode.UNAVAILABLE,
      );
    throw err;
  }
  if (stored === null || stored === undefined || stored.deleted) return undefined;
  const policy = parsePolicy(stored.yaml);
  const view = policyViewFor(policy, agent);
  if (view === undefined) {
    const names = [...policy.agents.keys()];
    const near = closestName(agent, names);
    throw new CliError(
      `agent '${agent}' is not in policy version ${policy.version} of tenant ${tenant}${near !== undefined ? `: did you mean '${near}'?` : ''} (agents: ${names.join(', ')})`,
      ExitCode.DENIED,
      { reason: 'POLICY_DENIED', field: 'agent_id' },
    );
  }
  return { version: policy.version, view };
}

/**
 * The grant and TTL of a mint: what the flags give, and for every field they leave out, the agent's
 * policy entry (scopes, resources, constraints, max_ttl), so `mint --agent A` mints exactly what
 * the policy allows A. Flags can only narrow it: constraint flags are added to the policy's, and
 * the issuer refuses (POLICY_DENIED, exit 3, naming the field) a scope, resource, weaker
 * constraint or TTL the policy does not allow.
 */
async function mintGrant(
  ctx: CommandContext,
  tenant: string,
  agent: string,
  f: GrantFlags,
): Promise<{ grant: Grant; ttlSeconds: number }> {
  const flagConstraints = constraintsFromFlags(f);
  const complete =
    f.scope !== undefined && f.resource !== undefined && flagConstraints !== undefined && f.ttl !== undefined;
  const entry = complete ? undefined : await policyEntry(ctx, tenant, agent);
  if (entry === undefined) {
    if (f.scope === undefined || f.scope.length === 0)
      throw usage(
        complete
          ? 'mint needs at least one --scope'
          : `mint needs --scope: tenant ${tenant} has no policy to take agent '${agent}'s grant from`,
      );
    return { grant: grantFrom(f) as Grant, ttlSeconds: f.ttl ?? DEFAULT_MINT_TTL };
  }
  const { view, version } = entry;
  const policyConstraints = constraintsToWire(view.constraints);
  let constraints: Record<string, unknown> = { ...policyConstraints, ...flagConstraints };
  const denied = [
    ...((policyConstraints.denied_resources as string[] | undefined) ?? []),
    ...((flagConstraints?.denied_resources as string[] | undefined) ?? []),
  ];
  if (denied.length > 0) constraints.denied_resources = [...new Set(denied)];
  // "No constraint" (the policy's {unconstrained: true}) gives way to any constraint a flag adds.
  if (Object.keys(constraints).length > 1) delete constraints.unconstrained;
  if (Object.keys(constraints).length === 0) constraints = { unconstrained: true };
  else {
    try {
      constraints = constraintsToWire(parseConstraints(constraints, 'INVALID_REQUEST', 'constraints'));
    } catch (err) {
      throw usage(
        `the constraint flags do not combine with the policy's constraints ${JSON.stringify(policyConstraints)}: ${err instanceof AuthorityError ? err.message : String(err)}`,
      );
    }
  }
  const scopes = f.scope ?? [...view.scopes];
  const resources = f.resource ?? [...view.resources];
  const grant: Grant = {
    scopes,
    resources,
    contextFields: f.contextField ?? [],
    constraintsJson: JSON.stringify(constraints),
  };
  const ttlSeconds = f.ttl ?? Math.min(view.maxTtlSeconds ?? DEFAULT_MINT_TTL, MAX_MINT_TTL);
  ctx.out.note(
    `grant from policy version ${version} for agent '${agent}' (flags only narrow it): scopes ${scopes.join(', ')}; resources ${resources.join(', ') || '(none)'}; constraints ${grant.constraintsJson}; ttl ${ttlSeconds}s`,
  );
  return { grant, ttlSeconds };
}

function leafClaims(token: string) {
  try {
    const links = parseToken(splitSeal(token).chain);
    return (links[links.length - 1] as (typeof links)[number]).claims;
  } catch (err) {
    throw new CliError(
      `the token does not parse: ${err instanceof AuthorityError ? err.message : String(err)}`,
      ExitCode.VERIFICATION_FAILED,
    );
  }
}

/** The agent and tenant a token's leaf claims (read without trusting it), or undefined when it does not parse. */
function claimedBy(token: string): { agent: string; tenant: string } | undefined {
  try {
    const links = parseToken(splitSeal(token).chain);
    const leaf = (links[links.length - 1] as (typeof links)[number]).claims;
    return { agent: leaf.sub, tenant: leaf.tnt };
  } catch {
    return undefined;
  }
}

function printDecision(ctx: CommandContext, res: CheckResponse__Output, token: string): void {
  ctx.out.data(res);
  if (ctx.json) return;
  const head = res.decision === 'ALLOW' ? 'ALLOW' : `DENY ${res.reason}`;
  ctx.out.line(`${head}${res.message ? `: ${res.message}` : ''}`);
  // A denied token may not verify: the enforcer then attributes the decision to the agent the
  // token claims and names no tenant. Say who it was about anyway, marked as claimed.
  const claimed = res.chainUnverified || res.agentId === '' || res.tenant === '' ? claimedBy(token) : undefined;
  const agentClaimed = res.chainUnverified || res.agentId === '';
  ctx.out.fields([
    [agentClaimed ? 'agent (claimed)' : 'agent', res.agentId || claimed?.agent],
    [
      res.chainUnverified ? 'lineage (claimed)' : 'lineage',
      res.agentChain.length > 1 ? res.agentChain.join(' > ') : undefined,
    ],
    [res.tenant === '' ? 'tenant (claimed)' : 'tenant', res.tenant || claimed?.tenant],
    ['field', res.field],
    ['policy version', res.policyVersion],
    ['approval request', res.approvalRequestId],
    ['decision id', res.decisionId],
  ]);
  if (res.reason === 'APPROVAL_REQUIRED' && res.approvalRequestId) {
    ctx.out.note(
      `An approver can run: authority approval approve ${res.approvalRequestId}\nThen repeat this check with --approval ${res.approvalRequestId}`,
    );
  }
  if (res.reason === 'PROOF_REQUIRED') {
    ctx.out.note(
      res.field === 'seal'
        ? 'The token is not sealed: seal it (authority envelope seal --holder-key FILE) or pass --holder-key FILE to send a per-request proof.'
        : "A per-request proof is required ('pop: required'): pass --holder-key FILE --proof.",
    );
  }
}

/** The holder-key flags of mint and delegate (who the new envelope is bound to). */
function holderKeyOptions(cmd: Command, what: string): Command {
  return cmd
    .option(
      '--holder-public-key <b64url>',
      `bind ${what} to the agent's own key (the public x that keygen prints); the token is returned UNSEALED for the agent to seal`,
    )
    .option('--holder-key <jwk-file>', `bind ${what} to this key file; with its private part the token is sealed here`)
    .option(
      '--holder-key-out <file>',
      `let the issuer generate the holder key and write it here (JWK, mode 0600, never overwritten)`,
    )
    .option('--print-secret', 'print a generated holder key (SECRET) on stdout');
}

interface HolderChoice {
  /** Sent as holder_public_key; undefined lets the issuer generate the key. */
  publicKey?: Uint8Array;
  /** The key, when the file had its private part (the token is sealed with it). */
  key?: HolderKey;
  keyOut?: string;
  printSecret: boolean;
}

async function holderChoice(ctx: CommandContext, opts: Record<string, unknown>): Promise<HolderChoice> {
  const given = ['holderPublicKey', 'holderKey', 'holderKeyOut'].filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw usage('give only one of --holder-public-key, --holder-key and --holder-key-out');
  const printSecret = opts.printSecret === true;
  if (printSecret && (opts.holderPublicKey !== undefined || opts.holderKey !== undefined))
    throw usage('--print-secret prints a key the issuer generates: not with --holder-public-key or --holder-key');
  if (opts.holderPublicKey !== undefined)
    return { publicKey: publicKeyOption('--holder-public-key', opts.holderPublicKey as string), printSecret };
  if (opts.holderKey !== undefined) {
    const f = await readHolderKeyFile(ctx, opts.holderKey as string);
    return f.key === undefined
      ? { publicKey: f.publicKey, printSecret }
      : { publicKey: f.publicKey, key: f.key, printSecret };
  }
  const keyOut = opts.holderKeyOut as string | undefined;
  if (keyOut !== undefined && (await ctx.io.fileExists(keyOut)))
    throw usage(`--holder-key-out ${keyOut}: file exists (refusing to overwrite a key)`);
  return keyOut === undefined ? { printSecret } : { keyOut, printSecret };
}

/** Emits what Mint/Delegate returned, sealing with or saving the holder key as chosen. */
async function emitIssued(
  ctx: CommandContext,
  res: IssuedEnvelope,
  choice: HolderChoice,
  opts: Record<string, unknown>,
): Promise<void> {
  let token = res.envelope.token;
  if (choice.key !== undefined && !isSealed(token)) token = seal(token, choice.key);
  let note: HolderKeyNote | undefined;
  if (res.holderKey !== undefined) {
    note = { label: 'holderKey', key: res.holderKey, printSecret: choice.printSecret };
    if (choice.keyOut !== undefined) {
      await writeHolderKeyFile(ctx, '--holder-key-out', choice.keyOut, res.holderKey);
      note.file = choice.keyOut;
    } else if (!choice.printSecret) {
      ctx.out.note(
        'The issuer generated the holder key; it was not kept (use --holder-key-out FILE to keep it, or --holder-public-key with your own key).',
      );
    }
  }
  await emitEnvelope(ctx, fromIssuer(res.envelope, token), opts, note);
}

function offlineError(err: unknown, what: string): never {
  if (err instanceof AuthorityError)
    throw new CliError(
      `cannot ${what}: ${err.reason}${err.field ? ` (${err.field})` : ''}: ${err.message}`,
      err.reason === 'INVALID_TOKEN'
        ? ExitCode.VERIFICATION_FAILED
        : isRefusalReason(err.reason)
          ? ExitCode.DENIED
          : ExitCode.FAILURE,
      { reason: err.reason, ...(err.field ? { field: err.field } : {}) },
    );
  throw err;
}

export function registerEnvelope(program: Command, state: RunState): void {
  const envelope = program
    .command('envelope')
    .description('mint, delegate, attenuate, seal, inspect and check envelopes (tokens)');

  holderKeyOptions(
    grantOptions(
      envelope
        .command('mint')
        .description('mint a root envelope for an agent: by default what its policy entry allows; flags narrow it')
        .requiredOption('-a, --agent <id>', 'the agent the envelope is issued to'),
    ),
    'the envelope',
  )
    .option('--audience <aud>', 'restrict to these audiences (repeatable)', collect)
    .option('-o, --out <file>', 'write the token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .addHelpText(
      'after',
      `
Every envelope is bound to a holder key: only its holder can present it (seal it, or prove
possession per request) or attenuate it. Best: the agent runs \`authority envelope keygen\` and you
pass its public key with --holder-public-key; the agent then seals the token itself.
Grant flags you leave out come from the agent's entry in the tenant policy (scopes, resources,
constraints, max_ttl); the flags you give can only narrow it (a wider grant is refused:
POLICY_DENIED, exit 3). Without a policy, --scope is required, and without constraint flags the
envelope is declared unconstrained ({"unconstrained":true}).
Examples:
  authority envelope mint --agent academic-advisor --holder-public-key <x>
  authority envelope mint --agent academic-advisor --holder-public-key <x> --max-records 5 --ttl 15m`,
    )
    .action(
      action(state, async (ctx, _a, opts) => {
        const f = opts as GrantFlags & Record<string, unknown>;
        const tenant = await ctx.tenant();
        const agent = opts.agent as string;
        const { grant, ttlSeconds } = await mintGrant(ctx, tenant, agent, f);
        const choice = await holderChoice(ctx, opts);
        const issuer = await ctx.issuer();
        const res = await issuer.mint({
          tenant,
          agentId: agent,
          grant,
          ttlSeconds,
          ...(choice.publicKey ? { holderPublicKey: Buffer.from(choice.publicKey) } : {}),
          ...(opts.audience ? { audience: opts.audience as string[] } : {}),
        });
        await emitIssued(ctx, res, choice, opts);
      }),
    );

  holderKeyOptions(
    tokenOptions(
      grantOptions(
        envelope
          .command('delegate')
          .description(
            "ask the issuer for a narrower child of a SEALED token (online); unspecified grant fields keep the parent's",
          )
          .argument('[token]', 'the parent token (or --token-file, - for stdin)')
          .option('-a, --agent <id>', "the sub-agent: '<parent>/<name>' (default: the parent's agent)")
          .option('--parent-holder-key <jwk-file>', "seal an unsealed parent token with the parent's holder key first"),
      ),
    ),
    'the child',
  )
    .option('-o, --out <file>', 'write the token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .addHelpText(
      'after',
      `
The sub-agent should generate its own key (authority envelope keygen) and give you its public key
for --holder-public-key; the child comes back UNSEALED and only the sub-agent can seal it.
Example:
  authority envelope delegate --token-file advisor.token --agent academic-advisor/summarizer \\
    --holder-public-key <x> --scope vault:student-records:read --ttl 10m`,
    )
    .action(
      action(state, async (ctx, [positional], opts) => {
        let parent = await ctx.token(positional, opts.tokenFile as string | undefined);
        const leaf = leafClaims(parent);
        if (!isSealed(parent)) {
          if (opts.parentHolderKey === undefined)
            throw usage(
              'the parent token is not sealed and the issuer requires proof that you hold it: pass --parent-holder-key FILE (or seal it with `authority envelope seal`)',
            );
          const parentKey = await readHolderKey(ctx, opts.parentHolderKey as string);
          try {
            parent = seal(parent, parentKey);
          } catch (err) {
            offlineError(err, 'seal the parent');
          }
        }
        const f = opts as GrantFlags & Record<string, unknown>;
        const grant = grantFrom(f, { scp: leaf.scp, res: leaf.res, ctx: leaf.ctx, cns: leaf.cns });
        const choice = await holderChoice(ctx, opts);
        const issuer = await ctx.issuer();
        const res = await issuer.delegate({
          tenant: (await ctx.cfg()).tenant ?? leaf.tnt,
          parentToken: parent,
          agentId: (opts.agent as string | undefined) ?? '',
          ...(grant ? { grant } : {}),
          ttlSeconds: f.ttl ?? 0,
          ...(choice.publicKey ? { holderPublicKey: Buffer.from(choice.publicKey) } : {}),
        });
        await emitIssued(ctx, res, choice, opts);
      }),
    );

  tokenOptions(
    grantOptions(
      envelope
        .command('attenuate')
        .description(
          "derive a narrower child OFFLINE, signed with the parent's holder key; prints the UNSEALED child chain",
        )
        .argument('[token]', 'the parent token (or --token-file, - for stdin)')
        .requiredOption('--holder-key <jwk-file>', "the parent's holder key, with its private part ('d')")
        .option('-a, --agent <id>', "the sub-agent: '<parent>/<name>' (default: the parent's agent)")
        .option('--child-public-key <b64url>', "the sub-agent's own public key (from its `envelope keygen`)")
        .option('--child-key-out <file>', "generate the child's key and write it here (JWK, mode 0600)")
        .option('--print-secret', "generate the child's key and print it (SECRET) on stdout"),
    ),
  )
    .option('--audience <aud>', 'restrict to these audiences (repeatable)', collect)
    .option('-o, --out <file>', 'write the chain to this file (mode 0600)')
    .option('-q, --quiet', 'print only the chain')
    .addHelpText(
      'after',
      `
Constraint flags are ADDED to the parent's constraints (a child is always at least as tight).
The child is bound to the sub-agent's key and comes out UNSEALED: hand the chain to the sub-agent,
which seals it with \`authority envelope seal --holder-key <its key>\`. Your own seal never travels.`,
    )
    .action(
      action(state, async (ctx, [positional], opts) => {
        const parent = await ctx.token(positional, opts.tokenFile as string | undefined);
        const f = opts as GrantFlags & Record<string, unknown>;
        const childChoices = ['childPublicKey', 'childKeyOut', 'printSecret'].filter((k) => opts[k] !== undefined);
        if (childChoices.length === 0)
          throw usage(
            "attenuate needs the child's key: --child-public-key <x> (the sub-agent's own), or --child-key-out FILE / --print-secret to generate one",
          );
        if (opts.childPublicKey !== undefined && childChoices.length > 1)
          throw usage("--child-public-key: the key is the sub-agent's; not with --child-key-out or --print-secret");
        const keyOut = opts.childKeyOut as string | undefined;
        if (keyOut !== undefined && (await ctx.io.fileExists(keyOut)))
          throw usage(`--child-key-out ${keyOut}: file exists (refusing to overwrite a key)`);
        const key = await readHolderKey(ctx, opts.holderKey as string);
        const params: AttenuateParams = {};
        if (opts.childPublicKey !== undefined)
          params.childPublicKey = publicKeyOption('--child-public-key', opts.childPublicKey as string);
        if (opts.agent !== undefined) params.agent = opts.agent as string;
        if (f.scope !== undefined) params.scopes = f.scope;
        if (f.resource !== undefined) params.resources = f.resource;
        if (f.contextField !== undefined) params.context = f.contextField;
        const cns = constraintsFromFlags(f);
        if (cns !== undefined) params.constraints = cns;
        if (f.ttl !== undefined) params.ttlSeconds = f.ttl;
        if (opts.audience !== undefined) params.audience = opts.audience as string[];
        let child;
        try {
          child = await attenuate(parent, key, params, { now: Math.floor(ctx.io.now() / 1000) });
        } catch (err) {
          offlineError(err, 'attenuate');
        }
        const c = child.claims;
        let note: HolderKeyNote | undefined;
        if (child.childKey !== undefined) {
          note = { label: 'childKey', key: child.childKey, printSecret: opts.printSecret === true };
          if (keyOut !== undefined) {
            await writeHolderKeyFile(ctx, '--child-key-out', keyOut, child.childKey);
            note.file = keyOut;
          }
        }
        await emitEnvelope(
          ctx,
          fromLeaf(child.chain, c, 'cnf (holder key, offline)', false, child.agentChain),
          opts,
          note,
        );
      }),
    );

  tokenOptions(
    envelope
      .command('seal')
      .description("seal a chain with its holder key (the last link's 'cnf' key), making it presentable")
      .argument('[token]', 'the chain or token (or --token-file, - for stdin)')
      .requiredOption('--holder-key <jwk-file>', "the holder key of the chain's last link, with its private part"),
  )
    .option('-o, --out <file>', 'write the sealed token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .action(
      action(state, async (ctx, [positional], opts) => {
        const chain = await ctx.token(positional, opts.tokenFile as string | undefined);
        const key = await readHolderKey(ctx, opts.holderKey as string);
        let token: string;
        try {
          token = seal(chain, key);
        } catch (err) {
          offlineError(err, 'seal');
        }
        const leaf = leafClaims(token);
        await emitEnvelope(ctx, fromLeaf(token, leaf, 'holder seal', true, claimedAgentChain(token)), opts);
      }),
    );

  envelope
    .command('keygen')
    .description('create an Ed25519 holder key (JWK file, mode 0600) and print its public key')
    .requiredOption('-o, --out <file>', 'where to write the private JWK (mode 0600; never overwritten)')
    .option('--public-out <file>', 'also write the public JWK here')
    .option('-q, --quiet', 'print only the public key x (for X=$(authority envelope keygen -o FILE -q))')
    .action(
      action(state, async (ctx, _a, opts) => {
        const key = await HolderKey.generate();
        await writeHolderKeyFile(ctx, '--out', opts.out as string, key);
        const pub = key.publicJwk();
        if (opts.publicOut !== undefined)
          await ctx.io.writeFile(opts.publicOut as string, `${JSON.stringify(pub, null, 2)}\n`);
        if (opts.quiet && !ctx.json) {
          ctx.io.stdout(`${pub.x}\n`);
          return;
        }
        ctx.out.data({ publicKey: pub, file: opts.out, ...(opts.publicOut ? { publicFile: opts.publicOut } : {}) });
        ctx.out.line(`holder key written to ${String(opts.out)} (mode 0600)`);
        ctx.out.line(`public key (x): ${pub.x}`);
      }),
    );

  tokenOptions(
    envelope
      .command('inspect')
      .description('decode and explain a token WITHOUT trusting it (no signature, seal, key or revocation check)')
      .argument('[token]', 'the token (or --token-file, - for stdin)'),
  )
    .addHelpText(
      'after',
      '\nExit 0 when the token is well-formed, 4 when it is not (what could be decoded is still shown).',
    )
    .action(
      action(state, async (ctx, [positional], opts) => {
        const token = await ctx.token(positional, opts.tokenFile as string | undefined);
        const ins = inspectToken(token, Math.floor(ctx.io.now() / 1000));
        ctx.out.data(ins);
        for (const l of renderInspection(ins)) ctx.out.line(l);
        return ins.wellFormed ? ExitCode.OK : ExitCode.VERIFICATION_FAILED;
      }),
    );

  tokenOptions(
    envelope
      .command('check')
      .description('ask the enforcer whether the token allows a call (exit 0 ALLOW, 3 DENY)')
      .argument('[token]', 'the token (or --token-file, - for stdin)')
      .requiredOption('-s, --scope <scope>', 'the scope the call needs, e.g. vault:finance:read')
      .option('-r, --resource <resource>', 'the resource the call touches')
      .option('--action <action>', 'the action (default: the last scope segment)')
      .option('--purpose <text>', 'why the agent acts (require_purpose)')
      .option(
        '--records <n>',
        'how many records the call reads or writes (required under max_records_per_request)',
        intOption(0, 0xffff_ffff),
      )
      .option('--field <key=value>', 'other context field (repeatable)', collectPairs)
      .option('--approval <id>', 'present an approved approval request')
      .option(
        '--holder-key <jwk-file>',
        "the holder key of the token's last link: send a per-request proof when the token needs one (unsealed, or 'pop: required')",
      )
      .option('--proof', 'always send a per-request proof (needs --holder-key; for a tenant-wide pop: required)'),
  ).action(
    action(state, async (ctx, [positional], opts) => {
      const token = await ctx.token(positional, opts.tokenFile as string | undefined);
      if (opts.proof === true && opts.holderKey === undefined) throw usage('--proof needs --holder-key <jwk-file>');
      const key = opts.holderKey !== undefined ? await readHolderKey(ctx, opts.holderKey as string) : undefined;
      const enforcer = await ctx.enforcer();
      let res: CheckResponse__Output;
      try {
        res = await enforcer.check(
          {
            token,
            requiredScope: opts.scope as string,
            resource: (opts.resource as string | undefined) ?? '',
            action: (opts.action as string | undefined) ?? '',
            approvalId: (opts.approval as string | undefined) ?? '',
            context: {
              purpose: (opts.purpose as string | undefined) ?? '',
              ...(opts.records !== undefined ? { recordCount: opts.records as number } : {}),
              fields: (opts.field as Record<string, string> | undefined) ?? {},
            },
          },
          key === undefined ? {} : { holderKey: key, proof: opts.proof === true ? 'always' : 'auto' },
        );
      } catch (err) {
        // Raised before anything was sent (e.g. a key that is not the token's).
        if (err instanceof AuthorityError) offlineError(err, 'sign a per-request proof');
        throw err;
      }
      printDecision(ctx, res, token);
      return res.decision === 'ALLOW' && res.reason === 'ALLOWED' ? ExitCode.OK : ExitCode.DENIED;
    }),
  );

  const revoke = program
    .command('revoke')
    .description('revoke an envelope (and its descendants) or every envelope of an agent');
  tokenOptions(
    revoke
      .command('envelope')
      .description('revoke one envelope link by jti (every descendant stops working too)')
      .argument('[jti]', 'the jti to revoke (or give the token with --token-file / --token-leaf)')
      .option('--token-leaf', 'revoke the leaf link of the token given with --token-file (or AUTHORITY_TOKEN)')
      .option('--reason <text>', 'why (recorded in the audit trail)'),
  ).action(
    action(state, async (ctx, [jtiArg], opts) => {
      let jti = jtiArg;
      let tenant = (await ctx.cfg()).tenant;
      if (opts.tokenLeaf || opts.tokenFile !== undefined) {
        if (jti !== undefined) throw usage('give either a jti or a token, not both');
        const leaf = leafClaims(await ctx.token(undefined, opts.tokenFile as string | undefined));
        jti = leaf.jti;
        tenant ??= leaf.tnt;
      }
      if (jti === undefined) throw usage('revoke envelope needs a jti (or --token-file <file>)');
      const issuer = await ctx.issuer();
      const res = await issuer.revoke({
        tenant: await ctx.tenant(tenant),
        jti,
        reason: (opts.reason as string | undefined) ?? '',
      });
      ctx.out.data({ revoked: jti, ...res });
      ctx.out.line(
        res.alreadyRevoked
          ? `envelope ${jti} was already revoked (at ${isoOf(res.revokedAt)}); nothing changed`
          : `envelope ${jti} revoked at ${isoOf(res.revokedAt)}`,
      );
    }),
  );
  revoke
    .command('agent')
    .description('revoke every envelope issued to an agent until now')
    .argument('<agent>')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .action(
      action(state, async (ctx, [agent], opts) => {
        const issuer = await ctx.issuer();
        const res = await issuer.revokeAgent({
          tenant: await ctx.tenant(),
          agentId: agent,
          reason: (opts.reason as string | undefined) ?? '',
        });
        ctx.out.data({ agent, ...res });
        ctx.out.line(`every envelope of agent ${agent} issued before ${isoOf(res.revokedBefore)} is revoked`);
      }),
    );
}

// envelope mint | delegate | attenuate | keygen | inspect | check · revoke envelope | agent
import type { Command } from 'commander';
import { AuthorityError, parseToken } from '@authority/core';
import type { CheckResponse__Output, Envelope__Output, Grant } from '@authority/proto';
import { attenuate, generateHolderKey, holderKeyToJwk, type Narrowing } from '@authority/sdk';
import { CliError, ExitCode, usage } from '../exit';
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
  readHolderKey,
  tokenOptions,
  type GrantFlags,
  type RunState,
} from './common';

const DEFAULT_MINT_TTL = 3600;

async function emitEnvelope(
  ctx: CommandContext,
  env:
    | Envelope__Output
    | {
        token: string;
        jti: string;
        agentId: string;
        tenant: string;
        notBefore: string;
        expiresAt: string;
        depth: number;
        keyId: string;
      },
  opts: Record<string, unknown>,
): Promise<void> {
  const out = opts.out as string | undefined;
  if (out !== undefined) await ctx.io.writeFile(out, `${env.token}\n`, { secret: true });
  if (ctx.json) {
    ctx.out.data({ envelope: out !== undefined ? { ...env, token: undefined, tokenFile: out } : env });
    return;
  }
  if (opts.quiet) {
    if (out === undefined) ctx.io.stdout(`${env.token}\n`);
    return;
  }
  const nb = typeof env.notBefore === 'string' ? env.notBefore : isoOf(env.notBefore);
  const ex = typeof env.expiresAt === 'string' ? env.expiresAt : isoOf(env.expiresAt);
  ctx.out.fields([
    ['agent', env.agentId],
    ['tenant', env.tenant],
    ['jti', env.jti],
    ['depth', env.depth],
    ['signed by', env.keyId],
    ['not before', nb],
    ['expires', ex],
  ]);
  if (out !== undefined) ctx.out.line(`token written to ${out} (mode 0600)`);
  else {
    ctx.out.line('token:');
    ctx.out.line(env.token);
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

function leafClaims(token: string) {
  try {
    const links = parseToken(token);
    return (links[links.length - 1] as (typeof links)[number]).claims;
  } catch (err) {
    throw new CliError(
      `the token does not parse: ${err instanceof AuthorityError ? err.message : String(err)}`,
      ExitCode.VERIFICATION_FAILED,
    );
  }
}

function printDecision(ctx: CommandContext, res: CheckResponse__Output): void {
  ctx.out.data(res);
  if (ctx.json) return;
  const head = res.decision === 'ALLOW' ? 'ALLOW' : `DENY ${res.reason}`;
  ctx.out.line(`${head}${res.message ? `: ${res.message}` : ''}`);
  ctx.out.fields([
    ['agent', res.agentId],
    ['tenant', res.tenant],
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
}

export function registerEnvelope(program: Command, state: RunState): void {
  const envelope = program
    .command('envelope')
    .description('mint, delegate, attenuate, inspect and check envelopes (tokens)');

  grantOptions(
    envelope
      .command('mint')
      .description('mint a root envelope for an agent (bounded by the tenant policy)')
      .requiredOption('-a, --agent <id>', 'the agent the envelope is issued to'),
  )
    .option('--holder-key <jwk-file>', "bind the envelope to this holder key ('cnf'): enables offline attenuation")
    .option('--audience <aud>', 'restrict to these audiences (repeatable)', collect)
    .option('-o, --out <file>', 'write the token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .addHelpText(
      'after',
      '\nWithout constraint flags the envelope is declared unconstrained ({"unconstrained":true}).\nExample:\n  authority envelope mint --agent advisor --scope vault:finance:read --resource "slos://vaults/finance/*" --require-purpose --ttl 1h',
    )
    .action(
      action(state, async (ctx, _a, opts) => {
        const f = opts as GrantFlags & Record<string, unknown>;
        if (f.scope === undefined || f.scope.length === 0) throw usage('mint needs at least one --scope');
        const grant = grantFrom(f) as Grant;
        const holder =
          opts.holderKey !== undefined ? await readHolderKey(ctx, opts.holderKey as string, false) : undefined;
        const issuer = await ctx.issuer();
        const res = await issuer.mint({
          tenant: await ctx.tenant(),
          agentId: opts.agent as string,
          grant,
          ttlSeconds: f.ttl ?? DEFAULT_MINT_TTL,
          ...(holder ? { holderPublicKey: Buffer.from(holder.publicKey) } : {}),
          ...(opts.audience ? { audience: opts.audience as string[] } : {}),
        });
        if (!res.envelope) throw new CliError('the issuer returned no envelope');
        await emitEnvelope(ctx, res.envelope, opts);
      }),
    );

  tokenOptions(
    grantOptions(
      envelope
        .command('delegate')
        .description(
          "ask the issuer for a narrower child of a token (online); unspecified grant fields keep the parent's",
        )
        .argument('[token]', 'the parent token (or --token-file, - for stdin)')
        .option('-a, --agent <id>', "the child's agent (default: the parent's)"),
    ),
  )
    .option('--holder-key <jwk-file>', "bind the child to this holder key ('cnf')")
    .option('-o, --out <file>', 'write the token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .action(
      action(state, async (ctx, [positional], opts) => {
        const parent = await ctx.token(positional, opts.tokenFile as string | undefined);
        const leaf = leafClaims(parent);
        const f = opts as GrantFlags & Record<string, unknown>;
        const grant = grantFrom(f, { scp: leaf.scp, res: leaf.res, ctx: leaf.ctx, cns: leaf.cns });
        const holder =
          opts.holderKey !== undefined ? await readHolderKey(ctx, opts.holderKey as string, false) : undefined;
        const issuer = await ctx.issuer();
        const res = await issuer.delegate({
          tenant: (await ctx.cfg()).tenant ?? leaf.tnt,
          parentToken: parent,
          agentId: (opts.agent as string | undefined) ?? '',
          ...(grant ? { grant } : {}),
          ttlSeconds: f.ttl ?? 0,
          ...(holder ? { holderPublicKey: Buffer.from(holder.publicKey) } : {}),
        });
        if (!res.envelope) throw new CliError('the issuer returned no envelope');
        await emitEnvelope(ctx, res.envelope, opts);
      }),
    );

  tokenOptions(
    grantOptions(
      envelope
        .command('attenuate')
        .description("derive a narrower child OFFLINE, signed with the parent's holder key (no server involved)")
        .argument('[token]', 'the parent token (or --token-file, - for stdin)')
        .requiredOption('--holder-key <jwk-file>', "the parent's holder key, with its private part ('d')")
        .option('-a, --agent <id>', "the child's agent (default: the parent's)"),
    ),
  )
    .option('--child-holder-key <jwk-file>', 'bind the child to this holder key so it can attenuate further')
    .option('--audience <aud>', 'restrict to these audiences (repeatable)', collect)
    .option('-o, --out <file>', 'write the token to this file (mode 0600)')
    .option('-q, --quiet', 'print only the token')
    .addHelpText(
      'after',
      "\nConstraint flags are ADDED to the parent's constraints (a child is always at least as tight).",
    )
    .action(
      action(state, async (ctx, [positional], opts) => {
        const parent = await ctx.token(positional, opts.tokenFile as string | undefined);
        const f = opts as GrantFlags & Record<string, unknown>;
        const key = await readHolderKey(ctx, opts.holderKey as string, true);
        const narrowing: Narrowing = {};
        if (opts.agent !== undefined) narrowing.agent = opts.agent as string;
        if (f.scope !== undefined) narrowing.scopes = f.scope;
        if (f.resource !== undefined) narrowing.resources = f.resource;
        if (f.contextField !== undefined) narrowing.context = f.contextField;
        const cns = constraintsFromFlags(f);
        if (cns !== undefined) narrowing.constraints = cns;
        if (f.ttl !== undefined) narrowing.ttlSeconds = f.ttl;
        if (opts.audience !== undefined) narrowing.audience = opts.audience as string[];
        if (opts.childHolderKey !== undefined)
          narrowing.holderPublicKey = (await readHolderKey(ctx, opts.childHolderKey as string, false)).publicKey;
        let minted;
        try {
          minted = await attenuate(parent, narrowing, key.secretKey as Uint8Array, {
            now: Math.floor(ctx.io.now() / 1000),
          });
        } catch (err) {
          if (err instanceof AuthorityError)
            throw new CliError(
              `cannot attenuate: ${err.reason}${err.field ? ` (${err.field})` : ''}: ${err.message}`,
              ExitCode.FAILURE,
              { reason: err.reason, ...(err.field ? { field: err.field } : {}) },
            );
          throw err;
        }
        const c = minted.claims;
        await emitEnvelope(
          ctx,
          {
            token: minted.token,
            jti: c.jti,
            agentId: c.sub,
            tenant: c.tnt,
            notBefore: new Date(c.nbf * 1000).toISOString(),
            expiresAt: new Date(c.exp * 1000).toISOString(),
            depth: c.dep,
            keyId: 'cnf (holder key, offline)',
          },
          opts,
        );
      }),
    );

  envelope
    .command('keygen')
    .description('create an Ed25519 holder key (JWK) for --holder-key')
    .requiredOption('-o, --out <file>', 'where to write the private JWK (mode 0600; never overwritten)')
    .option('--public-out <file>', 'also write the public JWK here')
    .action(
      action(state, async (ctx, _a, opts) => {
        const kp = await generateHolderKey();
        const priv = holderKeyToJwk(kp, true);
        const pub = holderKeyToJwk(kp, false);
        await ctx.io
          .writeFile(opts.out as string, `${JSON.stringify(priv, null, 2)}\n`, { secret: true, exclusive: true })
          .catch((err: NodeJS.ErrnoException) => {
            throw usage(
              `--out ${String(opts.out)}: ${err.code === 'EEXIST' ? 'file exists (refusing to overwrite a key)' : err.message}`,
            );
          });
        if (opts.publicOut !== undefined)
          await ctx.io.writeFile(opts.publicOut as string, `${JSON.stringify(pub, null, 2)}\n`);
        ctx.out.data({ publicKey: pub, file: opts.out, ...(opts.publicOut ? { publicFile: opts.publicOut } : {}) });
        ctx.out.line(`holder key written to ${String(opts.out)} (mode 0600)`);
        ctx.out.line(`public key (x): ${pub.x}`);
      }),
    );

  tokenOptions(
    envelope
      .command('inspect')
      .description('decode and explain a token WITHOUT trusting it (no signature, key or revocation check)')
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
      .option('--records <n>', 'how many records the call reads or writes', intOption(0, 0xffff_ffff))
      .option('--field <key=value>', 'other context field (repeatable)', collectPairs)
      .option('--approval <id>', 'present an approved approval request'),
  ).action(
    action(state, async (ctx, [positional], opts) => {
      const token = await ctx.token(positional, opts.tokenFile as string | undefined);
      const enforcer = await ctx.enforcer();
      const res = await enforcer.check({
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
      });
      printDecision(ctx, res);
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
      ctx.out.line(`envelope ${jti} revoked at ${isoOf(res.revokedAt)}`);
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

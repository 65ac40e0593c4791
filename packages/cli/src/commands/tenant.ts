// tenant create · credential create|revoke · key rotate|list
import { Command, Option } from 'commander';
import type { Credential__Output, PublicKey__Output } from '@authority/proto';
import { usage } from '../exit';
import { isoOf } from '../output';
import type { CommandContext } from '../context';
import { action, type RunState } from './common';

const KINDS = ['admin', 'approver', 'checker', 'auditor'];

async function showSecret(
  ctx: CommandContext,
  cred: Credential__Output | null,
  secretOut: string | undefined,
): Promise<void> {
  if (cred === null) return;
  if (secretOut !== undefined) {
    await ctx.io
      .writeFile(secretOut, `${cred.secret}\n`, { secret: true, exclusive: true })
      .catch((err: NodeJS.ErrnoException) => {
        throw usage(
          `--secret-out ${secretOut}: ${err.code === 'EEXIST' ? 'file exists (refusing to overwrite a secret)' : err.message}`,
        );
      });
  }
  ctx.out.fields([
    ['credential', cred.credentialId],
    ['kind', cred.kind],
    ['secret', secretOut !== undefined ? `written to ${secretOut} (mode 0600)` : cred.secret],
  ]);
  if (secretOut === undefined)
    ctx.out.note(
      'The secret is shown once and only its hash is stored: keep it now (e.g. --secret-out <file> next time).',
    );
}

function keyRow(k: PublicKey__Output): string[] {
  return [k.keyId, k.status, isoOf(k.createdAt), isoOf(k.verifyUntil), Buffer.from(k.publicKey).toString('base64url')];
}

export function registerTenant(program: Command, state: RunState): void {
  const tenant = program.command('tenant').description('tenants (operator credential)');
  tenant
    .command('create')
    .description('create a tenant with its first signing key and an ADMIN credential')
    .argument('<tenant>', 'tenant id: lowercase letters, digits and dashes, 3-63 characters')
    .option('--display-name <name>', 'human-readable name')
    .option('--secret-out <file>', 'write the admin secret to this file (mode 0600) instead of printing it')
    .action(
      action(state, async (ctx, [id], opts) => {
        const issuer = await ctx.issuer();
        const res = await issuer.createTenant({
          tenant: id,
          displayName: (opts.displayName as string | undefined) ?? '',
        });
        if (ctx.json) {
          if (opts.secretOut !== undefined && res.adminCredential) {
            await showSecret(ctx, res.adminCredential, opts.secretOut as string);
            ctx.out.data({
              ...res,
              adminCredential: { ...res.adminCredential, secret: undefined, secretFile: opts.secretOut },
            });
          } else ctx.out.data(res);
          return;
        }
        ctx.out.line(`tenant ${res.tenant} created`);
        if (res.key) ctx.out.fields([['signing key', `${res.key.keyId} (${res.key.status})`]]);
        await showSecret(ctx, res.adminCredential, opts.secretOut as string | undefined);
      }),
    );

  const credential = program
    .command('credential')
    .description('API credentials of a tenant (operator or tenant ADMIN)');
  credential
    .command('create')
    .description('create a credential: checker (calls the enforcer), approver, auditor or admin')
    .addOption(new Option('--kind <kind>', 'credential kind').choices(KINDS).makeOptionMandatory())
    .option('--secret-out <file>', 'write the secret to this file (mode 0600) instead of printing it')
    .action(
      action(state, async (ctx, _args, opts) => {
        const issuer = await ctx.issuer();
        const res = await issuer.createCredential({
          tenant: await ctx.tenant(),
          kind: String(opts.kind).toUpperCase() as 'ADMIN',
        });
        if (ctx.json) {
          if (opts.secretOut !== undefined && res.credential) {
            await showSecret(ctx, res.credential, opts.secretOut as string);
            ctx.out.data({ credential: { ...res.credential, secret: undefined, secretFile: opts.secretOut } });
          } else ctx.out.data(res);
          return;
        }
        await showSecret(ctx, res.credential, opts.secretOut as string | undefined);
      }),
    );
  credential
    .command('revoke')
    .description('disable a credential')
    .argument('<credential-id>')
    .action(
      action(state, async (ctx, [id]) => {
        const issuer = await ctx.issuer();
        await issuer.revokeCredential({ tenant: await ctx.tenant(), credentialId: id });
        ctx.out.data({ revoked: id });
        ctx.out.line(`credential ${id} revoked`);
      }),
    );

  const key = program.command('key').description("the tenant's envelope signing keys");
  key
    .command('list')
    .description('list public signing keys, newest first')
    .action(
      action(state, async (ctx) => {
        const issuer = await ctx.issuer();
        const res = await issuer.listKeys({ tenant: await ctx.tenant() });
        ctx.out.data(res);
        ctx.out.table(['KEY ID', 'STATUS', 'CREATED', 'VERIFY UNTIL', 'PUBLIC KEY'], res.keys.map(keyRow));
      }),
    );
  key
    .command('rotate')
    .description('make a new ACTIVE key; the previous one verifies until its envelopes expire')
    .action(
      action(state, async (ctx) => {
        const issuer = await ctx.issuer();
        const res = await issuer.rotateKey({ tenant: await ctx.tenant() });
        ctx.out.data(res);
        if (res.active) ctx.out.line(`active key:   ${res.active.keyId}`);
        if (res.previous)
          ctx.out.line(
            `previous key: ${res.previous.keyId} (${res.previous.status}${isoOf(res.previous.verifyUntil) ? ` until ${isoOf(res.previous.verifyUntil)}` : ''})`,
          );
      }),
    );
}

// Per-invocation state handed to commands: io, output, resolved configuration, lazily created
// clients (closed when the command ends), and small input helpers.
import { AuditorClient, EnforcerClient, IssuerClient, PolicyClient, type ClientOptions } from '@authority/sdk';
import { resolveConfig, type GlobalFlags, type ResolvedConfig } from './config';
import { usage } from './exit';
import type { Io } from './io';
import { Output } from './output';

export class CommandContext {
  readonly out: Output;
  private config: ResolvedConfig | undefined;
  private readonly closers: (() => void)[] = [];

  constructor(
    readonly io: Io,
    readonly flags: GlobalFlags,
  ) {
    this.out = new Output(io, flags.json === true);
  }

  get json(): boolean {
    return this.flags.json === true;
  }

  async cfg(): Promise<ResolvedConfig> {
    this.config ??= await resolveConfig(this.flags, this.io);
    return this.config;
  }

  /** The tenant from --tenant / AUTHORITY_TENANT / the profile, or a usage error. */
  async tenant(explicit?: string): Promise<string> {
    const t = explicit ?? (await this.cfg()).tenant;
    if (t === undefined || t === '')
      throw usage('no tenant: pass --tenant, set AUTHORITY_TENANT, or put tenant: in the profile');
    return t;
  }

  private async clientOptions(): Promise<ClientOptions> {
    const c = await this.cfg();
    const o: ClientOptions = { deadlineMs: c.timeoutMs, tls: c.tls };
    if (c.apiKey !== undefined) o.credential = c.apiKey;
    if (c.tenant !== undefined) o.tenant = c.tenant;
    return o;
  }

  private track<T extends { close(): void }>(c: T): T {
    this.closers.push(() => c.close());
    return c;
  }

  async issuer(): Promise<IssuerClient> {
    return this.track(new IssuerClient((await this.cfg()).issuer, await this.clientOptions()));
  }
  async enforcer(): Promise<EnforcerClient> {
    return this.track(new EnforcerClient((await this.cfg()).enforcer, await this.clientOptions()));
  }
  async policy(): Promise<PolicyClient> {
    return this.track(new PolicyClient((await this.cfg()).policy, await this.clientOptions()));
  }
  async auditor(): Promise<AuditorClient> {
    return this.track(new AuditorClient((await this.cfg()).auditor, await this.clientOptions()));
  }

  /** Reads a file argument, `-` meaning stdin. */
  async readInput(file: string, what: string): Promise<string> {
    if (file === '-') return this.io.readStdin();
    try {
      return await this.io.readFile(file);
    } catch (err) {
      throw usage(
        `${what} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
  }

  /** A token from the positional argument, --token-file, AUTHORITY_TOKEN, or stdin (`-`). */
  async token(positional: string | undefined, tokenFile: string | undefined): Promise<string> {
    let t: string | undefined;
    if (positional !== undefined && positional !== '-') t = positional;
    else if (tokenFile !== undefined) t = await this.readInput(tokenFile, '--token-file');
    else if (positional === '-') t = await this.io.readStdin();
    else if (this.io.env.AUTHORITY_TOKEN) t = this.io.env.AUTHORITY_TOKEN;
    t = t?.trim();
    if (!t)
      throw usage(
        'no token: pass it as an argument, with --token-file <file>, as - to read stdin, or in AUTHORITY_TOKEN',
      );
    return t;
  }

  close(): void {
    for (const c of this.closers.splice(0)) {
      try {
        c();
      } catch {
        // closing is best effort
      }
    }
  }
}

// The `authority` command line. `run(argv, io)` parses and runs one invocation in-process and
// returns its exit code; main.ts wires it to the real process, tests to captured buffers.
import { Command, CommanderError, Option } from 'commander';
import { registerApproval } from './commands/approval';
import { registerAudit } from './commands/audit';
import { registerCompliance } from './commands/compliance';
import { registerDb } from './commands/db';
import { registerDoctor } from './commands/doctor';
import { registerEnvelope } from './commands/envelope';
import { registerExplain } from './commands/explain';
import { registerPolicy } from './commands/policy';
import { registerTenant } from './commands/tenant';
import type { RunState } from './commands/common';
import { CliError, ExitCode, describeError, exitCodeFor, humanError } from './exit';
import type { Io } from './io';

export const VERSION = '0.1.0';

const ROOT_HELP = `
Configuration (highest precedence first): flags, environment, profile file, defaults.
  AUTHORITY_ISSUER_ADDR    issuer address            (default 127.0.0.1:50051)
  AUTHORITY_ENFORCER_ADDR  enforcer address(es), comma-separated replicas (default 127.0.0.1:50052)
  AUTHORITY_POLICY_ADDR    policy service address    (default 127.0.0.1:50053)
  AUTHORITY_AUDITOR_ADDR   auditor address           (default 127.0.0.1:50054)
  AUTHORITY_API_KEY        API credential (or AUTHORITY_API_KEY_FILE / --api-key-file)
  AUTHORITY_TENANT         tenant id
  AUTHORITY_TOKEN          envelope for envelope check/inspect/delegate/attenuate/seal
  AUTHORITY_CONFIG, AUTHORITY_PROFILE   profile file and profile (default ~/.config/authority/config.yaml)
  AUTHORITY_TLS=1, AUTHORITY_TLS_CA, AUTHORITY_TLS_CERT, AUTHORITY_TLS_KEY, AUTHORITY_TLS_SERVER_NAME
  AUTHORITY_TIMEOUT        per-call deadline (default 5s)
  AUTHORITY_KAFKA_BROKERS, AUTHORITY_TOPIC_PREFIX   audit tail -f follows the chain topic

Durations: 90s, 5m, 24h, 7d, 1h30m, or seconds. Times: a duration ago (24h), now, or ISO 8601.

Exit codes:
  0 ok · 1 failure · 2 usage error · 3 refused by the policy or the envelope rules (a DENY
  of envelope check; POLICY_DENIED, CHAIN_VIOLATION, REVOKED... from mint/delegate) ·
  4 verification failed (broken audit chain, invalid policy, malformed token) ·
  5 service unavailable/unreachable · 6 credential refused (API key unknown, of another tenant,
  or of a kind that may not do this)

Output is human-readable; --json prints one JSON document on stdout (errors as JSON on stderr).
Docs: docs/cli.md`;

/** Builds the command tree for one invocation. */
export function buildProgram(state: RunState): Command {
  const io = state.io;
  const program = new Command();
  program
    .name('authority')
    .description('Authority: cryptographic IAM for AI agents — tenants, envelopes, policies, audit.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Errors are printed by run() (as JSON with --json).
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .option('--json', 'print JSON instead of human-readable text')
    .option('--config <file>', 'profile file (default ~/.config/authority/config.yaml)')
    .option('--profile <name>', 'profile in the config file')
    .option('-t, --tenant <tenant>', 'tenant id')
    .option('--api-key-file <file>', 'read the API credential from a file')
    .option('--issuer <addr>', 'issuer address host:port')
    .option('--enforcer <addrs>', 'enforcer address(es), comma-separated replicas')
    .option('--policy <addr>', 'policy service address')
    .option('--auditor <addr>', 'auditor address')
    .option('--tls', 'use TLS (system roots unless --ca)')
    .option('--ca <file>', 'PEM CA to trust (implies --tls)')
    .option('--cert <file>', 'PEM client certificate for mutual TLS')
    .addOption(new Option('--key <file>', 'PEM client key for mutual TLS'))
    .option('--server-name <name>', 'expected TLS server name')
    .option('--timeout <duration>', 'per-call deadline, e.g. 5s')
    .addHelpText('after', ROOT_HELP);

  registerTenant(program, state);
  registerEnvelope(program, state);
  registerPolicy(program, state);
  registerExplain(program, state);
  registerAudit(program, state);
  registerCompliance(program, state);
  registerApproval(program, state);
  registerDb(program, state);
  registerDoctor(program, state);
  return program;
}

function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs one invocation; never throws; returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const state: RunState = { io, exitCode: ExitCode.OK };
  const json = wantsJson(argv);
  const printError = (err: unknown, code: number) => {
    if (json) io.stderr(`${JSON.stringify({ error: describeError(err), exitCode: code })}\n`);
    else io.stderr(`authority: ${humanError(err)}\n`);
  };
  const program = buildProgram(state);
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return ExitCode.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; everything else commander raises is a usage error.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return ExitCode.OK;
      // A command group without its subcommand: commander printed the group's help.
      if (err.code === 'commander.help') return ExitCode.USAGE;
      const message = err.message.replace(/^error: /, '');
      printError(
        new CliError(`${message} (see --help)`, ExitCode.USAGE, { kind: 'usage', code: err.code }),
        ExitCode.USAGE,
      );
      return ExitCode.USAGE;
    }
    const code = exitCodeFor(err);
    printError(err, code);
    return code;
  }
}

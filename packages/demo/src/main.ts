// `npm start`: launches the four services and the MCP gateway against the Kafka and MongoDB given
// in the environment, plays the scenario and an agent session over MCP, then keeps the stack
// running for exploration until Ctrl-C (SIGINT/SIGTERM).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from './clients';
import { prepareGatewayFiles, runGatewaySession, type GatewaySessionResult } from './gateway-session';
import { EVENT_PRODUCERS, launchStack, type EventKeyPair, type StackSecrets } from './launcher';
import { runScenario } from './scenario';

const repoRoot = resolve(__dirname, '../../../..');
const runDir = process.env.AUTHORITY_INFRA_RUN ?? join(repoRoot, '.infra');
const log = (line: string) => process.stdout.write(`${line}\n`);

/** A fresh Ed25519 key pair as base64url seed and public key (the JWK's `d` and `x`). */
function eventKeyPair(): EventKeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { seed: String(jwk.d), publicKey: String(jwk.x) };
}

/**
 * Local secrets for the demo stack, generated once and kept in .infra (git-ignored): the issuer's
 * stored private keys stay decryptable across restarts, and the producers keep their audit-event
 * keys (the auditor trusts each for its own source). A file from before event keys gets them added.
 * Production takes all of them from Secrets.
 */
function demoSecrets(): StackSecrets {
  const path = join(runDir, 'demo-secrets.json');
  const stored = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Partial<StackSecrets>) : {};
  const secrets: StackSecrets = {
    operatorKey: stored.operatorKey ?? randomBytes(32).toString('base64url'),
    serviceKey: stored.serviceKey ?? randomBytes(32).toString('base64url'),
    issuerKek: stored.issuerKek ?? randomBytes(32).toString('base64'),
    auditorSigningKey: stored.auditorSigningKey ?? randomBytes(32).toString('base64'),
    eventKeys:
      stored.eventKeys ??
      (Object.fromEntries(EVENT_PRODUCERS.map((p) => [p, eventKeyPair()])) as StackSecrets['eventKeys']),
  };
  if (JSON.stringify(stored) !== JSON.stringify(secrets)) {
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

async function main(): Promise<number> {
  for (const name of ['KAFKA_BROKERS', 'MONGODB_URI']) {
    if (!process.env[name]) {
      process.stderr.write(`${name} is not set: run \`npm start\` (it starts local Kafka and FerretDB) or set it\n`);
      return 78;
    }
  }
  const secrets = demoSecrets();
  log(`Starting the Authority services (Kafka ${process.env.KAFKA_BROKERS}, MongoDB ${process.env.MONGODB_URI})`);
  const gatewayFiles = prepareGatewayFiles(
    runDir,
    join(repoRoot, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'),
  );
  const stack = await launchStack({
    repoRoot,
    env: process.env,
    secrets,
    logDir: join(runDir, 'logs'),
    log,
    gatewayMapping: gatewayFiles.mapping,
  });
  writeFileSync(join(runDir, 'demo-pids.json'), JSON.stringify(stack.pids));
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('\nStopping the services…');
    await stack.stop();
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const clients = connect(stack.addresses);
  const tenant = `lakeside-${Date.now().toString(36)}`;
  let ok = false;
  try {
    log('\nScenario: Lakeside Community College (FERPA)');
    const result = await runScenario({
      clients,
      operatorKey: secrets.operatorKey,
      tenant,
      reportDir: join(repoRoot, 'out'),
      log,
    });
    let gateway: GatewaySessionResult | undefined;
    if (stack.gatewayUrl !== undefined) {
      gateway = await runGatewaySession({
        clients,
        operatorKey: secrets.operatorKey,
        tenant: `${tenant}-mcp`,
        gatewayUrl: stack.gatewayUrl,
        root: gatewayFiles.root,
        vault: { mongoUri: process.env.MONGODB_URI ?? '', db: stack.vaultDb },
        log,
      });
    }
    ok = result.ok && (gateway?.ok ?? false);
    writeFileSync(join(runDir, 'demo-result.json'), JSON.stringify({ ...result, gateway }, null, 2), {
      mode: 0o600,
    });
    log(`\n${ok ? 'Scenario complete: every decision as expected.' : 'Scenario FAILED: see the ✘ lines above.'}`);
    log(`Report: ${result.reportPath}`);
    log('\nThe stack keeps running (gRPC reflection on). Explore it with the CLI, e.g.:');
    log(`  export AUTHORITY_ISSUER_ADDR=${stack.addresses.issuer} AUTHORITY_ENFORCER_ADDR=${stack.addresses.enforcer}`);
    log(`  export AUTHORITY_POLICY_ADDR=${stack.addresses.policy} AUTHORITY_AUDITOR_ADDR=${stack.addresses.auditor}`);
    log(
      `  export AUTHORITY_TENANT=${tenant} AUTHORITY_API_KEY=$(node -p "require('${join(runDir, 'demo-result.json')}').adminKey")`,
    );
    log("  npx authority audit query        # the decisions, from the tenant's chain");
    log('  npx authority envelope mint --agent academic-advisor   # what the policy allows the agent');
    log('  npx authority audit verify       # recompute the chain against its signed checkpoint');
    log('  npx authority policy show        # the FERPA policy in force');
    if (stack.gatewayUrl !== undefined) {
      log(
        `  MCP gateway: ${stack.gatewayUrl} (mapping ${gatewayFiles.mapping}); bearer = an envelope with aud authority-gateway`,
      );
    }
    log(
      `The operator key (creates tenants) is in ${join(runDir, 'demo-secrets.json')} (operatorKey); docs/cli.md has a session.`,
    );
  } catch (err) {
    log(`\nScenario error: ${(err as Error).message}`);
  } finally {
    clients.close();
  }
  if (process.env.AUTHORITY_DEMO_EXIT === '1' || !ok) {
    await stop(ok ? 0 : 1);
    return ok ? 0 : 1;
  }
  log('\nREADY. Press Ctrl-C to stop everything.');
  return new Promise<number>(() => {
    /* runs until a signal stops it */
  });
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

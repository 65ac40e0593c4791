// Validates the documented Kafka ACLs and the SASL/TLS client settings against a private broker
// (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer, deny by default): the four services start with
// their own principals and only the documented rights, events of every producer are chained, and
// principals are refused what the table does not give them.
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const r = (m) => require(require.resolve(m, { paths: [path.join(root, 'test')] }));
const { startStack, rpc } = require(path.join(root, 'test/dist/src/stack.js'));
const platform = r('@authority/platform');
const assert = require('assert/strict');

const CA = process.env.KAFKA_CA_FILE;
const pw = (svc) => process.env[`${svc.toUpperCase()}_KAFKA_PASSWORD`];
const sasl = (svc, name = svc) => ({
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: CA,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: `authority-${svc}`,
  KAFKA_SASL_PASSWORD: pw(svc),
  AUTHORITY_TOPIC_PREFIX: 'authority.',
  AUTHORITY_SERVICE_NAME: name,
});

function bus(svc, password = pw(svc)) {
  const config = platform.loadConfig(platform.commonConfigSchema, {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: CA,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: `authority-${svc}`,
    KAFKA_SASL_PASSWORD: password,
  });
  return platform.createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: `check-${svc}`,
    logger: platform.silentLogger(),
    ...platform.kafkaSecurityFromConfig(config),
    publisher: { timeoutMs: 8000 },
    onFatal: () => undefined,
  });
}

async function refused(what, fn) {
  try {
    await fn();
  } catch (err) {
    console.log(`ok   refused: ${what} (${String(err.message).slice(0, 90)})`);
    return;
  }
  throw new Error(`NOT refused: ${what}`);
}

(async () => {
  // The topics, as the topics Job would create them (admin principal).
  const admin = bus('admin', process.env.KAFKA_ADMIN_PASSWORD);
  await admin.ensureTopics(platform.authorityTopicSpecs('authority.'));
  await admin.disconnect();
  console.log('ok   topics created by authority-admin');

  const stack = await startStack({
    withPolicy: true,
    withAuditor: true,
    issuerEnv: sasl('issuer'),
    enforcerEnv: sasl('enforcer', 'enforcer'),
    policyEnv: sasl('policy'),
    auditorEnv: sasl('auditor'),
  });
  console.log(
    'ok   issuer, enforcer (its producer thread included), policy and auditor SERVING with their own principals',
  );
  try {
    const t = await stack.createTenant();
    const minted = await rpc(
      stack.issuer.client,
      'Mint',
      {
        tenant: t.tenant,
        agentId: 'advisor',
        grant: {
          scopes: ['records:read'],
          resources: ['slos://records/*'],
          contextFields: [],
          constraintsJson: '{"unconstrained":true}',
        },
        ttlSeconds: 3600,
      },
      t.admin,
    );
    let check;
    for (let i = 0; i < 200; i++) {
      check = await rpc(
        stack.enforcers[0].client,
        'Check',
        { token: minted.envelope.token, requiredScope: 'records:read', resource: 'slos://records/a' },
        t.checker,
      );
      if (check.decision === 'ALLOW') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(check.decision, 'ALLOW', check.message);
    await rpc(
      stack.policy.client,
      'PutPolicy',
      {
        tenant: t.tenant,
        yaml: 'organization: X\nversion: "1"\nagents:\n  advisor:\n    scopes: ["records:read"]\n',
        expectedVersion: 0,
      },
      t.admin,
    );
    let sources;
    for (let i = 0; i < 300; i++) {
      const page = await rpc(stack.auditor.client, 'QueryEvents', { tenant: t.tenant, pageSize: 1000 }, t.auditor);
      sources = new Set(page.entries.map((e) => e.event.source));
      if (
        sources.has('issuer') &&
        sources.has('enforcer') &&
        sources.has('policy') &&
        page.entries.some((e) => e.event.eventId === check.decisionId)
      )
        break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual([...sources].sort(), ['enforcer', 'issuer', 'policy']);
    console.log('ok   events of issuer, enforcer and policy chained by the auditor (its group authority-auditor)');

    // The auditor publishes what it chained on authority.chain (its own Write ACL): read it back as
    // the admin, as a subscriber with Read on the topic would.
    const chained = new Set();
    const reader = bus('admin', process.env.KAFKA_ADMIN_PASSWORD);
    for (let i = 0; i < 60 && !chained.has(check.decisionId); i++) {
      const h = await reader.catchUp({ topics: ['authority.chain'] }, (m) => {
        const text = m.value ? m.value.toString('utf8') : '';
        if (m.key && m.key.toString('utf8').includes(t.tenant) && text.includes(check.decisionId))
          chained.add(check.decisionId);
      });
      await h.caughtUp;
      await h.disconnect();
      if (!chained.has(check.decisionId)) await new Promise((res) => setTimeout(res, 500));
    }
    await reader.disconnect();
    assert.ok(chained.has(check.decisionId), 'the ALLOW decision was not published on authority.chain');
    console.log('ok   the auditor published the chained decision on authority.chain');

    const record = { key: t.tenant, value: '{}', headers: { ce_subject: t.tenant } };
    const enforcer = bus('enforcer');
    await enforcer.publish('authority.audit', [record]);
    console.log('ok   authority-enforcer may write authority.audit');
    await refused('authority-enforcer writing authority.keys', () => enforcer.publish('authority.keys', [record]));
    await refused('authority-enforcer writing authority.revocations', () =>
      enforcer.publish('authority.revocations', [record]),
    );
    await enforcer.disconnect();
    const auditor = bus('auditor');
    await refused('authority-auditor writing authority.audit', () => auditor.publish('authority.audit', [record]));
    await refused('authority-auditor writing authority.policies', () =>
      auditor.publish('authority.policies', [record]),
    );
    await refused('authority-enforcer writing authority.chain', async () => {
      const e = bus('enforcer');
      try {
        await e.publish('authority.chain', [record]);
      } finally {
        await e.disconnect();
      }
    });
    await auditor.disconnect();
    const policy = bus('policy');
    await refused('authority-policy writing authority.keys', () => policy.publish('authority.keys', [record]));
    await refused('authority-policy reading the audit topic', async () => {
      const h = await policy.catchUp({ topics: ['authority.audit'], groupId: 'policy.catchup.x' }, () => undefined);
      await Promise.race([h.caughtUp, new Promise((_, rej) => setTimeout(() => rej(new Error('no read')), 15000))]);
    });
    await policy.disconnect().catch(() => undefined);
    const issuer = bus('issuer');
    await refused('authority-issuer writing authority.checkpoints', () =>
      issuer.publish('authority.checkpoints', [record]),
    );
    await issuer.disconnect();
    await refused('a wrong password', async () => {
      const b = bus('enforcer', 'not-the-password');
      try {
        await b.connectProducer();
      } finally {
        await b.disconnect().catch(() => undefined);
      }
    });
  } finally {
    await stack.stop();
  }
  console.log('ALL OK');
  process.exit(0);
})().catch((err) => {
  console.error('FAILED', err);
  process.exit(1);
});

// The topics a test run created, dropped after it: every test stack uses its own topic prefix, so
// a checkout's broker gathered thousands of partitions over repeated `npm test` runs and, once it
// held ~9,000, took longer than up.sh's readiness timeout to load them at start.
//   node run-topics.mjs snapshot <file>   writes the broker's topic names to <file>
//   node run-topics.mjs drop-new <file>   deletes the topics absent from <file>, except the ones
//                                         under the services' default prefix `authority.` (what
//                                         `npm start` writes) and Kafka's internal topics
// Run by scripts/test.sh only when it started the broker itself, so nothing else is using it.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { Kafka, logLevel } = require('kafkajs');

const [command, file] = process.argv.slice(2);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (!['snapshot', 'drop-new'].includes(command) || !file || brokers.length === 0) {
  console.error('usage: KAFKA_BROKERS=host:port node run-topics.mjs snapshot|drop-new <file>');
  process.exit(2);
}
const admin = new Kafka({ clientId: 'authority-test-topics', brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
try {
  const topics = await admin.listTopics();
  if (command === 'snapshot') {
    writeFileSync(file, topics.join('\n') + '\n');
  } else {
    const before = new Set(readFileSync(file, 'utf8').split('\n'));
    const created = topics.filter((t) => !before.has(t) && !t.startsWith('authority.') && !t.startsWith('__'));
    // Bounded requests: one DeleteTopics call per 200 names.
    for (let i = 0; i < created.length; i += 200) {
      await admin.deleteTopics({ topics: created.slice(i, i + 200), timeout: 60_000 });
    }
    console.error(`[test] dropped the ${created.length} topics this run created`);
  }
} finally {
  await admin.disconnect();
}

import { MongoClient } from 'mongodb';
const m = new MongoClient(process.env.MONGODB_URI); await m.connect();
const dbs = (await m.db().admin().listDatabases()).databases.map(d=>d.name).filter(n=>n.startsWith('auditor_bench_read_'));
for (const d of dbs) console.log(d, await m.db(d).collection('entries.acme').estimatedDocumentCount(), await m.db(d).collection('aggregates.acme').estimatedDocumentCount());
await m.close();

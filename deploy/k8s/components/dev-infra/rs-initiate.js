// mongosh script of the mongodb-rs-init Job: initiates the single-member replica set `rs0` once.
// Idempotent: an initiated set is left alone; any other error fails the Job, which retries.
const host = `mongodb-0.mongodb.${process.env.POD_NAMESPACE}.svc:27017`;
try {
  const status = rs.status();
  print(`replica set ${status.set} already initiated`);
} catch (err) {
  if (err.codeName !== 'NotYetInitialized') throw err;
  rs.initiate({ _id: 'rs0', members: [{ _id: 0, host }] });
  print(`replica set rs0 initiated with ${host}`);
}

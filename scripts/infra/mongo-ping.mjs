// Readiness probe for a MongoDB-wire server (FerretDB or mongod), with no
// dependencies (the repo's node_modules may not exist yet when up.sh runs):
//   node mongo-ping.mjs <host> <port> <timeout-ms>
// Sends OP_MSG {ping: 1, $db: "admin"} until the reply has ok == 1 or the
// deadline passes. Exit 0 when ready, 1 on timeout (last error on stderr).
import net from 'node:net';

const [host, portText, timeoutText] = process.argv.slice(2);
if (!host || !portText || !timeoutText) {
  console.error('usage: node mongo-ping.mjs <host> <port> <timeout-ms>');
  process.exit(2);
}
const port = Number(portText);
const deadline = Date.now() + Number(timeoutText);
const OP_MSG = 2013;

function cstring(s) {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function pingMessage(requestId) {
  const db = Buffer.from('admin', 'utf8');
  const int1 = Buffer.alloc(4);
  int1.writeInt32LE(1);
  const strLen = Buffer.alloc(4);
  strLen.writeInt32LE(db.length + 1);
  const elements = Buffer.concat([
    Buffer.from([0x10]),
    cstring('ping'),
    int1,
    Buffer.from([0x02]),
    cstring('$db'),
    strLen,
    db,
    Buffer.from([0]),
    Buffer.from([0]),
  ]);
  const docLen = Buffer.alloc(4);
  docLen.writeInt32LE(elements.length + 4);
  const body = Buffer.concat([Buffer.alloc(4) /* flagBits */, Buffer.from([0]) /* kind 0 */, docLen, elements]);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(OP_MSG, 12);
  return Buffer.concat([header, body]);
}

// Returns the numeric value of the top-level field `ok` of a BSON document.
function readOk(doc) {
  let i = 4;
  while (i < doc.length - 1) {
    const type = doc[i];
    const nameEnd = doc.indexOf(0, i + 1);
    const name = doc.toString('utf8', i + 1, nameEnd);
    i = nameEnd + 1;
    if (name === 'ok') {
      if (type === 0x01) return doc.readDoubleLE(i);
      if (type === 0x10) return doc.readInt32LE(i);
      if (type === 0x12) return Number(doc.readBigInt64LE(i));
      if (type === 0x08) return doc[i];
      throw new Error(`unexpected BSON type ${type} for ok`);
    }
    switch (type) {
      case 0x01:
      case 0x09:
      case 0x11:
      case 0x12:
        i += 8;
        break;
      case 0x02:
      case 0x0d:
      case 0x0e:
        i += 4 + doc.readInt32LE(i);
        break;
      case 0x03:
      case 0x04:
        i += doc.readInt32LE(i);
        break;
      case 0x05:
        i += 5 + doc.readInt32LE(i);
        break;
      case 0x07:
        i += 12;
        break;
      case 0x08:
        i += 1;
        break;
      case 0x0a:
      case 0x06:
      case 0x7f:
      case 0xff:
        break;
      case 0x0b:
        i = doc.indexOf(0, doc.indexOf(0, i) + 1) + 1;
        break;
      case 0x10:
        i += 4;
        break;
      case 0x13:
        i += 16;
        break;
      default:
        throw new Error(`cannot skip BSON type ${type}`);
    }
  }
  throw new Error('reply has no ok field');
}

function attempt(requestId) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    socket.setTimeout(Math.max(500, Math.min(3000, deadline - Date.now())));
    socket.on('timeout', () => socket.destroy(new Error('timed out waiting for a reply')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(pingMessage(requestId)));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
      socket.end();
      try {
        if (buf.readInt32LE(12) !== OP_MSG) throw new Error(`unexpected opCode ${buf.readInt32LE(12)}`);
        const doc = buf.subarray(21, 21 + buf.readInt32LE(21));
        const ok = readOk(doc);
        if (ok !== 1) throw new Error(`ping replied ok=${ok}`);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    socket.on('end', () => reject(new Error('connection closed before a full reply')));
  });
}

let last;
for (let id = 1; Date.now() < deadline; id++) {
  try {
    await attempt(id);
    console.log(`mongo ready: ping ok at ${host}:${port}`);
    process.exit(0);
  } catch (err) {
    last = err;
    await new Promise((r) => setTimeout(r, 150));
  }
}
console.error(`mongo not ready at ${host}:${port}: ${last?.message ?? 'timeout'}`);
process.exit(1);

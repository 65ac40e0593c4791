#!/usr/bin/env node
// The cluster DNS of scripts/k8s/up.sh's single-node cluster (no CoreDNS image can be pulled here).
// Answers A queries for <service>.<namespace>.svc.cluster.local (the ClusterIP, or the endpoints'
// addresses for a headless Service) and <hostname>.<service>.<namespace>.svc.cluster.local (a
// StatefulSet pod), from Services and EndpointSlices it re-reads from the apiserver every second.
// Every other name is NXDOMAIN: the pods resolve nothing outside the cluster. UDP only (glibc and
// the JVM ask over UDP; the answers are small).
//   node cluster-dns.mjs --listen <ip> --kubeconfig-dir <pki dir> --api https://127.0.0.1:<port>
import dgram from 'node:dgram';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string' },
    port: { type: 'string', default: '53' },
    'kubeconfig-dir': { type: 'string' },
    api: { type: 'string' },
  },
});
for (const name of ['listen', 'kubeconfig-dir', 'api']) {
  if (!args[name]) throw new Error(`cluster-dns: --${name} is required`);
}
const pki = args['kubeconfig-dir'];
const agent = new https.Agent({
  keepAlive: true,
  ca: fs.readFileSync(path.join(pki, 'ca.crt')),
  cert: fs.readFileSync(path.join(pki, 'admin.crt')),
  key: fs.readFileSync(path.join(pki, 'admin.key')),
});
const DOMAIN = '.svc.cluster.local';
const TTL_SECONDS = 2;

function getJson(apiPath) {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(apiPath, args.api), { agent, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${apiPath}: timeout`)));
    req.on('error', reject);
  });
}

/** name (lower case, no trailing dot) → IPv4 addresses */
let records = new Map();

async function refresh() {
  const [services, slices] = await Promise.all([
    getJson('/api/v1/services'),
    getJson('/apis/discovery.k8s.io/v1/endpointslices'),
  ]);
  const next = new Map();
  const add = (name, ip) => {
    const list = next.get(name) ?? [];
    if (!list.includes(ip)) list.push(ip);
    next.set(name, list);
  };
  const byService = new Map();
  for (const svc of services.items) {
    const name = `${svc.metadata.name}.${svc.metadata.namespace}${DOMAIN}`;
    byService.set(`${svc.metadata.namespace}/${svc.metadata.name}`, svc);
    if (svc.spec.clusterIP && svc.spec.clusterIP !== 'None') add(name, svc.spec.clusterIP);
    else next.set(name, next.get(name) ?? []);
  }
  for (const slice of slices.items) {
    if (slice.addressType !== 'IPv4') continue;
    const svcName = slice.metadata.labels?.['kubernetes.io/service-name'];
    const svc = svcName && byService.get(`${slice.metadata.namespace}/${svcName}`);
    if (!svc) continue;
    const headless = svc.spec.clusterIP === 'None';
    const name = `${svcName}.${slice.metadata.namespace}${DOMAIN}`;
    for (const ep of slice.endpoints ?? []) {
      const usable = ep.conditions?.ready !== false || svc.spec.publishNotReadyAddresses === true;
      if (!usable) continue;
      for (const ip of ep.addresses ?? []) {
        if (headless) add(name, ip);
        if (ep.hostname) add(`${ep.hostname}.${name}`, ip);
      }
    }
  }
  records = next;
}

async function refreshForever() {
  for (;;) {
    try {
      await refresh();
    } catch (err) {
      console.error(`cluster-dns: refresh failed: ${err.message}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function readName(msg, offset) {
  const labels = [];
  let pos = offset;
  for (;;) {
    const len = msg[pos];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: pos + 1 };
    if ((len & 0xc0) !== 0) throw new Error('compressed name in a question');
    labels.push(msg.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
}

function answer(msg) {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const { name, end } = readName(msg, 12);
  const qtype = msg.readUInt16BE(end);
  const qclass = msg.readUInt16BE(end + 2);
  const question = msg.subarray(12, end + 4);
  const ips = records.get(name);
  const rcode = ips === undefined ? 3 /* NXDOMAIN */ : 0;
  const answers = qtype === 1 && qclass === 1 && ips ? ips : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0);
  // QR=1, opcode copied, AA=1, RD copied, RA=0
  header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x7900) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(TTL_SECONDS, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
    return rr;
  });
  return Buffer.concat([header, question, ...rrs]);
}

await refresh().catch((err) => console.error(`cluster-dns: first refresh failed: ${err.message}`));
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  try {
    const reply = answer(msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  } catch (err) {
    console.error(`cluster-dns: bad query from ${rinfo.address}: ${err.message}`);
  }
});
socket.bind(Number(args.port), args.listen, () => {
  console.error(`cluster-dns: listening on ${args.listen}:${args.port}`);
});
void refreshForever();

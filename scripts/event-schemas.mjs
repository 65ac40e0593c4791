// Generates the JSON Schemas of the records on the public Kafka topics from the proto contract
// (proto/authority/v1), as their proto3 JSON form (what the record value is): docs/schemas/
//   audit-event.schema.json   AuditEvent on <prefix>audit
//   chain-record.schema.json  ChainRecord on <prefix>chain
//   checkpoint.schema.json    Checkpoint on <prefix>checkpoints
// Types come from the generated descriptors (packages/proto, built), descriptions from the .proto
// comments. `--check` writes nothing and fails when a committed schema differs (CI runs it through
// packages/proto/test/event-schemas.test.ts). Usage: node scripts/event-schemas.mjs [--check]
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const { pb } = require(join(root, 'packages/proto/dist/src/index.js'));
const outDir = join(root, 'docs/schemas');
const check = process.argv.includes('--check');

const TOPLEVEL = [
  ['audit-event.schema.json', pb.AuditEventSchema, '<prefix>audit', 'authority.audit.v1'],
  ['chain-record.schema.json', pb.ChainRecordSchema, '<prefix>chain', 'authority.chain.v1'],
  ['checkpoint.schema.json', pb.CheckpointSchema, '<prefix>checkpoints', 'authority.checkpoint.v1'],
];

/** Leading `//` comments of messages, fields, enums and enum values in the .proto files, by full name. */
function protoComments() {
  const out = new Map();
  const dir = join(root, 'proto/authority/v1');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.proto'))) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    const scope = [];
    let pending = [];
    for (const raw of lines) {
      const line = raw.trim();
      if (line.startsWith('//')) {
        pending.push(line.replace(/^\/\/ ?/, ''));
        continue;
      }
      const open = /^(message|enum|oneof)\s+(\w+)\s*\{/.exec(line);
      if (open) {
        if (open[1] !== 'oneof') {
          const name = `authority.v1.${[...scope.filter((s) => s.kind !== 'oneof').map((s) => s.name), open[2]].join('.')}`;
          if (pending.length > 0) out.set(name, pending.join(' '));
        }
        scope.push({ kind: open[1], name: open[2] });
        pending = [];
        continue;
      }
      if (line.startsWith('}')) {
        scope.pop();
        pending = [];
        continue;
      }
      const field =
        /^(?:optional\s+|repeated\s+)?[\w.]+\s+(\w+)\s*=\s*\d+/.exec(line) ?? /^(\w+)\s*=\s*\d+\s*;/.exec(line);
      if (field && scope.length > 0) {
        const owner = scope.filter((s) => s.kind !== 'oneof').map((s) => s.name);
        if (pending.length > 0) out.set(`authority.v1.${owner.join('.')}.${field[1]}`, pending.join(' '));
      }
      pending = [];
    }
  }
  return out;
}

const comments = protoComments();
const INT64 = new Set([3, 4, 6, 16, 18]);
const INT32 = new Set([5, 7, 13, 15, 17]);

function scalarSchema(t) {
  if (t === 9) return { type: 'string' };
  if (t === 8) return { type: 'boolean' };
  if (t === 12) return { type: 'string', contentEncoding: 'base64', description: 'bytes, base64' };
  if (INT64.has(t)) return { type: 'string', pattern: '^-?[0-9]+$', description: '64-bit integer, as a string' };
  if (INT32.has(t)) return { type: 'integer' };
  if (t === 1 || t === 2) return { type: 'number' };
  throw new Error(`scalar type ${t} not mapped`);
}

function withDescription(schema, text) {
  if (!text) return schema;
  return { description: schema.description ? `${text} (${schema.description})` : text, ...omit(schema, 'description') };
}

function omit(o, key) {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

function refName(typeName) {
  return typeName.replace(/^authority\.v1\./, '').replace(/\./g, '_');
}

function messageSchema(desc, defs) {
  const properties = {};
  const oneofs = new Map();
  for (const f of desc.fields) {
    let s;
    const item =
      f.fieldKind === 'list'
        ? f.listKind === 'scalar'
          ? scalarSchema(f.scalar)
          : f.listKind === 'enum'
            ? enumRef(f.enum, defs)
            : messageRef(f.message, defs)
        : undefined;
    if (f.fieldKind === 'list') s = { type: 'array', items: item };
    else if (f.fieldKind === 'scalar') s = scalarSchema(f.scalar);
    else if (f.fieldKind === 'enum') s = enumRef(f.enum, defs);
    else if (f.fieldKind === 'message') s = messageRef(f.message, defs);
    else throw new Error(`field kind ${f.fieldKind} not mapped (${desc.typeName}.${f.name})`);
    properties[f.jsonName] = withDescription(s, comments.get(`${desc.typeName}.${f.name}`));
    if (f.oneof) oneofs.set(f.oneof.name, [...(oneofs.get(f.oneof.name) ?? []), f.jsonName]);
  }
  const schema = {
    type: 'object',
    ...(comments.get(desc.typeName) ? { description: comments.get(desc.typeName) } : {}),
    properties,
    // proto3 JSON omits fields at their default value, and readers ignore fields added later.
    additionalProperties: true,
  };
  const exclusive = [...oneofs.values()].filter((names) => names.length > 1);
  if (exclusive.length > 0) {
    schema.allOf = exclusive.map((names) => ({
      description: `at most one of ${names.join(', ')}`,
      not: { anyOf: pairs(names).map(([a, b]) => ({ required: [a, b] })) },
    }));
  }
  return schema;
}

function pairs(names) {
  const out = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) out.push([names[i], names[j]]);
  return out;
}

function messageRef(desc, defs) {
  if (desc.typeName === 'google.protobuf.Timestamp')
    return { type: 'string', format: 'date-time', description: 'RFC 3339, UTC' };
  const name = refName(desc.typeName);
  if (!(name in defs)) {
    defs[name] = {}; // reserve first: recursive messages
    defs[name] = messageSchema(desc, defs);
  }
  return { $ref: `#/$defs/${name}` };
}

function enumRef(desc, defs) {
  const name = refName(desc.typeName);
  if (!(name in defs)) {
    defs[name] = {
      type: 'string',
      ...(comments.get(desc.typeName) ? { description: comments.get(desc.typeName) } : {}),
      enum: desc.values.map((v) => v.name),
    };
  }
  return { $ref: `#/$defs/${name}` };
}

function topLevel(desc, topic, ceType) {
  const defs = {};
  const body = messageSchema(desc, defs);
  const sorted = Object.fromEntries(
    Object.keys(defs)
      .sort()
      .map((k) => [k, defs[k]]),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://authority.example/schemas/${ceType}.json`,
    title: `${desc.name} (${topic}, ce_type ${ceType})`,
    ...body,
    description: `${body.description ?? desc.name} Generated from proto/authority/v1 by scripts/event-schemas.mjs: do not edit.`,
    ...(Object.keys(sorted).length > 0 ? { $defs: sorted } : {}),
  };
}

let stale = 0;
if (!check) mkdirSync(outDir, { recursive: true });
for (const [file, desc, topic, ceType] of TOPLEVEL) {
  const text = `${JSON.stringify(topLevel(desc, topic, ceType), null, 2)}\n`;
  const path = join(outDir, file);
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error(`docs/schemas/${file} is not what the proto generates: run node scripts/event-schemas.mjs`);
      stale++;
    }
  } else writeFileSync(path, text);
}
process.exit(stale > 0 ? 1 : 0);

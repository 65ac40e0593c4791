// A corrected gRPC loader for the contract.
//
// @authority/proto's loadAuthorityProto() builds the package definition with proto-loader's
// loadFileDescriptorSetFromBuffer, which goes through protobufjs Root.fromDescriptor. That path
// (protobufjs 7.x) ignores `keepCase: false` (request objects arrive snake_case: `display_name`,
// `agent_id`, while the generated TypeScript types say `displayName`, `agentId`), turns
// `map<string,string>` fields into repeated `FieldsEntry` messages, and leaks the `map_entry`
// option onto the enclosing message. This module repairs the reflected JSON (map fields restored,
// stray options removed, field and oneof member names camelCased) and loads it with the same
// PROTO_LOADER_OPTIONS, so runtime objects match the generated types. The wire format (field
// numbers and types) is unchanged, so it interoperates with any correct client or server.
//
// TODO(lead): move this fix into packages/proto (loadAuthorityProto) and delete this file.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as Protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';
import { loadAuthorityProto, PROTO_LOADER_OPTIONS, type AuthorityGrpc } from '@authority/proto';

interface JsonField {
  rule?: string;
  type: string;
  keyType?: string;
  id: number;
  options?: Record<string, unknown>;
}

interface JsonNamespace {
  options?: Record<string, unknown>;
  fields?: Record<string, JsonField>;
  oneofs?: Record<string, { oneof: string[] }>;
  nested?: Record<string, JsonNamespace>;
  values?: Record<string, number>;
  methods?: Record<string, unknown>;
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function repair(ns: JsonNamespace): void {
  const nested = ns.nested ?? {};
  // Map entries: nested types flagged map_entry with exactly `key` and `value`.
  const entries = new Map<string, { keyType: string; valueType: string }>();
  for (const [name, n] of Object.entries(nested)) {
    const key = n.fields?.['key'];
    const value = n.fields?.['value'];
    if (n.options?.['map_entry'] === true && key && value && Object.keys(n.fields ?? {}).length === 2) {
      entries.set(name, { keyType: key.type, valueType: value.type });
    }
  }
  if (ns.fields) {
    const fields: Record<string, JsonField> = {};
    for (const [name, f] of Object.entries(ns.fields)) {
      const entry = f.rule === 'repeated' ? entries.get(f.type) : undefined;
      fields[camel(name)] = entry ? { keyType: entry.keyType, type: entry.valueType, id: f.id } : f;
    }
    ns.fields = fields;
  }
  for (const name of entries.keys()) delete nested[name];
  if (ns.options && 'map_entry' in ns.options) {
    delete ns.options['map_entry'];
    if (Object.keys(ns.options).length === 0) delete ns.options;
  }
  if (ns.oneofs) {
    for (const o of Object.values(ns.oneofs)) o.oneof = o.oneof.map(camel);
  }
  for (const n of Object.values(nested)) repair(n);
  if (ns.nested && Object.keys(ns.nested).length === 0) delete ns.nested;
}

let cached: { packageDefinition: protoLoader.PackageDefinition; grpcObject: AuthorityGrpc } | undefined;

/** Same as loadAuthorityProto(), with camelCase fields and working map fields. */
/** True when a loaded contract already gives camelCase fields and working map fields. */
function isCorrect(grpcObject: AuthorityGrpc): boolean {
  try {
    const create = grpcObject.authority.v1.IssuerService.service.CreateTenant;
    const check = grpcObject.authority.v1.EnforcerService.service.Check;
    const t = create.requestDeserialize(create.requestSerialize({ tenant: 't', displayName: 'd' }));
    const c = check.requestDeserialize(
      check.requestSerialize({ token: 'x', requiredScope: 'a:b', context: { fields: { k: 'v' } } }),
    );
    return t.displayName === 'd' && c.requiredScope === 'a:b' && c.context?.fields?.['k'] === 'v';
  } catch {
    return false;
  }
}

export function loadContract(): { packageDefinition: protoLoader.PackageDefinition; grpcObject: AuthorityGrpc } {
  if (cached) return cached;
  const official = loadAuthorityProto();
  if (isCorrect(official.grpcObject)) {
    cached = official; // @authority/proto is fixed: use it as is
    return cached;
  }
  const original = official.packageDefinition;
  const files = new Map<string, Uint8Array>();
  for (const def of Object.values(original)) {
    const holder = (def as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos
      ? (def as { fileDescriptorProtos: Buffer[] })
      : (Object.values(def as Record<string, { requestType?: { fileDescriptorProtos?: Buffer[] } }>)[0]
          ?.requestType ?? { fileDescriptorProtos: [] });
    for (const bytes of holder.fileDescriptorProtos ?? []) {
      const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string };
      files.set(file.name, bytes);
    }
  }
  const set = descriptor.FileDescriptorSet.fromObject({
    file: [...files.values()].map((b) => descriptor.FileDescriptorProto.decode(b).toJSON()),
  });
  const root = (Protobuf.Root as unknown as { fromDescriptor(s: unknown): Protobuf.Root }).fromDescriptor(set);
  const json = root.toJSON() as JsonNamespace;
  repair(json);
  const packageDefinition = protoLoader.fromJSON(json as Protobuf.INamespace, PROTO_LOADER_OPTIONS);
  const grpcObject = grpc.loadPackageDefinition(packageDefinition) as unknown as AuthorityGrpc;
  cached = { packageDefinition, grpcObject };
  return cached;
}

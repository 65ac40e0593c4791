// @authority/proto: the TypeScript face of proto/authority/v1, the only contract.
// gRPC services use @grpc/proto-loader shapes (types from proto-loader-gen-types); Kafka events use
// protobuf-es messages for spec-compliant proto3 JSON. Both are generated from the same files.
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { create, fromJsonString, toJsonString, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { ProtoGrpcType as AuditorGrpc } from '../gen/grpc/auditor';
import type { ProtoGrpcType as EnforcerGrpc } from '../gen/grpc/enforcer';
import type { ProtoGrpcType as IssuerGrpc } from '../gen/grpc/issuer';
import type { ProtoGrpcType as PolicyGrpc } from '../gen/grpc/policy';
import * as pb from './pb';

export * from './grpc-types';
export { pb };
export type { Timestamp };

/** The options every service and client loads the contract with (must match proto-gen.sh). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type AuthorityGrpc = AuditorGrpc & EnforcerGrpc & IssuerGrpc & PolicyGrpc;

let cached: { packageDefinition: protoLoader.PackageDefinition; grpcObject: AuthorityGrpc } | undefined;

/**
 * The package's copy of the contract's `.proto` files, next to dist/ (scripts/copy-contract.mjs
 * makes it from proto/ at build and at `npm pack`): the package works wherever it is installed.
 */
export function protoRoot(): string {
  return join(__dirname, '..', '..', 'proto');
}

export const PROTO_FILES = [
  'authority/v1/common.proto',
  'authority/v1/events.proto',
  'authority/v1/enforcer.proto',
  'authority/v1/issuer.proto',
  'authority/v1/policy.proto',
  'authority/v1/auditor.proto',
];

/**
 * Loads the gRPC package definition from proto/authority/v1 with the same options the types were
 * generated with (proto-loader's documented path; a descriptor set would lose keepCase and maps).
 */
export function loadAuthorityProto(): { packageDefinition: protoLoader.PackageDefinition; grpcObject: AuthorityGrpc } {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(PROTO_FILES, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const grpcObject = grpc.loadPackageDefinition(packageDefinition) as unknown as AuthorityGrpc;
  cached = { packageDefinition, grpcObject };
  return cached;
}

/** Encodes an event message as proto3 JSON bytes (the Kafka record value). */
export function encodeEvent<D extends DescMessage>(schema: D, message: MessageShape<D>): Buffer {
  return Buffer.from(toJsonString(schema, message));
}

/**
 * Decodes a proto3 JSON event. Unknown fields are ignored so consumers keep working when a newer
 * producer adds fields (the audit schema only ever grows).
 */
export function decodeEvent<D extends DescMessage>(schema: D, bytes: Uint8Array | string): MessageShape<D> {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  return fromJsonString(schema, text, { ignoreUnknownFields: true });
}

export { create as createMessage, timestampDate, timestampFromDate };

/** proto-loader Timestamp shape (seconds as a string with longs=String) to/from Date. */
export function timestampToGrpc(d: Date): { seconds: string; nanos: number } {
  const ms = d.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export function grpcTimestampToDate(
  t: { seconds?: string | number | null; nanos?: number | null } | null | undefined,
): Date | undefined {
  if (!t) return undefined;
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000));
}

// From the protobuf-es messages the auditor decodes off Kafka (pb.AuditEvent) to the plain objects
// grpc-js serializes through proto-loader (enums as names, 64-bit integers as strings, Timestamps
// as {seconds, nanos}, oneof members as plain fields). Generic over the message descriptor, so
// fields added to the public audit schema pass through without code changes here.
//
// (A helper like this belongs next to the generated code in @authority/proto; it is here because
// the auditor is the one service that returns Kafka events over gRPC.)

// The parts of protobuf-es v2 descriptors used here (structural, so no direct dependency).
interface DescEnumLike {
  values: readonly { name: string; number: number }[];
}
interface DescFieldLike {
  localName: string;
  fieldKind: 'scalar' | 'enum' | 'message' | 'list' | 'map';
  listKind?: 'scalar' | 'enum' | 'message';
  mapKind?: 'scalar' | 'enum' | 'message';
  oneof?: { localName: string } | undefined;
  enum?: DescEnumLike;
  message?: DescMessageLike;
}
export interface DescMessageLike {
  typeName: string;
  fields: readonly DescFieldLike[];
}

const TIMESTAMP = 'google.protobuf.Timestamp';

function enumName(e: DescEnumLike | undefined, n: unknown): unknown {
  if (typeof n !== 'number') return n;
  return e?.values.find((v) => v.number === n)?.name ?? n;
}

function scalar(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v);
  return v;
}

function convertValue(kind: 'scalar' | 'enum' | 'message', field: DescFieldLike, v: unknown): unknown {
  if (kind === 'scalar') return scalar(v);
  if (kind === 'enum') return enumName(field.enum, v);
  return field.message ? toGrpcObject(field.message, v) : v;
}

/** A protobuf-es message as the proto-loader object shape (`keepCase: false`, `longs: String`, `enums: String`). */
export function toGrpcObject(desc: DescMessageLike, msg: unknown): Record<string, unknown> | null {
  if (msg === undefined || msg === null || typeof msg !== 'object') return null;
  const m = msg as Record<string, unknown>;
  if (desc.typeName === TIMESTAMP) {
    return { seconds: String(m['seconds'] ?? 0), nanos: Number(m['nanos'] ?? 0) };
  }
  const out: Record<string, unknown> = {};
  for (const field of desc.fields) {
    let value: unknown;
    if (field.oneof) {
      const o = m[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (o?.case !== field.localName) continue;
      value = o.value;
      out[field.oneof.localName] = field.localName;
    } else {
      value = m[field.localName];
    }
    if (value === undefined) continue;
    switch (field.fieldKind) {
      case 'scalar':
        out[field.localName] = scalar(value);
        break;
      case 'enum':
        out[field.localName] = enumName(field.enum, value);
        break;
      case 'message':
        out[field.localName] = toGrpcObject(field.message as DescMessageLike, value);
        break;
      case 'list':
        out[field.localName] = (value as unknown[]).map((v) => convertValue(field.listKind ?? 'scalar', field, v));
        break;
      case 'map':
        out[field.localName] = Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([k, v]) => [
            k,
            convertValue(field.mapKind ?? 'scalar', field, v),
          ]),
        );
        break;
    }
  }
  return out;
}

/** Seconds (and optional ms) since the epoch as a proto-loader Timestamp. */
export function grpcTimestamp(ms: number): { seconds: string; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

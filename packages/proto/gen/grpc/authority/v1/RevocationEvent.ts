// Original file: proto/authority/v1/events.proto

import type { RevocationKind as _authority_v1_RevocationKind, RevocationKind__Output as _authority_v1_RevocationKind__Output } from '../../authority/v1/RevocationKind';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RevocationEvent {
  'tenant'?: (string);
  'kind'?: (_authority_v1_RevocationKind);
  'jti'?: (string);
  'agentId'?: (string);
  'revokedBefore'?: (_google_protobuf_Timestamp | null);
  'revokedAt'?: (_google_protobuf_Timestamp | null);
  'forgetAfter'?: (_google_protobuf_Timestamp | null);
  'reason'?: (string);
}

export interface RevocationEvent__Output {
  'tenant': (string);
  'kind': (_authority_v1_RevocationKind__Output);
  'jti': (string);
  'agentId': (string);
  'revokedBefore': (_google_protobuf_Timestamp__Output | null);
  'revokedAt': (_google_protobuf_Timestamp__Output | null);
  'forgetAfter': (_google_protobuf_Timestamp__Output | null);
  'reason': (string);
}

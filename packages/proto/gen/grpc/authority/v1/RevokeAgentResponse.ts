// Original file: proto/authority/v1/issuer.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RevokeAgentResponse {
  'revokedBefore'?: (_google_protobuf_Timestamp | null);
}

export interface RevokeAgentResponse__Output {
  'revokedBefore': (_google_protobuf_Timestamp__Output | null);
}

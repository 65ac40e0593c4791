// Original file: proto/authority/v1/issuer.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface RevokeResponse {
  'revokedAt'?: (_google_protobuf_Timestamp | null);
  'alreadyRevoked'?: (boolean);
}

export interface RevokeResponse__Output {
  'revokedAt': (_google_protobuf_Timestamp__Output | null);
  'alreadyRevoked': (boolean);
}

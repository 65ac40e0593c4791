// Original file: proto/authority/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface IssuanceDetail {
  'jti'?: (string);
  'parentJti'?: (string);
  'scopes'?: (string)[];
  'resources'?: (string)[];
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'depth'?: (number);
  'keyId'?: (string);
}

export interface IssuanceDetail__Output {
  'jti': (string);
  'parentJti': (string);
  'scopes': (string)[];
  'resources': (string)[];
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'depth': (number);
  'keyId': (string);
}

// Original file: proto/authority/v1/issuer.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface Envelope {
  'token'?: (string);
  'jti'?: (string);
  'agentId'?: (string);
  'tenant'?: (string);
  'notBefore'?: (_google_protobuf_Timestamp | null);
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'depth'?: (number);
  'keyId'?: (string);
  'sealed'?: (boolean);
  'agentChain'?: (string)[];
}

export interface Envelope__Output {
  'token': (string);
  'jti': (string);
  'agentId': (string);
  'tenant': (string);
  'notBefore': (_google_protobuf_Timestamp__Output | null);
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'depth': (number);
  'keyId': (string);
  'sealed': (boolean);
  'agentChain': (string)[];
}

// Original file: proto/authority/v1/issuer.proto

import type { KeyStatus as _authority_v1_KeyStatus, KeyStatus__Output as _authority_v1_KeyStatus__Output } from '../../authority/v1/KeyStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface PublicKey {
  'tenant'?: (string);
  'keyId'?: (string);
  'publicKey'?: (Buffer | Uint8Array | string);
  'status'?: (_authority_v1_KeyStatus);
  'createdAt'?: (_google_protobuf_Timestamp | null);
  'verifyUntil'?: (_google_protobuf_Timestamp | null);
  'signedUntil'?: (_google_protobuf_Timestamp | null);
  'compromised'?: (boolean);
}

export interface PublicKey__Output {
  'tenant': (string);
  'keyId': (string);
  'publicKey': (Buffer);
  'status': (_authority_v1_KeyStatus__Output);
  'createdAt': (_google_protobuf_Timestamp__Output | null);
  'verifyUntil': (_google_protobuf_Timestamp__Output | null);
  'signedUntil': (_google_protobuf_Timestamp__Output | null);
  'compromised': (boolean);
}

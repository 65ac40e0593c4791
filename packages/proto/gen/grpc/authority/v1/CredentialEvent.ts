// Original file: proto/authority/v1/events.proto

import type { CredentialKind as _authority_v1_CredentialKind, CredentialKind__Output as _authority_v1_CredentialKind__Output } from '../../authority/v1/CredentialKind';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface CredentialEvent {
  'tenant'?: (string);
  'credentialId'?: (string);
  'kind'?: (_authority_v1_CredentialKind);
  'secretSha256'?: (string);
  'revoked'?: (boolean);
  'createdAt'?: (_google_protobuf_Timestamp | null);
}

export interface CredentialEvent__Output {
  'tenant': (string);
  'credentialId': (string);
  'kind': (_authority_v1_CredentialKind__Output);
  'secretSha256': (string);
  'revoked': (boolean);
  'createdAt': (_google_protobuf_Timestamp__Output | null);
}

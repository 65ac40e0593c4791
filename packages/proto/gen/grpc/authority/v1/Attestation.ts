// Original file: proto/authority/v1/auditor.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from '../../authority/v1/Checkpoint';
import type { Long } from '@grpc/proto-loader';

export interface Attestation {
  'tenant'?: (string);
  'agentId'?: (string);
  'resourcePattern'?: (string);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
  'allowedCount'?: (number | string | Long);
  'deniedCount'?: (number | string | Long);
  'checkpoint'?: (_authority_v1_Checkpoint | null);
  'issuedAt'?: (_google_protobuf_Timestamp | null);
  'keyId'?: (string);
  'signature'?: (Buffer | Uint8Array | string);
  'neverAccessed'?: (boolean);
  'allowedActedCount'?: (number | string | Long);
  'allowedDelegatedCount'?: (number | string | Long);
}

export interface Attestation__Output {
  'tenant': (string);
  'agentId': (string);
  'resourcePattern': (string);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
  'allowedCount': (string);
  'deniedCount': (string);
  'checkpoint': (_authority_v1_Checkpoint__Output | null);
  'issuedAt': (_google_protobuf_Timestamp__Output | null);
  'keyId': (string);
  'signature': (Buffer);
  'neverAccessed': (boolean);
  'allowedActedCount': (string);
  'allowedDelegatedCount': (string);
}

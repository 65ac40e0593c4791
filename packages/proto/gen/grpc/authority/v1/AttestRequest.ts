// Original file: proto/authority/v1/auditor.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface AttestRequest {
  'tenant'?: (string);
  'agentId'?: (string);
  'resourcePattern'?: (string);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
}

export interface AttestRequest__Output {
  'tenant': (string);
  'agentId': (string);
  'resourcePattern': (string);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
}

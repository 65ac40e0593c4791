// Original file: proto/authority/v1/auditor.proto

import type { Decision as _authority_v1_Decision, Decision__Output as _authority_v1_Decision__Output } from '../../authority/v1/Decision';
import type { ReasonCode as _authority_v1_ReasonCode, ReasonCode__Output as _authority_v1_ReasonCode__Output } from '../../authority/v1/ReasonCode';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface QueryEventsRequest {
  'tenant'?: (string);
  'agentId'?: (string);
  'action'?: (string);
  'resourceGlob'?: (string);
  'decision'?: (_authority_v1_Decision);
  'reason'?: (_authority_v1_ReasonCode);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface QueryEventsRequest__Output {
  'tenant': (string);
  'agentId': (string);
  'action': (string);
  'resourceGlob': (string);
  'decision': (_authority_v1_Decision__Output);
  'reason': (_authority_v1_ReasonCode__Output);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
  'pageSize': (number);
  'pageToken': (string);
}

// Original file: proto/authority/v1/auditor.proto

import type { AuditEvent as _authority_v1_AuditEvent, AuditEvent__Output as _authority_v1_AuditEvent__Output } from '../../authority/v1/AuditEvent';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { AgentRole as _authority_v1_AgentRole, AgentRole__Output as _authority_v1_AgentRole__Output } from '../../authority/v1/AgentRole';
import type { Long } from '@grpc/proto-loader';

export interface ChainEntry {
  'seq'?: (number | string | Long);
  'hash'?: (string);
  'prevHash'?: (string);
  'rawEvent'?: (string);
  'event'?: (_authority_v1_AuditEvent | null);
  'recordedAt'?: (_google_protobuf_Timestamp | null);
  'agentRole'?: (_authority_v1_AgentRole);
}

export interface ChainEntry__Output {
  'seq': (string);
  'hash': (string);
  'prevHash': (string);
  'rawEvent': (string);
  'event': (_authority_v1_AuditEvent__Output | null);
  'recordedAt': (_google_protobuf_Timestamp__Output | null);
  'agentRole': (_authority_v1_AgentRole__Output);
}

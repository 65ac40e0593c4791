// Original file: proto/authority/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Actor as _authority_v1_Actor, Actor__Output as _authority_v1_Actor__Output } from '../../authority/v1/Actor';
import type { Decision as _authority_v1_Decision, Decision__Output as _authority_v1_Decision__Output } from '../../authority/v1/Decision';
import type { ReasonCode as _authority_v1_ReasonCode, ReasonCode__Output as _authority_v1_ReasonCode__Output } from '../../authority/v1/ReasonCode';
import type { CheckDetail as _authority_v1_CheckDetail, CheckDetail__Output as _authority_v1_CheckDetail__Output } from '../../authority/v1/CheckDetail';
import type { IssuanceDetail as _authority_v1_IssuanceDetail, IssuanceDetail__Output as _authority_v1_IssuanceDetail__Output } from '../../authority/v1/IssuanceDetail';
import type { RevocationDetail as _authority_v1_RevocationDetail, RevocationDetail__Output as _authority_v1_RevocationDetail__Output } from '../../authority/v1/RevocationDetail';
import type { ApprovalDetail as _authority_v1_ApprovalDetail, ApprovalDetail__Output as _authority_v1_ApprovalDetail__Output } from '../../authority/v1/ApprovalDetail';
import type { PolicyChangeDetail as _authority_v1_PolicyChangeDetail, PolicyChangeDetail__Output as _authority_v1_PolicyChangeDetail__Output } from '../../authority/v1/PolicyChangeDetail';
import type { KeyDetail as _authority_v1_KeyDetail, KeyDetail__Output as _authority_v1_KeyDetail__Output } from '../../authority/v1/KeyDetail';

export interface AuditEvent {
  'eventId'?: (string);
  'tenant'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
  'source'?: (string);
  'actor'?: (_authority_v1_Actor | null);
  'action'?: (string);
  'resource'?: (string);
  'decision'?: (_authority_v1_Decision);
  'reason'?: (_authority_v1_ReasonCode);
  'message'?: (string);
  'policyVersion'?: (string);
  'traceId'?: (string);
  'spanId'?: (string);
  'check'?: (_authority_v1_CheckDetail | null);
  'issuance'?: (_authority_v1_IssuanceDetail | null);
  'revocation'?: (_authority_v1_RevocationDetail | null);
  'approval'?: (_authority_v1_ApprovalDetail | null);
  'policyChange'?: (_authority_v1_PolicyChangeDetail | null);
  'key'?: (_authority_v1_KeyDetail | null);
  'detail'?: "check"|"issuance"|"revocation"|"approval"|"policyChange"|"key";
}

export interface AuditEvent__Output {
  'eventId': (string);
  'tenant': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
  'source': (string);
  'actor': (_authority_v1_Actor__Output | null);
  'action': (string);
  'resource': (string);
  'decision': (_authority_v1_Decision__Output);
  'reason': (_authority_v1_ReasonCode__Output);
  'message': (string);
  'policyVersion': (string);
  'traceId': (string);
  'spanId': (string);
  'check'?: (_authority_v1_CheckDetail__Output | null);
  'issuance'?: (_authority_v1_IssuanceDetail__Output | null);
  'revocation'?: (_authority_v1_RevocationDetail__Output | null);
  'approval'?: (_authority_v1_ApprovalDetail__Output | null);
  'policyChange'?: (_authority_v1_PolicyChangeDetail__Output | null);
  'key'?: (_authority_v1_KeyDetail__Output | null);
  'detail'?: "check"|"issuance"|"revocation"|"approval"|"policyChange"|"key";
}

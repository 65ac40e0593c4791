// Original file: proto/authority/v1/events.proto

import type { ApprovalStatus as _authority_v1_ApprovalStatus, ApprovalStatus__Output as _authority_v1_ApprovalStatus__Output } from '../../authority/v1/ApprovalStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ApprovalDetail {
  'approvalId'?: (string);
  'status'?: (_authority_v1_ApprovalStatus);
  'requiredScope'?: (string);
  'purpose'?: (string);
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'requestDigest'?: (string);
  'comment'?: (string);
}

export interface ApprovalDetail__Output {
  'approvalId': (string);
  'status': (_authority_v1_ApprovalStatus__Output);
  'requiredScope': (string);
  'purpose': (string);
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'requestDigest': (string);
  'comment': (string);
}

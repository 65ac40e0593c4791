// Original file: proto/authority/v1/issuer.proto

import type { ApprovalStatus as _authority_v1_ApprovalStatus, ApprovalStatus__Output as _authority_v1_ApprovalStatus__Output } from '../../authority/v1/ApprovalStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface Approval {
  'approvalId'?: (string);
  'tenant'?: (string);
  'agentId'?: (string);
  'requiredScope'?: (string);
  'action'?: (string);
  'resource'?: (string);
  'purpose'?: (string);
  'status'?: (_authority_v1_ApprovalStatus);
  'createdAt'?: (_google_protobuf_Timestamp | null);
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'decidedBy'?: (string);
  'rootJti'?: (string);
  'recordCount'?: (number);
  'contextFields'?: ({[key: string]: string});
  'chain'?: (string)[];
  'agentChain'?: (string)[];
  'requestDigest'?: (string);
  '_recordCount'?: "recordCount";
}

export interface Approval__Output {
  'approvalId': (string);
  'tenant': (string);
  'agentId': (string);
  'requiredScope': (string);
  'action': (string);
  'resource': (string);
  'purpose': (string);
  'status': (_authority_v1_ApprovalStatus__Output);
  'createdAt': (_google_protobuf_Timestamp__Output | null);
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'decidedBy': (string);
  'rootJti': (string);
  'recordCount'?: (number);
  'contextFields': ({[key: string]: string});
  'chain': (string)[];
  'agentChain': (string)[];
  'requestDigest': (string);
  '_recordCount'?: "recordCount";
}

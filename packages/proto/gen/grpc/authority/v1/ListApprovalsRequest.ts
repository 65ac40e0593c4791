// Original file: proto/authority/v1/issuer.proto

import type { ApprovalStatus as _authority_v1_ApprovalStatus, ApprovalStatus__Output as _authority_v1_ApprovalStatus__Output } from '../../authority/v1/ApprovalStatus';

export interface ListApprovalsRequest {
  'tenant'?: (string);
  'status'?: (_authority_v1_ApprovalStatus);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListApprovalsRequest__Output {
  'tenant': (string);
  'status': (_authority_v1_ApprovalStatus__Output);
  'pageSize': (number);
  'pageToken': (string);
}

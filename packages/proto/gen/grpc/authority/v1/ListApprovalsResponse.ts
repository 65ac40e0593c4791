// Original file: proto/authority/v1/issuer.proto

import type { Approval as _authority_v1_Approval, Approval__Output as _authority_v1_Approval__Output } from '../../authority/v1/Approval';

export interface ListApprovalsResponse {
  'approvals'?: (_authority_v1_Approval)[];
  'nextPageToken'?: (string);
}

export interface ListApprovalsResponse__Output {
  'approvals': (_authority_v1_Approval__Output)[];
  'nextPageToken': (string);
}

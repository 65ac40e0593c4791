// Original file: proto/authority/v1/issuer.proto

import type { Approval as _authority_v1_Approval, Approval__Output as _authority_v1_Approval__Output } from '../../authority/v1/Approval';

export interface GetApprovalResponse {
  'approval'?: (_authority_v1_Approval | null);
}

export interface GetApprovalResponse__Output {
  'approval': (_authority_v1_Approval__Output | null);
}

// Original file: proto/authority/v1/enforcer.proto

import type { CheckRequest as _authority_v1_CheckRequest, CheckRequest__Output as _authority_v1_CheckRequest__Output } from '../../authority/v1/CheckRequest';

export interface BatchCheckRequest {
  'checks'?: (_authority_v1_CheckRequest)[];
}

export interface BatchCheckRequest__Output {
  'checks': (_authority_v1_CheckRequest__Output)[];
}

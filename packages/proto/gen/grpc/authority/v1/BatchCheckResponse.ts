// Original file: proto/authority/v1/enforcer.proto

import type { CheckResponse as _authority_v1_CheckResponse, CheckResponse__Output as _authority_v1_CheckResponse__Output } from '../../authority/v1/CheckResponse';

export interface BatchCheckResponse {
  'results'?: (_authority_v1_CheckResponse)[];
}

export interface BatchCheckResponse__Output {
  'results': (_authority_v1_CheckResponse__Output)[];
}

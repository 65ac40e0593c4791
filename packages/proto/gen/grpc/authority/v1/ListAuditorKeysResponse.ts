// Original file: proto/authority/v1/auditor.proto

import type { AuditorKey as _authority_v1_AuditorKey, AuditorKey__Output as _authority_v1_AuditorKey__Output } from '../../authority/v1/AuditorKey';

export interface ListAuditorKeysResponse {
  'keys'?: (_authority_v1_AuditorKey)[];
}

export interface ListAuditorKeysResponse__Output {
  'keys': (_authority_v1_AuditorKey__Output)[];
}

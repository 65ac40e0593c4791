// Original file: proto/authority/v1/events.proto

import type { KeyStatus as _authority_v1_KeyStatus, KeyStatus__Output as _authority_v1_KeyStatus__Output } from '../../authority/v1/KeyStatus';

export interface KeyDetail {
  'keyId'?: (string);
  'status'?: (_authority_v1_KeyStatus);
}

export interface KeyDetail__Output {
  'keyId': (string);
  'status': (_authority_v1_KeyStatus__Output);
}

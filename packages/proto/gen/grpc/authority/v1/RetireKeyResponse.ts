// Original file: proto/authority/v1/issuer.proto

import type { PublicKey as _authority_v1_PublicKey, PublicKey__Output as _authority_v1_PublicKey__Output } from '../../authority/v1/PublicKey';

export interface RetireKeyResponse {
  'retired'?: (_authority_v1_PublicKey | null);
  'active'?: (_authority_v1_PublicKey | null);
}

export interface RetireKeyResponse__Output {
  'retired': (_authority_v1_PublicKey__Output | null);
  'active': (_authority_v1_PublicKey__Output | null);
}

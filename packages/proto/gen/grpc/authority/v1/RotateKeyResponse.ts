// Original file: proto/authority/v1/issuer.proto

import type { PublicKey as _authority_v1_PublicKey, PublicKey__Output as _authority_v1_PublicKey__Output } from '../../authority/v1/PublicKey';

export interface RotateKeyResponse {
  'active'?: (_authority_v1_PublicKey | null);
  'previous'?: (_authority_v1_PublicKey | null);
}

export interface RotateKeyResponse__Output {
  'active': (_authority_v1_PublicKey__Output | null);
  'previous': (_authority_v1_PublicKey__Output | null);
}

// Original file: proto/authority/v1/issuer.proto

import type { PublicKey as _authority_v1_PublicKey, PublicKey__Output as _authority_v1_PublicKey__Output } from '../../authority/v1/PublicKey';

export interface ListKeysResponse {
  'keys'?: (_authority_v1_PublicKey)[];
}

export interface ListKeysResponse__Output {
  'keys': (_authority_v1_PublicKey__Output)[];
}

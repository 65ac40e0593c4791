// Original file: proto/authority/v1/issuer.proto

import type { PublicKey as _authority_v1_PublicKey, PublicKey__Output as _authority_v1_PublicKey__Output } from '../../authority/v1/PublicKey';
import type { Credential as _authority_v1_Credential, Credential__Output as _authority_v1_Credential__Output } from '../../authority/v1/Credential';

export interface CreateTenantResponse {
  'tenant'?: (string);
  'key'?: (_authority_v1_PublicKey | null);
  'adminCredential'?: (_authority_v1_Credential | null);
}

export interface CreateTenantResponse__Output {
  'tenant': (string);
  'key': (_authority_v1_PublicKey__Output | null);
  'adminCredential': (_authority_v1_Credential__Output | null);
}

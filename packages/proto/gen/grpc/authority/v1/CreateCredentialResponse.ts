// Original file: proto/authority/v1/issuer.proto

import type { Credential as _authority_v1_Credential, Credential__Output as _authority_v1_Credential__Output } from '../../authority/v1/Credential';

export interface CreateCredentialResponse {
  'credential'?: (_authority_v1_Credential | null);
}

export interface CreateCredentialResponse__Output {
  'credential': (_authority_v1_Credential__Output | null);
}

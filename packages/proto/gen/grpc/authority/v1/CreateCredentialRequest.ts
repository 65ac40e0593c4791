// Original file: proto/authority/v1/issuer.proto

import type { CredentialKind as _authority_v1_CredentialKind, CredentialKind__Output as _authority_v1_CredentialKind__Output } from '../../authority/v1/CredentialKind';

export interface CreateCredentialRequest {
  'tenant'?: (string);
  'kind'?: (_authority_v1_CredentialKind);
}

export interface CreateCredentialRequest__Output {
  'tenant': (string);
  'kind': (_authority_v1_CredentialKind__Output);
}

// Original file: proto/authority/v1/issuer.proto

import type { CredentialKind as _authority_v1_CredentialKind, CredentialKind__Output as _authority_v1_CredentialKind__Output } from '../../authority/v1/CredentialKind';

export interface Credential {
  'credentialId'?: (string);
  'tenant'?: (string);
  'kind'?: (_authority_v1_CredentialKind);
  'secret'?: (string);
}

export interface Credential__Output {
  'credentialId': (string);
  'tenant': (string);
  'kind': (_authority_v1_CredentialKind__Output);
  'secret': (string);
}

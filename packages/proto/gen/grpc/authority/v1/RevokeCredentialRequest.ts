// Original file: proto/authority/v1/issuer.proto


export interface RevokeCredentialRequest {
  'tenant'?: (string);
  'credentialId'?: (string);
}

export interface RevokeCredentialRequest__Output {
  'tenant': (string);
  'credentialId': (string);
}

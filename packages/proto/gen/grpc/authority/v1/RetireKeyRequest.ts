// Original file: proto/authority/v1/issuer.proto


export interface RetireKeyRequest {
  'tenant'?: (string);
  'keyId'?: (string);
  'compromised'?: (boolean);
  'reason'?: (string);
}

export interface RetireKeyRequest__Output {
  'tenant': (string);
  'keyId': (string);
  'compromised': (boolean);
  'reason': (string);
}

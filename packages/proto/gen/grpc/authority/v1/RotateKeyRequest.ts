// Original file: proto/authority/v1/issuer.proto


export interface RotateKeyRequest {
  'tenant'?: (string);
}

export interface RotateKeyRequest__Output {
  'tenant': (string);
}

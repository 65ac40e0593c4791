// Original file: proto/authority/v1/issuer.proto


export interface RevokeRequest {
  'tenant'?: (string);
  'jti'?: (string);
  'reason'?: (string);
}

export interface RevokeRequest__Output {
  'tenant': (string);
  'jti': (string);
  'reason': (string);
}

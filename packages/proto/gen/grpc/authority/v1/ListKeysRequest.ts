// Original file: proto/authority/v1/issuer.proto


export interface ListKeysRequest {
  'tenant'?: (string);
}

export interface ListKeysRequest__Output {
  'tenant': (string);
}

// Original file: proto/authority/v1/auditor.proto


export interface GetChainStatusRequest {
  'tenant'?: (string);
}

export interface GetChainStatusRequest__Output {
  'tenant': (string);
}

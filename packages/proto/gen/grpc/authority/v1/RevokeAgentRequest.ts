// Original file: proto/authority/v1/issuer.proto


export interface RevokeAgentRequest {
  'tenant'?: (string);
  'agentId'?: (string);
  'reason'?: (string);
}

export interface RevokeAgentRequest__Output {
  'tenant': (string);
  'agentId': (string);
  'reason': (string);
}

// Original file: proto/authority/v1/events.proto


export interface RevocationDetail {
  'jti'?: (string);
  'agentId'?: (string);
  'reason'?: (string);
}

export interface RevocationDetail__Output {
  'jti': (string);
  'agentId': (string);
  'reason': (string);
}

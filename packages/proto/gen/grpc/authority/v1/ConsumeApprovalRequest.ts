// Original file: proto/authority/v1/issuer.proto


export interface ConsumeApprovalRequest {
  'tenant'?: (string);
  'approvalId'?: (string);
  'agentId'?: (string);
  'requiredScope'?: (string);
  'action'?: (string);
  'resource'?: (string);
  'rootJti'?: (string);
}

export interface ConsumeApprovalRequest__Output {
  'tenant': (string);
  'approvalId': (string);
  'agentId': (string);
  'requiredScope': (string);
  'action': (string);
  'resource': (string);
  'rootJti': (string);
}

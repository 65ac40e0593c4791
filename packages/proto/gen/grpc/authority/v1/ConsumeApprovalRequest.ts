// Original file: proto/authority/v1/issuer.proto


export interface ConsumeApprovalRequest {
  'tenant'?: (string);
  'approvalId'?: (string);
  'agentId'?: (string);
  'requiredScope'?: (string);
  'action'?: (string);
  'resource'?: (string);
  'rootJti'?: (string);
  'purpose'?: (string);
  'recordCount'?: (number);
  'contextFields'?: ({[key: string]: string});
  'chain'?: (string)[];
  'agentChain'?: (string)[];
  '_recordCount'?: "recordCount";
}

export interface ConsumeApprovalRequest__Output {
  'tenant': (string);
  'approvalId': (string);
  'agentId': (string);
  'requiredScope': (string);
  'action': (string);
  'resource': (string);
  'rootJti': (string);
  'purpose': (string);
  'recordCount'?: (number);
  'contextFields': ({[key: string]: string});
  'chain': (string)[];
  'agentChain': (string)[];
  '_recordCount'?: "recordCount";
}

// Original file: proto/authority/v1/issuer.proto


export interface RequestApprovalRequest {
  'tenant'?: (string);
  'agentId'?: (string);
  'requiredScope'?: (string);
  'action'?: (string);
  'resource'?: (string);
  'purpose'?: (string);
  'rootJti'?: (string);
  'recordCount'?: (number);
  'contextFields'?: ({[key: string]: string});
  'chain'?: (string)[];
  'agentChain'?: (string)[];
  '_recordCount'?: "recordCount";
}

export interface RequestApprovalRequest__Output {
  'tenant': (string);
  'agentId': (string);
  'requiredScope': (string);
  'action': (string);
  'resource': (string);
  'purpose': (string);
  'rootJti': (string);
  'recordCount'?: (number);
  'contextFields': ({[key: string]: string});
  'chain': (string)[];
  'agentChain': (string)[];
  '_recordCount'?: "recordCount";
}

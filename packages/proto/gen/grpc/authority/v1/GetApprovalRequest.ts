// Original file: proto/authority/v1/issuer.proto


export interface GetApprovalRequest {
  'tenant'?: (string);
  'approvalId'?: (string);
}

export interface GetApprovalRequest__Output {
  'tenant': (string);
  'approvalId': (string);
}

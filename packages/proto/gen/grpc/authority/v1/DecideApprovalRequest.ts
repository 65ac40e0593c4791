// Original file: proto/authority/v1/issuer.proto


export interface DecideApprovalRequest {
  'tenant'?: (string);
  'approvalId'?: (string);
  'approve'?: (boolean);
  'comment'?: (string);
}

export interface DecideApprovalRequest__Output {
  'tenant': (string);
  'approvalId': (string);
  'approve': (boolean);
  'comment': (string);
}

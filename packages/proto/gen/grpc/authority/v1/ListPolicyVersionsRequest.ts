// Original file: proto/authority/v1/policy.proto


export interface ListPolicyVersionsRequest {
  'tenant'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListPolicyVersionsRequest__Output {
  'tenant': (string);
  'pageSize': (number);
  'pageToken': (string);
}

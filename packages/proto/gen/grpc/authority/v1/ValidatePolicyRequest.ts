// Original file: proto/authority/v1/policy.proto


export interface ValidatePolicyRequest {
  'tenant'?: (string);
  'yaml'?: (string);
}

export interface ValidatePolicyRequest__Output {
  'tenant': (string);
  'yaml': (string);
}

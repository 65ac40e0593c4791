// Original file: proto/authority/v1/policy.proto


export interface ValidationIssue {
  'line'?: (number);
  'column'?: (number);
  'path'?: (string);
  'message'?: (string);
}

export interface ValidationIssue__Output {
  'line': (number);
  'column': (number);
  'path': (string);
  'message': (string);
}

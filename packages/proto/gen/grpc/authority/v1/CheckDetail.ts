// Original file: proto/authority/v1/events.proto


export interface CheckDetail {
  'decisionId'?: (string);
  'requiredScope'?: (string);
  'purpose'?: (string);
  'recordCount'?: (number);
  'approvalId'?: (string);
  'enforcerId'?: (string);
  '_recordCount'?: "recordCount";
}

export interface CheckDetail__Output {
  'decisionId': (string);
  'requiredScope': (string);
  'purpose': (string);
  'recordCount'?: (number);
  'approvalId': (string);
  'enforcerId': (string);
  '_recordCount'?: "recordCount";
}

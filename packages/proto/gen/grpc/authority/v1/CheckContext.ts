// Original file: proto/authority/v1/enforcer.proto


export interface CheckContext {
  'purpose'?: (string);
  'recordCount'?: (number);
  'fields'?: ({[key: string]: string});
  '_recordCount'?: "recordCount";
}

export interface CheckContext__Output {
  'purpose': (string);
  'recordCount'?: (number);
  'fields': ({[key: string]: string});
  '_recordCount'?: "recordCount";
}

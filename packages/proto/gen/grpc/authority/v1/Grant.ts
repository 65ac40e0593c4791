// Original file: proto/authority/v1/issuer.proto


export interface Grant {
  'scopes'?: (string)[];
  'resources'?: (string)[];
  'contextFields'?: (string)[];
  'constraintsJson'?: (string);
}

export interface Grant__Output {
  'scopes': (string)[];
  'resources': (string)[];
  'contextFields': (string)[];
  'constraintsJson': (string);
}

// Original file: proto/authority/v1/events.proto


export interface Actor {
  'agentId'?: (string);
  'jtiChain'?: (string)[];
  'principal'?: (string);
  'agentChain'?: (string)[];
  'chainUnverified'?: (boolean);
}

export interface Actor__Output {
  'agentId': (string);
  'jtiChain': (string)[];
  'principal': (string);
  'agentChain': (string)[];
  'chainUnverified': (boolean);
}

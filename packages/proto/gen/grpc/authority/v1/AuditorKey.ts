// Original file: proto/authority/v1/auditor.proto


export interface AuditorKey {
  'keyId'?: (string);
  'publicKey'?: (Buffer | Uint8Array | string);
  'active'?: (boolean);
}

export interface AuditorKey__Output {
  'keyId': (string);
  'publicKey': (Buffer);
  'active': (boolean);
}

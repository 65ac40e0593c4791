// Original file: proto/authority/v1/issuer.proto


export interface CreateTenantRequest {
  'tenant'?: (string);
  'displayName'?: (string);
}

export interface CreateTenantRequest__Output {
  'tenant': (string);
  'displayName': (string);
}
